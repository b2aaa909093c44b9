-- lnst.enrt.virtual_bridge: LNST's VirtualBridge* recipes (a Linux bridge
-- on a host connecting a guest's NIC, through the host's tap device, to the
-- host's NIC, with 802.1Q vlans in the host or in the guest).
--
-- Guests: upstream's guests are virtual machines whose eth0 is the other
-- end of the host's tap device. Here a guest is one more host of the
-- recipe (a namespace under the netns provisioner, a container or machine
-- elsewhere) whose eth0 is on a network of its own ("guestN") with the
-- host's tap0 (tap1): the host's end is bridged exactly as upstream's tap,
-- and the guest configures its eth0 as upstream's guest does.
--
-- single(o): VirtualBridgeVlanIn{Host,Guest}[Mirrored]. o.vlan_in "host"
-- (host1.vlan0 on eth0 is a port of br0, the guest's eth0 is untagged) or
-- "guest" (br0 bridges eth0 itself, the guest makes vlan0 on its eth0);
-- o.mirrored: host2 has the same bridge and a guest2, and the pings and
-- flows go guest1 <-> guest2; else they go guest1 <-> host2.vlan0.
-- over_bond(o): VirtualBridgeVlansOverBond.
local enrt = require "lnst.enrt"
local d = require "lnst.device"
local p = require "lnst.param"

local M = {}

-- upstream's five offload combinations; the bonded variant has four (no rx).
local OFFLOADS4 = {
  { gro = "on", gso = "on", tso = "on", tx = "on" }, { gro = "off", gso = "on", tso = "on", tx = "on" },
  { gro = "on", gso = "off", tso = "off", tx = "on" }, { gro = "on", gso = "on", tso = "off", tx = "off" },
}

local function names(list)
  local out = {}
  for i, dev in ipairs(list) do out[i] = enrt.dev_key(dev) end
  return "[" .. table.concat(out, ", ") .. "]"
end

-- "Configured host1.vlan0.vlan_id = 10" and ".realdev = host1.eth0" lines.
local function note_vlan(cfg, dev, id, realdev)
  cfg:note(string.format("Configured %s.vlan_id = %d", enrt.dev_key(dev), id))
  cfg:note(string.format("Configured %s.realdev = %s", enrt.dev_key(dev), enrt.dev_key(realdev)))
end

-- The hosts of single(o): host1 (eth0 on net1, tap0 to guest1), host2
-- (eth0 on net1, and tap0 to guest2 when mirrored), the guests.
function M.single_hosts(mirrored)
  local hosts = {
    host1 = { eth0 = { network = "net1" }, tap0 = { network = "guest1" } },
    host2 = { eth0 = { network = "net1" } },
    guest1 = { eth0 = { network = "guest1" } },
  }
  if mirrored then
    hosts.host2.tap0 = { network = "guest2" }
    hosts.guest2 = { eth0 = { network = "guest2" } }
  end
  return hosts
end

-- The configuration of single(o) (also run by tests/lua with stand-in hosts).
function M.configure_single(r, cfg, o)
  local P, H = r.params, r.hosts
  local bridged = { { H.host1, H.guest1 } }
  if o.mirrored then bridged[2] = { H.host2, H.guest2 } end
  local hw = {}
  local n = 0
  local function add(dev, v6)
    n = n + 1
    cfg:ip_add(dev, enrt.addr(P.net_ipv4, n))
    if v6 then cfg:ip_add(dev, enrt.addr(P.net_ipv6, n)) end
  end
  for _, hg in ipairs(bridged) do
    local h = hg[1]
    h.eth0:down()
    h.tap0:down()
    h.br0 = d.bridge {}
    h.tap0.master = h.br0
    local ports = { h.tap0 }
    if o.vlan_in == "host" then
      h.vlan0 = d.vlan { realdev = h.eth0, vlan_id = P.vlan_id }
      h.vlan0.master = h.br0
      ports[2] = h.vlan0
      note_vlan(cfg, h.vlan0, P.vlan_id, h.eth0)
    else
      h.eth0.master = h.br0
      table.insert(ports, 1, h.eth0)
    end
    cfg:note(string.format("Configured %s.slaves = %s", enrt.dev_key(h.br0), names(ports)))
    add(h.br0, false)
    for _, dev in ipairs { h.eth0, h.tap0, h.br0 } do hw[#hw + 1] = dev end
    if h.vlan0 then hw[#hw + 1] = h.vlan0 end
  end
  local function guest_endpoint(g)
    g.eth0:down()
    hw[#hw + 1] = g.eth0
    if o.vlan_in == "guest" then
      g.vlan0 = d.vlan { realdev = g.eth0, vlan_id = P.vlan_id }
      note_vlan(cfg, g.vlan0, P.vlan_id, g.eth0)
      hw[#hw + 1] = g.vlan0
      return g.vlan0
    end
    return g.eth0
  end
  local endpoints
  if o.mirrored then
    endpoints = { guest_endpoint(H.guest1), guest_endpoint(H.guest2) }
  else
    local h2 = H.host2
    h2.eth0:down()
    h2.vlan0 = d.vlan { realdev = h2.eth0, vlan_id = P.vlan_id }
    note_vlan(cfg, h2.vlan0, P.vlan_id, h2.eth0)
    hw[#hw + 1] = h2.eth0
    hw[#hw + 1] = h2.vlan0
    endpoints = { h2.vlan0, guest_endpoint(H.guest1) }
  end
  for _, ep in ipairs(endpoints) do add(ep, true) end
  for _, hg in ipairs(bridged) do
    local h = hg[1]
    for _, dev in ipairs { h.eth0, h.tap0, h.vlan0 or false, h.br0 } do
      if dev then dev:up() end
    end
  end
  if not o.mirrored then
    H.host2.eth0:up()
    H.host2.vlan0:up_and_wait()
  end
  for _, g in ipairs { H.guest1, o.mirrored and H.guest2 or false } do
    if g then
      g.eth0:up()
      if g.vlan0 then g.vlan0:up_and_wait() else g.eth0:up_and_wait() end
    end
  end
  -- guest1 first: upstream's ping and perf endpoints are (guest1, host2) / (guest1, guest2)
  local pair = o.mirrored and { endpoints[1], endpoints[2] } or { endpoints[2], endpoints[1] }
  cfg.pairs = { pair }
  cfg.offload_devs = { H.host1.eth0, H.host2.eth0, H.guest1.eth0, o.mirrored and H.guest2.eth0 or nil }
  cfg.devs = hw
end

function M.single(o)
  return enrt.recipe {
    name = o.name,
    description = o.description,
    requires = { kinds = { "bridge", "vlan" } },
    hosts = M.single_hosts(o.mirrored),
    mixins = { "offload", "common_hw", "perf_reverse", "drop_caches", "perf_tweaks" },
    params = { vlan_id = p.int { default = 10, min = 1, max = 4094, doc = "the vlan" } },
    defaults = { offload_combinations = enrt.OFFLOADS5 },
    configure = function(r, cfg) M.configure_single(r, cfg, o) end,
  }
end

-- VirtualBridgeVlansOverBond: on each host bond0 (eth0, eth1), vlan0 and
-- vlan1 on it, each the port of a bridge (br0, br1) with a tap (tap0, tap1)
-- to a guest: host1 to guest1 (vlan0) and guest2 (vlan1), host2 to guest3
-- and guest4. Every guest of host1 pings every guest of host2; only the
-- pairs on the same vlan are reachable (the others must get no reply).
function M.over_bond_hosts()
  local hosts = {}
  for i, h in ipairs { "host1", "host2" } do
    hosts[h] = { eth0 = { network = "net1" }, eth1 = { network = "net2" },
      tap0 = { network = "guest" .. (2 * i - 1) }, tap1 = { network = "guest" .. (2 * i) } }
    hosts["guest" .. (2 * i - 1)] = { eth0 = { network = "guest" .. (2 * i - 1) } }
    hosts["guest" .. (2 * i)] = { eth0 = { network = "guest" .. (2 * i) } }
  end
  return hosts
end

function M.configure_over_bond(r, cfg)
  local P, H = r.params, r.hosts
  local bonding = require "lnst.enrt.mixins.bonding"
  local hw = {}
  local seq = { 0, 0 }
  for i, h in ipairs { H.host1, H.host2 } do
    for _, dev in ipairs { h.tap0, h.tap1 } do dev:down() end
    bonding.create(h, "bond0", { h.eth0, h.eth1 }, P)
    cfg:note(string.format("Configured %s.slaves = %s", enrt.dev_key(h.bond0), names { h.eth0, h.eth1 }))
    cfg:note(string.format("Configured %s.mode = %s, miimon = %d", enrt.dev_key(h.bond0), P.bonding_mode,
      P.miimon_value))
    local guests = { H["guest" .. (2 * i - 1)], H["guest" .. (2 * i)] }
    for k = 0, 1 do
      local vlan, br, tap, g = "vlan" .. k, "br" .. k, h["tap" .. k], guests[k + 1]
      local id = P["vlan" .. k .. "_id"]
      h[br] = d.bridge {}
      h[vlan] = d.vlan { realdev = h.bond0, vlan_id = id }
      h[vlan].master = h[br]
      tap.master = h[br]
      note_vlan(cfg, h[vlan], id, h.bond0)
      cfg:note(string.format("Configured %s.slaves = %s", enrt.dev_key(h[br]), names { h[vlan], tap }))
      local n4, n6 = P["vlan" .. k .. "_ipv4"], P["vlan" .. k .. "_ipv6"]
      -- host1's bridge .1, its guest .2; host2's bridge .3, its guest .4 (IPv6: guests only)
      cfg:ip_add(h[br], enrt.addr(n4, seq[k + 1] + 1))
      g.eth0:down()
      cfg:ip_add(g.eth0, enrt.addr(n4, seq[k + 1] + 2))
      cfg:ip_add(g.eth0, enrt.addr(n6, seq[k + 1] + 2))
      seq[k + 1] = seq[k + 1] + 2
      tap:up()
      h[vlan]:up()
      h[br]:up()
      for _, dev in ipairs { tap, h[br], h[vlan] } do hw[#hw + 1] = dev end
    end
    table.insert(hw, 1, h.bond0)
  end
  for g = 1, 4 do
    local eth0 = H["guest" .. g].eth0
    eth0:up_and_wait()
    hw[#hw + 1] = eth0
    -- the other vlan's network on the guest's own link: a cross-vlan ping
    -- then really goes out (ARP on the guest's vlan, which nobody there
    -- answers) and gets no reply, instead of failing with "Network is
    -- unreachable" for want of a route (upstream's guests have a default route)
    eth0:route_add { dst = P[(g % 2 == 1 and "vlan1" or "vlan0") .. "_ipv4"] }
  end
  cfg.ping_pairs = {}
  for _, a in ipairs { H.guest1, H.guest2 } do
    for _, b in ipairs { H.guest3, H.guest4 } do
      local same = (a == H.guest1 and b == H.guest3) or (a == H.guest2 and b == H.guest4)
      cfg.ping_pairs[#cfg.ping_pairs + 1] = { a.eth0, b.eth0, reachable = same }
    end
  end
  cfg.perf_pairs = { { H.guest1.eth0, H.guest3.eth0 } }
  cfg.offload_devs = { H.host1.eth0, H.host2.eth0, H.guest1.eth0, H.guest2.eth0, H.guest3.eth0, H.guest4.eth0,
    H.host1.eth1, H.host2.eth1 }
  cfg.devs = hw
end

function M.over_bond(o)
  return enrt.recipe {
    name = o.name,
    description = o.description,
    requires = { kinds = { "bond", "bridge", "vlan" } },
    hosts = M.over_bond_hosts(),
    mixins = { "bonding", "offload", "common_hw", "perf_reverse", "drop_caches", "perf_tweaks" },
    params = {
      vlan0_id = p.int { default = 10, min = 1, max = 4094, doc = "the first vlan (guest1, guest3)" },
      vlan1_id = p.int { default = 20, min = 1, max = 4094, doc = "the second vlan (guest2, guest4)" },
      vlan0_ipv4 = p.network { family = 4, default = "198.51.100.0/24", doc = "the first vlan's network" },
      vlan0_ipv6 = p.network { family = 6, default = "2001:db8:10::/64", doc = "the same, IPv6" },
      vlan1_ipv4 = p.network { family = 4, default = "203.0.113.0/24", doc = "the second vlan's network" },
      vlan1_ipv6 = p.network { family = 6, default = "2001:db8:20::/64", doc = "the same, IPv6" },
    },
    defaults = { offload_combinations = OFFLOADS4 },
    configure = function(r, cfg) M.configure_over_bond(r, cfg) end,
  }
end

return M
