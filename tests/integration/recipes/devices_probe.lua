-- The agent's capability probe as hello reports it (run by
-- test_devices_probe.sh): one line per kind, "kind NAME yes" for the kinds
-- the agent says the kernel accepts, "kind NAME no REASON" for the others.
local lnst = require "lnst"

return lnst.recipe {
  name = "DevicesProbe",
  hosts = { h1 = {} },
  test = function(r)
    local caps = r.hosts.h1.capabilities
    if type(caps.kinds) ~= "table" or type(caps.kinds_absent) ~= "table" then
      error("host h1: hello has no capabilities.kinds/kinds_absent: the probe failed")
    end
    for _, k in ipairs(caps.kinds) do
      print("kind " .. k .. " yes")
      if caps.kinds_absent[k] then error("kind " .. k .. " is both accepted and absent") end
    end
    local absent = {}
    for k in pairs(caps.kinds_absent) do absent[#absent + 1] = k end
    table.sort(absent)
    for _, k in ipairs(absent) do print("kind " .. k .. " no " .. caps.kinds_absent[k]) end
  end,
}
