-- lnst.enrt.mixins.bonding: LNST's BondingMixin. Parameters bonding_mode,
-- miimon_value (upstream: mandatory; here defaulting to what upstream's CI
-- passes: active-backup, 5) and fail_over_mac; M.create(cfg, host, name,
-- slaves, P) makes the bond with the slaves enslaved and up.
local p = require "lnst.param"
local d = require "lnst.device"

local M = {}

M.bonding = {
  params = {
    bonding_mode = p.choice { choices = { "balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad",
      "balance-tlb", "balance-alb" }, default = "active-backup", doc = "bond mode" },
    miimon_value = p.int { default = 5, min = 0, doc = "bond miimon (ms)" },
    fail_over_mac = p.choice { choices = { "none", "active", "follow" }, default = "none", doc = "bond fail_over_mac" },
  },
  describe = function(r)
    return string.format("bonding: mode %s, miimon %d", r.params.bonding_mode, r.params.miimon_value)
  end,
}

function M.create(host, key, slaves, P)
  host[key] = d.bond { mode = P.bonding_mode, miimon = P.miimon_value, fail_over_mac = P.fail_over_mac }
  for _, s in ipairs(slaves) do
    s:down()
    s.master = host[key]
    s:up()
  end
  host[key]:up()
  return host[key]
end

return M
