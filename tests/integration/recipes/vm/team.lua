-- The Team family (stand-ins for ENRT's TeamRecipe, DoubleTeamRecipe and
-- TeamVsBondRecipe): host1 teams eth0 and eth1 with teamd (activebackup
-- runner, ethtool link watch); host2 has a plain NIC (peer = "nic"), a team
-- too (peer = "team": DoubleTeam) or a bond (peer = "bond": TeamVsBond).
-- Pings over IPv4 and IPv6 both ways, then the active port goes down and
-- the pings go through the other one.
-- The team devices are made with teamd in host:run: lnst.device.team
-- exists, but the agent closes teamd's stderr pipe once the device appears,
-- so teamd dies of SIGPIPE at its next log line and takes the device with
-- it; replace these commands with lnst.device.team once that is fixed.
-- SKIPPED without teamd (libteam-utils) or the team driver.
local lnst = require "lnst"
local p = lnst.param
local d = lnst.device

local CONFIG = '{"runner":{"name":"activebackup"},"link_watch":{"name":"ethtool"}}'

-- Starts teamd for team NAME over eth0 and eth1 on h; returns the job
-- (background). Hosts share /run (as netns hosts of one machine do), where
-- teamd keeps its pid file and the socket teamdctl uses: one name per host.
local function team(r, h, name)
  local j = h:run("exec teamd -t " .. name .. " -c '" .. CONFIG .. "' >/tmp/teamd-" .. name .. ".log 2>&1",
    { bg = true, desc = "teamd " .. name .. " on " .. h.name })
  local made = h:run("for i in $(seq 50); do ip link show " .. name .. " >/dev/null 2>&1 && exit 0; sleep 0.1; "
    .. "done; cat /tmp/teamd-" .. name .. ".log; exit 1", { desc = name .. " appears on " .. h.name })
  r:check(made.passed, "teamd made " .. name .. " on " .. h.name, { log = made.stdout })
  h:run(string.format("ip link set eth0 down && ip link set eth0 master %s && ip link set eth1 down && "
    .. "ip link set eth1 master %s && ip link set %s up", name, name, name),
    { desc = "eth0 and eth1 into " .. name .. " on " .. h.name })
  return j
end

return lnst.recipe {
  name = "Team",
  params = {
    peer = p.choice { choices = { "nic", "team", "bond" }, default = "nic",
      doc = "host2: a NIC (TeamRecipe), a team (DoubleTeam) or a bond (TeamVsBond)" },
    ping_count = p.int { default = 3, min = 1 },
  },
  hosts = {
    host1 = { eth0 = { network = "net1" }, eth1 = { network = "net1" } },
    host2 = { eth0 = { network = "net1" }, eth1 = { network = "net1" } },
  },
  test = function(r)
    local P = r.params
    r:require { hosts = { "host1" }, tools = { "teamd" }, kinds = { "team" } } -- teamdctl comes with teamd
    if P.peer == "bond" then r:require { hosts = { "host2" }, kinds = { "bond" } } end
    local h1, h2 = r.hosts.host1, r.hosts.host2
    local jobs = { team(r, h1, "lnteam1") }
    local dev2 = "eth0"
    if P.peer == "team" then
      jobs[2] = team(r, h2, "lnteam2")
      dev2 = "lnteam2"
    elseif P.peer == "bond" then
      h2.bond0 = d.bond { mode = "active-backup", miimon = 100 }
      h2.eth0.master = h2.bond0
      h2.eth1.master = h2.bond0
      h2.bond0:up()
      dev2 = h2.bond0.name
    end
    local ends = { { h1, "lnteam1" }, { h2, dev2 } }
    for i, e in ipairs(ends) do
      e[1]:run({ "ip", "addr", "add", "198.51.100." .. i .. "/24", "dev", e[2] })
      e[1]:run({ "ip", "addr", "add", "2001:db8:1::" .. i .. "/64", "dev", e[2], "nodad" })
      e[1]:run({ "ip", "link", "set", e[2], "up" })
    end
    local function pings(what)
      for i, e in ipairs(ends) do
        for _, dst in ipairs { "198.51.100." .. (3 - i), "2001:db8:1::" .. (3 - i) } do
          e[1]:run({ "ping", "-c", P.ping_count, "-i", "0.2", "-w", "10", dst },
            { desc = string.format("%s: ping %s -> %s", what, e[1].name, dst) })
        end
      end
    end
    pings("team up")
    local st = h1:run({ "teamdctl", "lnteam1", "state" })
    local active = st.stdout:match("active port: (%S+)")
    r:check(active == "eth0" or active == "eth1", "lnteam1 has an active port (" .. tostring(active) .. ")",
      { state = st.stdout })
    if active then
      h1:run({ "ip", "link", "set", active, "down" })
      r:wait(0.5)
      st = h1:run({ "teamdctl", "lnteam1", "state" })
      local now = st.stdout:match("active port: (%S+)")
      r:check(now and now ~= active, string.format("failover: active port %s -> %s", active, tostring(now)))
      pings("after failover")
    end
    for _, j in ipairs(jobs) do j:kill("TERM"):wait(10) end -- teamd removes the team
  end,
}
