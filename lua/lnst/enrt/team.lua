-- lnst.enrt.team: the team device of the Team recipes (LNST's TeamRecipe,
-- DoubleTeamRecipe, TeamVsBondRecipe): the runner_name parameter and
-- M.create(host, key, ports, P), a teamd team with the ports enslaved and up.
--
-- Unlike bonding, the team driver does not mark its ports as slaves, so a
-- port keeps IPv6 on: when it comes up it sends DAD, router solicitations
-- and MLD reports from its own link-local address, with the team's MAC
-- (teamd's default hwaddr_policy, same_all). The recipes put every port of a
-- host on one network, so the switch then learns the team's MAC on an
-- inactive port for a few seconds and the peer's frames go there, where the
-- activebackup runner drops them (2 of 3 pings lost right after the
-- configuration, in a guest with Debian's kernel). create() therefore turns
-- IPv6 off on the ports (net.ipv6.conf.PORT.disable_ipv6, restored at the
-- end of the run) before they join: they stay as silent as bond slaves.
local p = require "lnst.param"
local d = require "lnst.device"

local M = {}

M.PARAMS = {
  runner_name = p.choice { choices = { "activebackup", "roundrobin", "broadcast", "loadbalance", "lacp" },
    default = "activebackup", doc = "teamd runner (upstream: mandatory)" },
}

function M.create(host, key, ports, P)
  host[key] = d.team { config = { runner = { name = P.runner_name } } }
  for _, s in ipairs(ports) do
    host:sysctl_set("net.ipv6.conf." .. s.name .. ".disable_ipv6", 1)
    s:down()
    s.master = host[key]
    s:up()
  end
  return host[key]
end

return M
