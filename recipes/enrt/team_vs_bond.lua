-- TeamVsBond (LNST's TeamVsBondRecipe): host1 teams eth0 and eth1 (team0,
-- runner_name), host2 bonds them (bond0, bonding_mode, miimon_value);
-- addresses on team0 and bond0.
--   lnst run --vm recipes/enrt/team_vs_bond.lua -p perf_duration=5
local enrt = require "lnst.enrt"
local bonding = require "lnst.enrt.mixins.bonding"
local team = require "lnst.enrt.team"

return enrt.recipe {
  name = "TeamVsBond",
  description = "A team of two NICs on host1 against a bond of two NICs on host2",
  requires = { kinds = { "team", "bond" }, tools = { "teamd" } },
  hosts = {
    host1 = { eth0 = { network = "net1" }, eth1 = { network = "net1" } },
    host2 = { eth0 = { network = "net1" }, eth1 = { network = "net1" } },
  },
  mixins = { "bonding", "offload", "common_hw", "perf_reverse", "drop_caches", "perf_tweaks" },
  params = team.PARAMS,
  defaults = { offload_combinations = {
    { gro = "on", gso = "on", tso = "on", tx = "on" }, { gro = "off", gso = "on", tso = "on", tx = "on" },
    { gro = "on", gso = "off", tso = "off", tx = "on" }, { gro = "on", gso = "on", tso = "off", tx = "off" } } },
  configure = function(r, cfg)
    local P, h1, h2 = r.params, r.hosts.host1, r.hosts.host2
    team.create(h1, "team0", { h1.eth0, h1.eth1 }, P)
    local b = bonding.create(h2, "bond0", { h2.eth0, h2.eth1 }, P)
    for i, dev in ipairs { h1.team0, b } do
      cfg:ip_add(dev, enrt.addr(P.net_ipv4, i))
      cfg:ip_add(dev, enrt.addr(P.net_ipv6, i))
      dev:up_and_wait()
    end
    cfg.pairs = { { h1.team0, b } }
    cfg.devs = { h1.eth0, h1.eth1, h2.eth0, h2.eth1 }
  end,
}
