-- lnst.enrt.vlans: the three-vlan configuration of LNST's Vlans,
-- VlansOverBond and VlansOverTeam recipes: vlans vlan0_id, vlan1_id and
-- vlan2_id on each host's lower device (eth0, a bond or a team), one subnet
-- per vlan (/26 quarters of net_ipv4 and :k+1::/64 of net_ipv6, host i
-- .i / ::i), pings and flows per vlan.
local enrt = require "lnst.enrt"
local d = require "lnst.device"
local p = require "lnst.param"

local M = {}

M.PARAMS = {
  vlan0_id = p.int { default = 10, min = 1, max = 4094, doc = "first vlan" },
  vlan1_id = p.int { default = 20, min = 1, max = 4094, doc = "second vlan" },
  vlan2_id = p.int { default = 30, min = 1, max = 4094, doc = "third vlan" },
  net_ipv6 = p.network { family = 6, default = "2001:db8:10::/48", doc = "vlan k gets :k+1::/64" },
}

-- lower: { host1's lower device, host2's }; sets cfg.pairs (one per vlan).
function M.configure(r, cfg, lower)
  local P = r.params
  local vl = { {}, {} }
  local base = P.net_ipv6:gsub("::/%d+$", "")
  for i, h in ipairs { r.hosts.host1, r.hosts.host2 } do
    for k, id in ipairs { P.vlan0_id, P.vlan1_id, P.vlan2_id } do
      local key = "vlan" .. (k - 1)
      h[key] = d.vlan { realdev = lower[i], vlan_id = id }
      cfg:ip_add(h[key], enrt.addr(P.net_ipv4, (k - 1) * 64 + i, 26))
      cfg:ip_add(h[key], string.format("%s:%d::%d/64", base, k, i))
      h[key]:up()
      vl[i][k] = h[key]
    end
  end
  cfg.pairs = { { vl[1][1], vl[2][1] }, { vl[1][2], vl[2][2] }, { vl[1][3], vl[2][3] } }
end

return M
