-- Two hosts; h1 sits in a long job while h2 has an address and a background
-- job: for the remote tests (busy agents, an agent lost mid-run). Test
-- traffic in 203.0.113.0/24 (the machines' control network is 198.51.100.0/24).
local lnst = require "lnst"
return lnst.recipe {
  name = "RemoteLong",
  params = { seconds = lnst.param.int { default = 30 } },
  hosts = { h1 = { eth0 = { network = "n" } }, h2 = { eth0 = { network = "n" } } },
  test = function(r)
    r.hosts.h1.eth0:ip_add("203.0.113.1/24")
    r.hosts.h1.eth0:up()
    r.hosts.h2.eth0:ip_add("203.0.113.2/24")
    r.hosts.h2:run({ "sleep", "1000" }, { bg = true })
    r.hosts.h1:run({ "sleep", r.params.seconds }, { timeout = r.params.seconds + 5 })
  end,
}
