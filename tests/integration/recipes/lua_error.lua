-- A recipe whose test body raises a Lua error after configuring a device.
local lnst = require "lnst"
return lnst.recipe {
  name = "LuaError",
  hosts = { h1 = { eth0 = { network = "n" } } },
  test = function(r)
    r.hosts.h1.eth0:ip_add("198.51.100.1/24")
    local t = nil
    return t.field -- line 9: indexing nil
  end,
}
