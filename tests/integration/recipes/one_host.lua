-- One host with one NIC that is brought up: the smallest recipe a pool
-- machine can take (remote tests).
local lnst = require "lnst"
return lnst.recipe {
  name = "OneHost",
  hosts = { h = { eth0 = { network = "n" } } },
  test = function(r)
    r.hosts.h.eth0:up()
    r:check(r.hosts.h.eth0.state ~= nil, "eth0 is mapped")
  end,
}
