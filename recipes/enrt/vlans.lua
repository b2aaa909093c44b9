-- Vlans (LNST's VlansRecipe): three 802.1Q vlans (vlan0_id, vlan1_id,
-- vlan2_id) on eth0 of both hosts, one subnet each (/26 quarters of
-- net_ipv4, :1:/:2:/:3: /64s of the IPv6 range); pings and flows per vlan.
--   lnst run --vm recipes/enrt/vlans.lua -p perf_duration=5
local enrt = require "lnst.enrt"
local vlans = require "lnst.enrt.vlans"

return enrt.recipe {
  name = "Vlans",
  description = "Three vlans on one NIC per host",
  requires = { kinds = { "vlan" } },
  hosts = {
    host1 = { eth0 = { network = "net1" } },
    host2 = { eth0 = { network = "net1" } },
  },
  mixins = { "offload", "common_hw", "perf_reverse", "drop_caches", "perf_tweaks" },
  params = vlans.PARAMS,
  defaults = { offload_combinations = enrt.OFFLOADS5 },
  configure = function(r, cfg)
    local h1, h2 = r.hosts.host1, r.hosts.host2
    h1.eth0:up()
    h2.eth0:up()
    vlans.configure(r, cfg, { h1.eth0, h2.eth0 })
    cfg.devs = { r.hosts.host1.eth0, r.hosts.host2.eth0 }
  end,
}
