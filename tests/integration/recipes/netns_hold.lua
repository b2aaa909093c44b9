-- Namespaces with a device moved in and a job running in one, then a long
-- wait: the test kills the controller meanwhile (nothing may remain).
local lnst = require "lnst"
return lnst.recipe {
  name = "NetnsHold",
  hosts = { h1 = { eth0 = { network = "n" } } },
  test = function(r)
    local h1 = r.hosts.h1
    h1.ns1 = lnst.netns()
    h1.ns2 = lnst.netns()
    h1.ns1.eth0 = h1.eth0
    h1.ns1.eth0:ip_add("198.51.100.1/24")
    h1.ns2:run({ "sleep", "600" }, { bg = true })
    io.stdout:write("READY\n")
    io.stdout:flush()
    r:wait(60)
  end,
}
