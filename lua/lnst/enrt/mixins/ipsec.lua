-- lnst.enrt.mixins.ipsec: the sub-configurations of LNST's IPsec recipes
-- (IpsecEspAeadRecipe, IpsecEspAhCompRecipe): one per IP version of
-- ip_versions and algorithm of cfg.ipsec.algorithms (set by the recipe's
-- configure, with cfg.ipsec.endpoints = { dev1, dev2 } and
-- cfg.ipsec.commands(P, alg, ip1, ip2) -> { host1's commands, host2's }).
-- Applied: `ip xfrm policy flush` and `ip xfrm state flush` on both hosts,
-- then the commands (ip xfrm state/policy add ...); removed: both flushed
-- again. Flows of the other IP version are dropped, and the recipe's ping
-- test only runs the pings of the sub-configuration's version.
local enrt = require "lnst.enrt"
local p = require "lnst.param"
local results = require "lnst.results"

local M = {}

-- upstream's generate_key: length bits of 0x0b.
function M.key(bits) return "0x" .. ("0b"):rep(math.floor(bits / 8)) end

local function flush(h)
  h:run("ip xfrm policy flush", { level = results.NORMAL })
  h:run("ip xfrm state flush", { level = results.NORMAL })
end

local function hosts(cfg)
  local e = cfg.ipsec.endpoints
  return e[1].host, e[2].host
end

M.ipsec = {
  params = {
    ipsec_mode = p.choice { choices = { "transport", "tunnel" }, default = "transport", doc = "xfrm mode" },
  },
  subconfigs = function(P, cfg)
    local list = {}
    for _, ipv in ipairs(P.ip_versions) do
      for _, alg in ipairs(cfg.ipsec.algorithms) do list[#list + 1] = { ipv = ipv, alg = alg } end
    end
    return list
  end,
  describe_sub = function(v) return string.format("IPsec %s: %s", v.ipv, v.alg.desc) end,
  apply_variant = function(r, cfg, v)
    local e = cfg.ipsec.endpoints
    local ip1, ip2 = enrt.strip(cfg:ips(e[1], v.ipv)[1]), enrt.strip(cfg:ips(e[2], v.ipv)[1])
    cfg.ipsec.current = v
    local cmds = cfg.ipsec.commands(r.params, v.alg, ip1, ip2)
    for i, h in ipairs { hosts(cfg) } do
      flush(h)
      for _, c in ipairs(cmds[i]) do
        local j = h:run(c, { level = results.NORMAL })
        if not j.passed then error(string.format("IPsec on %s: '%s' failed: %s", h.name, c,
          tostring((j.stderr or ""):match("[^\n]+"))), 0) end
      end
    end
  end,
  remove_variant = function(_, cfg)
    cfg.ipsec.current = nil
    for _, h in ipairs { hosts(cfg) } do flush(h) end
  end,
  keep_flows = function(v, flows) return flows[1].ipver == v.ipv end,
}

-- The ping lists of the current sub-configuration's IP version (upstream
-- pings once per sub-configuration: the first address pair, one way).
function M.current_pings(cfg, list)
  local cur = cfg.ipsec.current
  if not cur or list[1].ipver ~= cur.ipv then return nil end
  return { list[1] }
end

return M
