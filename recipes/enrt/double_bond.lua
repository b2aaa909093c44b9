-- DoubleBond (LNST's DoubleBondRecipe): bond0 of eth0 and eth1 on both hosts.
--   lnst run --vm recipes/enrt/double_bond.lua -p perf_duration=5
local enrt = require "lnst.enrt"
local bonding = require "lnst.enrt.mixins.bonding"

return enrt.recipe {
  name = "DoubleBond",
  description = "Bonds of two NICs on both hosts",
  requires = { kinds = { "bond" } },
  hosts = {
    host1 = { eth0 = { network = "net1" }, eth1 = { network = "net1" } },
    host2 = { eth0 = { network = "net1" }, eth1 = { network = "net1" } },
  },
  mixins = { "bonding", "offload", "common_hw", "perf_reverse", "drop_caches", "perf_tweaks" },
  defaults = { offload_combinations = {
    { gro = "on", gso = "on", tso = "on", tx = "on" }, { gro = "off", gso = "on", tso = "on", tx = "on" },
    { gro = "on", gso = "off", tso = "off", tx = "on" }, { gro = "on", gso = "on", tso = "off", tx = "off" } } },
  configure = function(r, cfg)
    local P, bonds, devs = r.params, {}, {}
    for i, h in ipairs { r.hosts.host1, r.hosts.host2 } do
      bonds[i] = bonding.create(h, "bond0", { h.eth0, h.eth1 }, P)
      cfg:ip_add(bonds[i], enrt.addr(P.net_ipv4, i))
      cfg:ip_add(bonds[i], enrt.addr(P.net_ipv6, i))
      devs[#devs + 1], devs[#devs + 2] = h.eth0, h.eth1
    end
    bonds[1]:up_and_wait()
    bonds[2]:up_and_wait()
    cfg.pairs = { { bonds[1], bonds[2] } }
    cfg.devs = devs
  end,
}
