-- Bond (LNST's BondRecipe): host1 bonds eth0 and eth1 (bonding_mode,
-- miimon_value); host2 uses eth0; addresses on bond0 and host2.eth0.
--   lnst run --vm recipes/enrt/bond.lua -p perf_duration=5
local enrt = require "lnst.enrt"
local bonding = require "lnst.enrt.mixins.bonding"

return enrt.recipe {
  name = "Bond",
  description = "A bond of two NICs on host1 against one NIC on host2",
  requires = { kinds = { "bond" } },
  hosts = {
    host1 = { eth0 = { network = "net1" }, eth1 = { network = "net1" } },
    host2 = { eth0 = { network = "net1" } },
  },
  mixins = { "bonding", "offload", "common_hw", "perf_reverse", "drop_caches", "perf_tweaks" },
  defaults = { offload_combinations = {
    { gro = "on", gso = "on", tso = "on", tx = "on" }, { gro = "off", gso = "on", tso = "on", tx = "on" },
    { gro = "on", gso = "off", tso = "off", tx = "on" }, { gro = "on", gso = "on", tso = "off", tx = "off" } } },
  configure = function(r, cfg)
    local P, h1, h2 = r.params, r.hosts.host1, r.hosts.host2
    local b = bonding.create(h1, "bond0", { h1.eth0, h1.eth1 }, P)
    for i, dev in ipairs { b, h2.eth0 } do
      cfg:ip_add(dev, enrt.addr(P.net_ipv4, i))
      cfg:ip_add(dev, enrt.addr(P.net_ipv6, i))
    end
    h2.eth0:up_and_wait()
    b:up_and_wait()
    cfg.pairs = { { b, h2.eth0 } }
    cfg.devs = { h1.eth0, h1.eth1, h2.eth0 }
  end,
}
