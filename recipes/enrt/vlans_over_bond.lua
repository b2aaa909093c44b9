-- VlansOverBond (LNST's VlansOverBondRecipe): host1 bonds eth0 and eth1
-- (bond0) and runs three vlans (vlan0_id, vlan1_id, vlan2_id) on it; host2
-- runs the same vlans on eth0; one subnet per vlan (/26 quarters of
-- net_ipv4, :k+1::/64 of net_ipv6); pings and flows per vlan.
--   lnst run --vm recipes/enrt/vlans_over_bond.lua -p perf_duration=5
local enrt = require "lnst.enrt"
local bonding = require "lnst.enrt.mixins.bonding"
local vlans = require "lnst.enrt.vlans"

return enrt.recipe {
  name = "VlansOverBond",
  description = "Three vlans over a bond on host1, over one NIC on host2",
  requires = { kinds = { "bond", "vlan" } },
  hosts = {
    host1 = { eth0 = { network = "net1" }, eth1 = { network = "net1" } },
    host2 = { eth0 = { network = "net1" } },
  },
  mixins = { "bonding", "offload", "common_hw", "perf_reverse", "drop_caches", "perf_tweaks" },
  params = vlans.PARAMS,
  defaults = { offload_combinations = enrt.OFFLOADS5 },
  configure = function(r, cfg)
    local P, h1, h2 = r.params, r.hosts.host1, r.hosts.host2
    local lower = { bonding.create(h1, "bond0", { h1.eth0, h1.eth1 }, P), h2.eth0 }
    h2.eth0:up()
    vlans.configure(r, cfg, lower)
    cfg.devs = { h1.eth0, h1.eth1, h2.eth0 }
  end,
}
