-- Device operations that must fail with errors naming host and device.
local lnst = require "lnst"
return lnst.recipe {
  name = "DeviceErrors",
  hosts = { h1 = { eth0 = { network = "n" } } },
  test = function(r)
    local eth0 = r.hosts.h1.eth0
    eth0:ip_add("198.51.100.1/24")
    eth0:ip_add("198.51.100.1/24") -- line 9: EEXIST
  end,
}
