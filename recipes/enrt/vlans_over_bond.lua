-- VlansOverBond (LNST's VlansOverBondRecipe): host1 bonds eth0 and eth1
-- (bond0) and runs three vlans (vlan0_id, vlan1_id, vlan2_id) on it; host2
-- runs the same vlans on eth0; one subnet per vlan (/26 quarters of
-- net_ipv4, :k+1::/64 of net_ipv6); pings and flows per vlan.
--   lnst run --vm recipes/enrt/vlans_over_bond.lua -p perf_duration=5
local enrt = require "lnst.enrt"
local bonding = require "lnst.enrt.mixins.bonding"
local d = require "lnst.device"
local p = require "lnst.param"

return enrt.recipe {
  name = "VlansOverBond",
  description = "Three vlans over a bond on host1, over one NIC on host2",
  requires = { kinds = { "bond", "vlan" } },
  hosts = {
    host1 = { eth0 = { network = "net1" }, eth1 = { network = "net1" } },
    host2 = { eth0 = { network = "net1" } },
  },
  mixins = { "bonding", "offload", "common_hw", "perf_reverse", "drop_caches", "perf_tweaks" },
  params = {
    vlan0_id = p.int { default = 10, min = 1, max = 4094, doc = "first vlan" },
    vlan1_id = p.int { default = 20, min = 1, max = 4094, doc = "second vlan" },
    vlan2_id = p.int { default = 30, min = 1, max = 4094, doc = "third vlan" },
    net_ipv6 = p.network { family = 6, default = "2001:db8:10::/48", doc = "vlan k gets :k+1::/64" },
  },
  defaults = { offload_combinations = enrt.OFFLOADS5 },
  configure = function(r, cfg)
    local P, h1, h2 = r.params, r.hosts.host1, r.hosts.host2
    local lower = { bonding.create(h1, "bond0", { h1.eth0, h1.eth1 }, P), h2.eth0 }
    h2.eth0:up()
    local vl = { {}, {} }
    local base = P.net_ipv6:gsub("::/%d+$", "")
    for i, h in ipairs { h1, h2 } do
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
    cfg.devs = { h1.eth0, h1.eth1, h2.eth0 }
  end,
}
