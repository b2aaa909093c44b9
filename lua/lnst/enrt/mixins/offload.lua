-- lnst.enrt.mixins.offload: LNST's OffloadSubConfigMixin. One
-- sub-configuration per entry of offload_combinations ({ gro = "on",
-- tso = "off", ... }): set with ethtool on cfg.offload_devs (default
-- cfg.devs), all listed features back on afterwards. sctp_stream flows are
-- dropped under a combination that turns something off while gso stays on
-- (upstream's rule). An empty offload_combinations (the base default) is one
-- sub-configuration that leaves the offloads alone.
local p = require "lnst.param"

local M = {}

local function on(v) return v == true or v == "on" end

local function keys(combo)
  local k = {}
  for name in pairs(combo) do k[#k + 1] = name end
  table.sort(k)
  return k
end

M.offload = {
  params = { offload_combinations = p.list { of = p.dict {}, default = {},
    doc = "ethtool -K settings ({gro = 'off', ...}), one sub-configuration each" } },
  subconfigs = function(P)
    local list = {}
    for _, c in ipairs(P.offload_combinations or {}) do
      for k, v in pairs(c) do
        if type(k) ~= "string" or not (v == true or v == false or v == "on" or v == "off") then
          error(string.format("parameter 'offload_combinations': %s=%s: values are \"on\" or \"off\"",
            tostring(k), tostring(v)), 0)
        end
      end
      list[#list + 1] = c
    end
    if #list == 0 then list[1] = {} end -- no combination: one sub-configuration, offloads untouched
    return list
  end,
  describe_sub = function(c)
    if next(c) == nil then return "Offload settings: unchanged" end
    local parts = {}
    for _, k in ipairs(keys(c)) do parts[#parts + 1] = k .. " " .. (on(c[k]) and "on" or "off") end
    return "Offload settings: " .. table.concat(parts, " ")
  end,
  apply_variant = function(_, cfg, c)
    local set = {}
    for k, v in pairs(c) do set[k] = on(v) end
    for _, dev in ipairs(cfg.offload_devs or cfg.devs) do dev.offloads = set end
  end,
  remove_variant = function(_, cfg, c)
    local set = {}
    for k in pairs(c) do set[k] = true end
    for _, dev in ipairs(cfg.offload_devs or cfg.devs) do dev.offloads = set end
  end,
  keep_flows = function(c, flows)
    local any_off = false
    for _, v in pairs(c) do any_off = any_off or not on(v) end
    if not any_off or (c.gso ~= nil and not on(c.gso)) then return true end
    for _, f in ipairs(flows) do
      if f.type == "sctp_stream" then return false end
    end
    return true
  end,
}

return M
