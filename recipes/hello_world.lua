-- HelloWorld: two hosts on one network ping each other both ways.
--   lnst run recipes/hello_world.lua -p count=3
local lnst = require "lnst"
local p = lnst.param

return lnst.recipe {
  name = "HelloWorld",
  description = "Two hosts, one network, ping in both directions",
  params = {
    count = p.int { default = 5, min = 1, doc = "echo requests per direction" },
    net = p.str { default = "198.51.100", doc = "first three octets of the test /24" },
  },
  hosts = {
    host1 = { eth0 = { network = "net1" } },
    host2 = { eth0 = { network = "net1" } },
  },
  test = function(r)
    local h1, h2 = r.hosts.host1, r.hosts.host2
    local a1, a2 = r.params.net .. ".1", r.params.net .. ".2"
    h1.eth0:ip_add(a1 .. "/24")
    h2.eth0:ip_add(a2 .. "/24")
    h1.eth0:up()
    h2.eth0:up()
    local count = r.params.count
    h1:run({ "ping", "-c", count, "-i", "0.2", "-W", "2", a2 })
    h2:run({ "ping", "-c", count, "-i", "0.2", "-W", "2", a1 })
  end,
}
