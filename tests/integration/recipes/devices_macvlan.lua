-- macvlan on the recipe NIC talks to the peer host; a macvtap on it is
-- created with its mode.
local lnst = require "lnst"
local d = lnst.device

return lnst.recipe {
  name = "DevicesMacvlan",
  hosts = { h1 = { eth0 = { network = "n" } }, h2 = { eth0 = { network = "n" } } },
  test = function(r)
    local h1, h2 = r.hosts.h1, r.hosts.h2
    h1.mv0 = d.macvlan { realdev = h1.eth0, mode = "bridge", hwaddr = "02:00:00:00:01:01" }
    r:check(h1.mv0.name == "t_macvlan0" and h1.mv0.hwaddr == "02:00:00:00:01:01", "macvlan with its MAC")
    h1.eth0:up()
    h1.mv0:ip_add("198.51.100.1/24")
    h1.mv0:up()
    h2.eth0:ip_add("198.51.100.2/24")
    h2.eth0:up()
    h1:run({ "ping", "-c", "3", "-i", "0.2", "-W", "2", "198.51.100.2" })
    h2:run({ "ping", "-c", "3", "-i", "0.2", "-W", "2", "198.51.100.1" })
    local j = h2:run({ "ip", "neigh", "show", "198.51.100.1" })
    r:check(j.stdout:find("02:00:00:00:01:01", 1, true) ~= nil, "the peer reached the macvlan's own MAC")

    h1.tap0 = d.macvtap { realdev = h1.eth0, mode = "private", name = "mvt0" }
    j = h1:run({ "ip", "-d", "link", "show", "mvt0" })
    r:check(j.stdout:find("macvtap mode private", 1, true) ~= nil, "macvtap in private mode")
  end,
}
