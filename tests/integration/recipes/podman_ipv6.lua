-- What a network of a container host gives before the recipe configures
-- it: no address (no IPAM) and no default route (internal), and IPv6
-- enabled: a global IPv6 address the recipe sets works (test_podman_hello.sh,
-- under each backend).
local lnst = require "lnst"
return lnst.recipe {
  name = "PodmanIPv6",
  hosts = { h1 = { eth0 = { network = "n" } }, h2 = { eth0 = { network = "n" } } },
  test = function(r)
    local h1, h2 = r.hosts.h1, r.hosts.h2
    h1:run({ "sh", "-c", '[ -z "$(ip -4 -o addr show dev eth0)" ] && '
      .. '[ -z "$(ip -6 -o addr show dev eth0 scope global)" ]' }, { desc = "no IPAM: no address on eth0" })
    h1:run({ "sh", "-c", '[ -z "$(ip -4 route show default)" ] && [ -z "$(ip -6 route show default)" ]' },
      { desc = "internal: no default route" })
    h1.eth0:ip_add("2001:db8:6::1/64")
    h2.eth0:ip_add("2001:db8:6::2/64")
    h1.eth0:up()
    h2.eth0:up()
    -- until duplicate address detection is done with the address
    h1:run({ "sh", "-c", "for i in $(seq 50); do [ -z \"$(ip -6 addr show dev eth0 tentative)\" ] && break; "
      .. "sleep 0.1; done; ping -6 -c 2 -i 0.2 -W 2 2001:db8:6::2" }, { desc = "IPv6 between containers" })
  end,
}
