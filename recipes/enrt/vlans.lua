-- Vlans (LNST's VlansRecipe): three 802.1Q vlans (vlan0_id, vlan1_id,
-- vlan2_id) on eth0 of both hosts, one subnet each (/26 quarters of
-- net_ipv4, :1:/:2:/:3: /64s of the IPv6 range); pings and flows per vlan.
--   lnst run --vm recipes/enrt/vlans.lua -p perf_duration=5
local enrt = require "lnst.enrt"
local d = require "lnst.device"
local p = require "lnst.param"

return enrt.recipe {
  name = "Vlans",
  description = "Three vlans on one NIC per host",
  requires = { kinds = { "vlan" } },
  hosts = {
    host1 = { eth0 = { network = "net1" } },
    host2 = { eth0 = { network = "net1" } },
  },
  mixins = { "offload", "common_hw", "perf_reverse", "drop_caches", "perf_tweaks" },
  params = {
    vlan0_id = p.int { default = 10, min = 1, max = 4094, doc = "first vlan" },
    vlan1_id = p.int { default = 20, min = 1, max = 4094, doc = "second vlan" },
    vlan2_id = p.int { default = 30, min = 1, max = 4094, doc = "third vlan" },
    net_ipv6 = p.network { family = 6, default = "2001:db8:10::/48", doc = "vlan k gets :k+1::/64" },
  },
  defaults = { offload_combinations = enrt.OFFLOADS5 },
  configure = function(r, cfg)
    local P = r.params
    local vl = { {}, {} }
    for i, h in ipairs { r.hosts.host1, r.hosts.host2 } do
      h.eth0:up()
      for k, id in ipairs { P.vlan0_id, P.vlan1_id, P.vlan2_id } do
        local key = "vlan" .. (k - 1)
        h[key] = d.vlan { realdev = h.eth0, vlan_id = id }
        cfg:ip_add(h[key], enrt.addr(P.net_ipv4, (k - 1) * 64 + i, 26))
        local base = P.net_ipv6:gsub("::/%d+$", "")
        cfg:ip_add(h[key], string.format("%s:%d::%d/64", base, k, i))
        h[key]:up()
        vl[i][k] = h[key]
      end
    end
    cfg.pairs = { { vl[1][1], vl[2][1] }, { vl[1][2], vl[2][2] }, { vl[1][3], vl[2][3] } }
    cfg.devs = { r.hosts.host1.eth0, r.hosts.host2.eth0 }
  end,
}
