-- Bond (stand-in for ENRT's BondRecipe until the ENRT library has it):
-- host1 bonds eth0 and eth1, host2 has eth0, all on one network; pings in
-- both directions over IPv4 and IPv6, then the active port goes down and
-- the pings go through the backup. Needs the bonding driver: on a kernel
-- without it the run is SKIPPED (lnst run --vm runs it on a guest kernel).
-- The stand-ins ping with -c N -w 10: N replies within 10 s, so that a slow
-- guest (TCG) losing the first packets while links settle still passes.
local lnst = require "lnst"
local p = lnst.param
local d = lnst.device

return lnst.recipe {
  name = "Bond",
  params = {
    bonding_mode = p.str { default = "active-backup", doc = "bond mode" },
    miimon = p.int { default = 100, min = 1, doc = "link monitoring interval (ms)" },
    ping_count = p.int { default = 3, min = 1 },
  },
  hosts = {
    host1 = { eth0 = { network = "net1" }, eth1 = { network = "net1" } },
    host2 = { eth0 = { network = "net1" } },
  },
  test = function(r)
    r:require { kinds = { "bond" } }
    local h1, h2, P = r.hosts.host1, r.hosts.host2, r.params
    h1.bond0 = d.bond { mode = P.bonding_mode, miimon = P.miimon }
    h1.eth0.master = h1.bond0
    h1.eth1.master = h1.bond0
    local ends = { { h1, h1.bond0 }, { h2, h2.eth0 } }
    for i, e in ipairs(ends) do
      e[2]:ip_add("198.51.100." .. i .. "/24")
      e[2]:ip_add("2001:db8:1::" .. i .. "/64", { nodad = true })
      e[2]:up()
    end
    local function pings(what)
      for i, e in ipairs(ends) do
        local peer = 3 - i
        e[1]:run({ "ping", "-c", P.ping_count, "-i", "0.2", "-w", "10", "198.51.100." .. peer },
          { desc = what .. ": ping " .. e[1].name .. " -> 198.51.100." .. peer })
        e[1]:run({ "ping", "-c", P.ping_count, "-i", "0.2", "-w", "10", "2001:db8:1::" .. peer },
          { desc = what .. ": ping " .. e[1].name .. " -> 2001:db8:1::" .. peer })
      end
    end
    pings("bond up")
    local j = h1:run({ "cat", "/proc/net/bonding/" .. h1.bond0.name })
    r:check(j.stdout:find("Bonding Mode: fault-tolerance (active-backup)", 1, true) ~= nil
      or P.bonding_mode ~= "active-backup", "bond is in " .. P.bonding_mode .. " mode", { proc = j.stdout })
    if P.bonding_mode == "active-backup" then
      local active = j.stdout:match("Currently Active Slave: (%S+)")
      r:check(active == "eth0" or active == "eth1", "bond has an active port (" .. tostring(active) .. ")")
      h1[active]:down()
      r:wait(P.miimon * 3 / 1000)
      j = h1:run({ "cat", "/proc/net/bonding/" .. h1.bond0.name })
      local now = j.stdout:match("Currently Active Slave: (%S+)")
      r:check(now and now ~= active, string.format("failover: active port %s -> %s", active, tostring(now)))
      pings("after failover")
    end
  end,
}
