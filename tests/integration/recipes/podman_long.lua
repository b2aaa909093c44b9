-- Sits in a long job, to be interrupted or killed (test_podman_cleanup.sh).
local lnst = require "lnst"
return lnst.recipe {
  name = "PodmanLong",
  hosts = { h1 = { eth0 = { network = "n" } }, h2 = { eth0 = { network = "n" } } },
  test = function(r)
    r.hosts.h1.eth0:ip_add("198.51.100.1/24")
    r.hosts.h1.eth0:up()
    r.hosts.h2:run({ "sleep", "1000" }, { bg = true })
    print("test body running")
    io.stdout:flush()
    r.hosts.h1:run({ "sleep", "60" })
  end,
}
