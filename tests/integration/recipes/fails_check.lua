-- A recipe whose check fails on purpose: the run must exit 1.
local lnst = require "lnst"
return lnst.recipe {
  name = "FailsCheck",
  hosts = { h1 = { eth0 = { network = "n" } }, h2 = { eth0 = { network = "n" } } },
  test = function(r)
    r.hosts.h1.eth0:ip_add("198.51.100.1/24")
    r.hosts.h1.eth0:up()
    -- nobody has this address: ping fails, and so does the check
    local job = r.hosts.h1:run({ "ping", "-c", "1", "-W", "1", "198.51.100.77" })
    r:check(job.passed, "198.51.100.77 answers")
  end,
}
