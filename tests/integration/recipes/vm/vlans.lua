-- Vlans (stand-in for ENRT's VlansRecipe): three 802.1Q VLANs on eth0 of
-- each host; every VLAN gets its own subnets and is pinged over IPv4 and
-- IPv6. Optionally
-- (over_bond = true: VlansOverBond) host1's VLANs sit on a bond of two
-- NICs. SKIPPED on a kernel without 802.1Q (or bonding).
local lnst = require "lnst"
local p = lnst.param
local d = lnst.device

return lnst.recipe {
  name = "Vlans",
  params = {
    vlan_ids = p.list { default = { 10, 20, 30 }, doc = "VLAN ids (up to 6)" },
    over_bond = p.bool { default = false, doc = "host1's VLANs on a bond of eth0 and eth1 (VlansOverBond)" },
    ping_count = p.int { default = 2, min = 1 },
  },
  hosts = {
    host1 = { eth0 = { network = "net1" }, eth1 = { network = "net1" } },
    host2 = { eth0 = { network = "net1" } },
  },
  test = function(r)
    local P = r.params
    r:require { kinds = P.over_bond and { "vlan", "bond" } or { "vlan" } }
    local h1, h2 = r.hosts.host1, r.hosts.host2
    local lower = { h1.eth0, h2.eth0 }
    if P.over_bond then
      h1.bond0 = d.bond { mode = "active-backup", miimon = 100 }
      h1.eth0.master = h1.bond0
      h1.eth1.master = h1.bond0
      lower[1] = h1.bond0
    end
    for i, h in ipairs { h1, h2 } do
      lower[i]:up()
      for n, id in ipairs(P.vlan_ids) do
        local key = "vlan" .. n
        h[key] = d.vlan { realdev = lower[i], vlan_id = id }
        -- 198.51.100.0/24 cut into /28s, one per VLAN; 2001:db8:<id>::/64
        h[key]:ip_add(string.format("198.51.100.%d/28", 16 * n + i))
        h[key]:ip_add(string.format("2001:db8:%x::%d/64", id, i), { nodad = true })
        h[key]:up()
      end
    end
    for n, id in ipairs(P.vlan_ids) do
      for i, h in ipairs { h1, h2 } do
        h:run({ "ping", "-c", P.ping_count, "-i", "0.2", "-w", "10", string.format("198.51.100.%d", 16 * n + 3 - i) })
        h:run({ "ping", "-c", P.ping_count, "-i", "0.2", "-w", "10", string.format("2001:db8:%x::%d", id, 3 - i) })
      end
    end
  end,
}
