-- A recipe with a breakpoint: pauses at a terminal, runs through otherwise.
local lnst = require "lnst"
return lnst.recipe {
  name = "Breakpoint",
  hosts = { h1 = { eth0 = { network = "n" } } },
  test = function(r)
    r.hosts.h1.eth0:ip_add("198.51.100.1/24")
    lnst.pause("look at the address")
    r:check(#r.hosts.h1.eth0.ips == 1, "one address")
  end,
}
