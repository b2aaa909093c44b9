-- Networks are isolated from each other: host1 and host3 share net1 and
-- reach each other; host2 is alone on net2 with an address of the same
-- subnet and must not be reachable (upstream's CNI backend put every network
-- on one bridge, which this catches).
local lnst = require "lnst"
return lnst.recipe {
  name = "NetworkIsolation",
  hosts = {
    host1 = { eth0 = { network = "net1" } },
    host2 = { eth0 = { network = "net2" } },
    host3 = { eth0 = { network = "net1" } },
  },
  test = function(r)
    local h = r.hosts
    h.host1.eth0:ip_add("198.51.100.1/24")
    h.host2.eth0:ip_add("198.51.100.2/24")
    h.host3.eth0:ip_add("198.51.100.3/24")
    for _, name in ipairs { "host1", "host2", "host3" } do h[name].eth0:up() end
    h.host1:run({ "ping", "-c", "2", "-i", "0.2", "-W", "2", "198.51.100.3" }, { desc = "same network" })
    h.host1:run({ "ping", "-c", "2", "-i", "0.2", "-W", "1", "198.51.100.2" },
      { expect = false, desc = "other network: unreachable" })
  end,
}
