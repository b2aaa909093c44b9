-- A recipe that sits in a long job, to be interrupted.
local lnst = require "lnst"
return lnst.recipe {
  name = "LongJob",
  hosts = { h1 = { eth0 = { network = "n" } }, h2 = { eth0 = { network = "n" } } },
  test = function(r)
    r.hosts.h1.eth0:ip_add("198.51.100.1/24")
    r.hosts.h1.eth0:up()
    r.hosts.h2:run({ "sleep", "1000" }, { bg = true })
    r.hosts.h1:run({ "sleep", "30" })
  end,
}
