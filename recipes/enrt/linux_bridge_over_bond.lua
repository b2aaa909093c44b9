-- LinuxBridgeOverBond (LNST's LinuxBridgeOverBondRecipe): on both hosts
-- bond0 (eth0, eth1; bonding_mode, miimon_value) enslaved to br0, the
-- addresses on br0.
--   lnst run --vm recipes/enrt/linux_bridge_over_bond.lua -p perf_duration=5
local enrt = require "lnst.enrt"
local bonding = require "lnst.enrt.mixins.bonding"
local d = require "lnst.device"

return enrt.recipe {
  name = "LinuxBridgeOverBond",
  description = "A bridge over a bond of two NICs on both hosts",
  requires = { kinds = { "bond", "bridge" } },
  hosts = {
    host1 = { eth0 = { network = "net1" }, eth1 = { network = "net1" } },
    host2 = { eth0 = { network = "net1" }, eth1 = { network = "net1" } },
  },
  mixins = { "bonding", "offload", "common_hw", "perf_reverse", "drop_caches", "perf_tweaks" },
  defaults = { offload_combinations = enrt.OFFLOADS5 },
  configure = function(r, cfg)
    local P = r.params
    local brs = {}
    for i, h in ipairs { r.hosts.host1, r.hosts.host2 } do
      local b = bonding.create(h, "bond0", { h.eth0, h.eth1 }, P)
      h.br0 = d.bridge {}
      b.master = h.br0
      b:up()
      cfg:ip_add(h.br0, enrt.addr(P.net_ipv4, i))
      cfg:ip_add(h.br0, enrt.addr(P.net_ipv6, i))
      h.br0:up_and_wait()
      brs[i] = h.br0
    end
    cfg.pairs = { { brs[1], brs[2] } }
    local h1, h2 = r.hosts.host1, r.hosts.host2
    cfg.devs = { h1.eth0, h1.eth1, h2.eth0, h2.eth1 }
  end,
}
