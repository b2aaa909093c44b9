-- DoubleBond (stand-in for ENRT's DoubleBondRecipe): both hosts bond two
-- NICs, one on each of two networks; pings over IPv4 and IPv6 both ways.
-- SKIPPED on a kernel without bonding.
local lnst = require "lnst"
local p = lnst.param
local d = lnst.device

return lnst.recipe {
  name = "DoubleBond",
  params = {
    bonding_mode = p.str { default = "active-backup" },
    miimon = p.int { default = 100, min = 1 },
    ping_count = p.int { default = 3, min = 1 },
  },
  hosts = {
    host1 = { eth0 = { network = "net1" }, eth1 = { network = "net2" } },
    host2 = { eth0 = { network = "net1" }, eth1 = { network = "net2" } },
  },
  test = function(r)
    r:require { kinds = { "bond" } }
    local P = r.params
    local hs = { r.hosts.host1, r.hosts.host2 }
    for i, h in ipairs(hs) do
      h.bond0 = d.bond { mode = P.bonding_mode, miimon = P.miimon }
      h.eth0.master = h.bond0
      h.eth1.master = h.bond0
      h.bond0:ip_add("198.51.100." .. i .. "/24")
      h.bond0:ip_add("2001:db8:1::" .. i .. "/64", { nodad = true })
      h.bond0:up()
    end
    for i, h in ipairs(hs) do
      local peer = 3 - i
      h:run({ "ping", "-c", P.ping_count, "-i", "0.2", "-w", "10", "198.51.100." .. peer })
      h:run({ "ping", "-c", P.ping_count, "-i", "0.2", "-w", "10", "2001:db8:1::" .. peer })
    end
  end,
}
