-- DoubleTeam (LNST's DoubleTeamRecipe): both hosts team eth0 and eth1
-- (team0, teamd with runner_name); addresses on team0.
--   lnst run --vm recipes/enrt/double_team.lua -p perf_duration=5
local enrt = require "lnst.enrt"
local team = require "lnst.enrt.team"

return enrt.recipe {
  name = "DoubleTeam",
  description = "A team of two NICs on both hosts",
  requires = { kinds = { "team" }, tools = { "teamd" } },
  hosts = {
    host1 = { eth0 = { network = "net1" }, eth1 = { network = "net1" } },
    host2 = { eth0 = { network = "net1" }, eth1 = { network = "net1" } },
  },
  mixins = { "offload", "common_hw", "perf_reverse", "drop_caches", "perf_tweaks" },
  params = team.PARAMS,
  defaults = { offload_combinations = {
    { gro = "on", gso = "on", tso = "on", tx = "on" }, { gro = "off", gso = "on", tso = "on", tx = "on" },
    { gro = "on", gso = "off", tso = "off", tx = "on" }, { gro = "on", gso = "on", tso = "off", tx = "off" } } },
  configure = function(r, cfg)
    local P, teams = r.params, {}
    for i, h in ipairs { r.hosts.host1, r.hosts.host2 } do
      team.create(h, "team0", { h.eth0, h.eth1 }, P)
      cfg:ip_add(h.team0, enrt.addr(P.net_ipv4, i))
      cfg:ip_add(h.team0, enrt.addr(P.net_ipv6, i))
      h.team0:up_and_wait()
      teams[i] = h.team0
    end
    local h1, h2 = r.hosts.host1, r.hosts.host2
    cfg.pairs = { { teams[1], teams[2] } }
    cfg.devs = { h1.eth0, h1.eth1, h2.eth0, h2.eth1 }
  end,
}
