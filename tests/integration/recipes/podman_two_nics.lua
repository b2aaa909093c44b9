-- Two NICs of one host on the same network (the netlink backend of the
-- podman provisioner): each NIC reaches the peer in its own subnet.
local lnst = require "lnst"
return lnst.recipe {
  name = "TwoNicsOneNetwork",
  hosts = {
    host1 = { eth0 = { network = "net1" }, eth1 = { network = "net1" } },
    host2 = { eth0 = { network = "net1" } },
  },
  test = function(r)
    local h1, h2 = r.hosts.host1, r.hosts.host2
    h1.eth0:ip_add("198.51.100.1/24")
    h1.eth1:ip_add("203.0.113.1/24")
    h2.eth0:ip_add("198.51.100.2/24")
    h2.eth0:ip_add("203.0.113.2/24")
    h1.eth0:up()
    h1.eth1:up()
    h2.eth0:up()
    r:check(h1.eth0.hwaddr ~= h1.eth1.hwaddr, "host1's NICs are two devices")
    h2:run({ "ping", "-c", "2", "-i", "0.2", "-W", "2", "198.51.100.1" })
    h2:run({ "ping", "-c", "2", "-i", "0.2", "-W", "2", "203.0.113.1" })
    h1:run({ "ping", "-c", "2", "-i", "0.2", "-W", "2", "-I", "eth1", "203.0.113.2" })
  end,
}
