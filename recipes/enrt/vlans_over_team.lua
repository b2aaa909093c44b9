-- VlansOverTeam (LNST's VlansOverTeamRecipe): host1 teams eth0 and eth1
-- (team0, teamd with runner_name; lnst.enrt.team) and runs three vlans (vlan0_id,
-- vlan1_id, vlan2_id) on it; host2 runs the same vlans on eth0; one subnet
-- per vlan (lnst.enrt.vlans); pings per vlan, flows over vlan0.
--   lnst run --vm recipes/enrt/vlans_over_team.lua -p perf_duration=5
local enrt = require "lnst.enrt"
local vlans = require "lnst.enrt.vlans"
local team = require "lnst.enrt.team"

local params = {}
for k, v in pairs(team.PARAMS) do params[k] = v end
for k, v in pairs(vlans.PARAMS) do params[k] = v end

return enrt.recipe {
  name = "VlansOverTeam",
  description = "Three vlans over a team on host1, over one NIC on host2",
  requires = { kinds = { "team", "vlan" }, tools = { "teamd" } },
  hosts = {
    host1 = { eth0 = { network = "net1" }, eth1 = { network = "net1" } },
    host2 = { eth0 = { network = "net1" } },
  },
  mixins = { "offload", "common_hw", "perf_reverse", "drop_caches", "perf_tweaks" },
  params = params,
  defaults = { offload_combinations = {
    { gro = "on", gso = "on", tso = "on", tx = "on" }, { gro = "off", gso = "on", tso = "on", tx = "on" },
    { gro = "on", gso = "off", tso = "off", tx = "on" }, { gro = "on", gso = "on", tso = "off", tx = "off" } } },
  configure = function(r, cfg)
    local P, h1, h2 = r.params, r.hosts.host1, r.hosts.host2
    team.create(h1, "team0", { h1.eth0, h1.eth1 }, P)
    h1.team0:up()
    h2.eth0:up()
    cfg:note(string.format("Configured host1.team0.slaves = [host1.eth0, host1.eth1], runner %s", P.runner_name))
    vlans.configure(r, cfg, { h1.team0, h2.eth0 })
    cfg.ping_pairs = cfg.pairs
    cfg.perf_pairs = { cfg.pairs[1] }
    cfg.offload_devs = { h1.eth0, h1.eth1, h2.eth0 }
    cfg.devs = { h1.vlan0, h1.vlan1, h1.vlan2, h2.vlan0, h2.vlan1, h2.vlan2, h1.team0, h2.eth0 }
  end,
}
