-- One device kind, end to end: lnst run devices_kind.lua -p kind=bond.
-- The recipe requires the kind (r:require): on a kernel without it the run
-- ends as SKIPPED with the reason; with it, the device is created with
-- typical parameters, checked against what ip(8) reads from the kernel and,
-- where it carries traffic, pinged through between two hosts.
local lnst = require "lnst"
local p = lnst.param
local d = lnst.device

local function has(job, text) return job.stdout:find(text, 1, true) ~= nil end

local function ping(h, addr) h:run({ "ping", "-c", "3", "-i", "0.2", "-W", "2", addr }) end

-- Underlay: 198.51.100.0/24 and 2001:db8:1::/64 on eth0 of both hosts.
local function underlay(h1, h2)
  for i, h in ipairs { h1, h2 } do
    h.eth0:ip_add("198.51.100." .. i .. "/24")
    h.eth0:ip_add("2001:db8:1::" .. i .. "/64", { nodad = true })
    h.eth0:up()
  end
end

-- Overlay addresses on a device of each host, up, then pings both ways.
local function overlay(h1, h2, key, v4, v6)
  for i, h in ipairs { h1, h2 } do
    if v4 then h[key]:ip_add("203.0.113." .. i .. "/24") end
    if v6 then h[key]:ip_add("2001:db8:2::" .. i .. "/64", { nodad = true }) end
    h[key]:up()
  end
  if v4 then ping(h1, "203.0.113.2"); ping(h2, "203.0.113.1") end
  if v6 then ping(h1, "2001:db8:2::2"); ping(h2, "2001:db8:2::1") end
end

local WG = {
  { priv = "cP2JKw7ibRPD321+19jONPwqOZ/uOPJ2hkk3e1Bpjn8=", pub = "/byRu8lteztGnUyQfkfIbO3wR8/Dj1JGr56V/WhcjyA=" },
  { priv = "+EFtOJJJhPiRfqeXYA39/ic4uvHD4e44h/NyEEQ/S1w=", pub = "HpbETHuN7QPnStQhBtbMVu8MvykJZNbZSR35uhctO18=" },
}

-- A point-to-point tunnel of `kind` between the hosts over IPv4 or IPv6.
local function tunnel(r, h1, h2, kind, v6under, extra, v4over, v6over, shows)
  underlay(h1, h2)
  for i, h in ipairs { h1, h2 } do
    local me, peer = i, 3 - i
    local params = v6under and { ["local"] = "2001:db8:1::" .. me, remote = "2001:db8:1::" .. peer }
      or { ["local"] = "198.51.100." .. me, remote = "198.51.100." .. peer }
    for k, v in pairs(extra or {}) do params[k] = v end
    h.t = d[kind](params)
  end
  local j = h1:run({ "ip", "-d", "link", "show", h1.t.name })
  r:check(has(j, shows), kind .. " as created (" .. shows .. ")")
  overlay(h1, h2, "t", v4over, v6over)
end

local BODIES = {
  veth = function(r, h1)
    local a, b = d.veth_pair { name = "ka", peer_name = "kb" }
    h1.ka, h1.kb = a, b
    local j = h1:run({ "ip", "-d", "link", "show", "ka" })
    r:check(has(j, "ka@kb") and has(j, "veth"), "veth pair ka/kb")
  end,
  bridge = function(r, h1, h2)
    h1.br = d.bridge { stp_state = 0 }
    h1.eth0.master = h1.br
    h1.eth0:up()
    underlay({ eth0 = h1.br, }, h2) -- h1's address goes on the bridge
    ping(h1, "198.51.100.2")
    r:check(h1.eth0.master == h1.br, "eth0 enslaved")
  end,
  bond = function(r, h1, h2)
    h1.bond = d.bond { mode = "active-backup", miimon = 100, primary_reselect = "always" }
    h1.eth0.master = h1.bond
    h1.eth1.master = h1.bond
    underlay({ eth0 = h1.bond }, h2)
    local j = h1:run({ "ip", "-d", "link", "show", h1.bond.name })
    r:check(has(j, "bond mode active-backup") and has(j, "miimon 100"), "bond options as created")
    ping(h1, "198.51.100.2")
  end,
  team = function(r, h1, h2)
    h1.team = d.team { config = { runner = { name = "activebackup" }, link_watch = { name = "ethtool" } } }
    h1.eth0.master = h1.team
    h1.eth1.master = h1.team
    underlay({ eth0 = h1.team }, h2)
    r:check(h1.team.kind == "team", "team device made by teamd")
    ping(h1, "198.51.100.2")
  end,
  vlan = function(r, h1, h2)
    for _, h in ipairs { h1, h2 } do
      h.eth0:up()
      h.v10 = d.vlan { realdev = h.eth0, vlan_id = 10 }
    end
    local j = h1:run({ "ip", "-d", "link", "show", h1.v10.name })
    r:check(has(j, "vlan protocol 802.1Q id 10"), "vlan 10 as created")
    overlay(h1, h2, "v10", true, true)
  end,
  macvlan = function(r, h1, h2)
    h1.mv = d.macvlan { realdev = h1.eth0, mode = "bridge" }
    h1.eth0:up()
    underlay({ eth0 = h1.mv }, h2)
    r:check(h1.mv.kind == "macvlan", "macvlan")
    ping(h1, "198.51.100.2")
  end,
  macvtap = function(r, h1)
    h1.mvt = d.macvtap { realdev = h1.eth0, mode = "vepa" }
    local j = h1:run({ "ip", "-d", "link", "show", h1.mvt.name })
    r:check(has(j, "macvtap mode vepa"), "macvtap in vepa mode")
  end,
  ipvlan = function(r, h1, h2)
    h1.ipv = d.ipvlan { realdev = h1.eth0, mode = "l2" }
    h1.eth0:up()
    underlay({ eth0 = h1.ipv }, h2)
    local j = h1:run({ "ip", "-d", "link", "show", h1.ipv.name })
    r:check(has(j, "ipvlan") and has(j, "mode l2"), "ipvlan in l2 mode")
    ping(h1, "198.51.100.2")
  end,
  vxlan = function(r, h1, h2)
    underlay(h1, h2)
    for i, h in ipairs { h1, h2 } do
      h.t = d.vxlan { vxlan_id = 5, remote = "2001:db8:1::" .. (3 - i), dst_port = 4789 }
    end
    local j = h1:run({ "ip", "-d", "link", "show", h1.t.name })
    r:check(has(j, "vxlan id 5 remote 2001:db8:1::2"), "vxlan over IPv6")
    overlay(h1, h2, "t", true, true)
  end,
  geneve = function(r, h1, h2)
    underlay(h1, h2)
    for i, h in ipairs { h1, h2 } do
      h.t = d.geneve { id = 5, remote = "2001:db8:1::" .. (3 - i) }
    end
    local j = h1:run({ "ip", "-d", "link", "show", h1.t.name })
    r:check(has(j, "geneve id 5 remote 2001:db8:1::2"), "geneve over IPv6")
    overlay(h1, h2, "t", true, true)
  end,
  gre = function(r, h1, h2)
    tunnel(r, h1, h2, "gre", false, { key = 7 }, true, true, "gre remote 198.51.100.2")
  end,
  gretap = function(r, h1, h2)
    tunnel(r, h1, h2, "gretap", false, nil, true, true, "gretap remote 198.51.100.2")
  end,
  ip6gre = function(r, h1, h2)
    tunnel(r, h1, h2, "ip6gre", true, nil, true, true, "ip6gre remote 2001:db8:1::2")
  end,
  ipip = function(r, h1, h2)
    tunnel(r, h1, h2, "ipip", false, { mode = "ipip" }, true, false, "ipip ipip remote 198.51.100.2")
  end,
  sit = function(r, h1, h2)
    tunnel(r, h1, h2, "sit", false, { mode = "ip6ip" }, false, true, "sit ip6ip remote 198.51.100.2")
  end,
  ip6tnl = function(r, h1, h2)
    tunnel(r, h1, h2, "ip6tnl", true, { mode = "any" }, true, true, "ip6tnl any remote 2001:db8:1::2")
  end,
  vti = function(r, h1, h2)
    underlay(h1, h2)
    h1.t = d.vti { ["local"] = "198.51.100.1", remote = "198.51.100.2", key = 5 }
    local j = h1:run({ "ip", "-d", "link", "show", h1.t.name })
    r:check(has(j, "vti remote 198.51.100.2 local 198.51.100.1 ikey 0.0.0.5 okey 0.0.0.5"), "vti as created")
  end,
  vti6 = function(r, h1, h2)
    underlay(h1, h2)
    h1.t = d.vti6 { ["local"] = "2001:db8:1::1", remote = "2001:db8:1::2", ikey = 5 }
    local j = h1:run({ "ip", "-d", "link", "show", h1.t.name })
    r:check(has(j, "vti6 remote 2001:db8:1::2 local 2001:db8:1::1") and has(j, "ikey 0.0.0.5"), "vti6 as created")
  end,
  macsec = function(r, h1)
    h1.ms = d.macsec { realdev = h1.eth0, encrypt = true, port = 11 }
    local j = h1:run({ "ip", "-d", "link", "show", h1.ms.name })
    r:check(has(j, "macsec") and has(j, "encrypt on"), "macsec with encryption on")
  end,
  l2tp = function(r, h1, h2)
    underlay(h1, h2)
    for i, h in ipairs { h1, h2 } do
      h:l2tp_tunnel_add { tunnel_id = 10 + i, peer_tunnel_id = 13 - i, encap = "udp", ["local"] = "198.51.100." .. i,
        remote = "198.51.100." .. (3 - i), udp_sport = 5000 + i, udp_dport = 5003 - i }
      h.t = d.l2tp_session { tunnel_id = 10 + i, session_id = 20 + i, peer_session_id = 23 - i }
    end
    r:check(h1.t.kind == "l2tp", "l2tp session device")
    overlay(h1, h2, "t", true, false)
  end,
  wireguard = function(r, h1, h2)
    underlay(h1, h2)
    for i, h in ipairs { h1, h2 } do
      local peer = 3 - i
      h.t = d.wireguard { private_key = WG[i].priv, listen_port = 51820, peers = {
        { public_key = WG[peer].pub, endpoint = "198.51.100." .. peer .. ":51820",
          allowed_ips = { "203.0.113.0/24" } } } }
    end
    r:check(h1.t.kind == "wireguard", "wireguard device")
    overlay(h1, h2, "t", true, false)
  end,
  dummy = function(r, h1)
    h1.dm = d.dummy { mtu = 9000 }
    h1.dm:ip_add("203.0.113.1/32")
    h1.dm:up()
    r:check(h1.dm.mtu == 9000, "dummy with mtu 9000")
    ping(h1, "203.0.113.1")
  end,
  vrf = function(r, h1, h2)
    h1.vrf = d.vrf { table = 10 }
    h1.vrf:up()
    h1.eth0.master = h1.vrf
    underlay(h1, h2)
    local j = h1:run({ "ip", "route", "show", "table", "10" })
    r:check(has(j, "198.51.100.0/24 dev eth0"), "eth0's route is in table 10")
    h1:run({ "ping", "-c", "3", "-i", "0.2", "-W", "2", "-I", h1.vrf.name, "198.51.100.2" })
  end,
  tun = function(r, h1)
    h1.tn = d.tun { owner = 0 }
    local j = h1:run({ "ip", "-d", "link", "show", h1.tn.name })
    r:check(has(j, "tun type tun") and has(j, "persist on"), "persistent tun")
  end,
  tap = function(r, h1)
    h1.tp = d.tap {}
    local j = h1:run({ "ip", "-d", "link", "show", h1.tp.name })
    r:check(has(j, "tun type tap") and has(j, "persist on"), "persistent tap")
  end,
}

return lnst.recipe {
  name = "DevicesKind",
  params = { kind = p.str { mandatory = true, doc = "device kind, as in capabilities.kinds" } },
  hosts = {
    h1 = { eth0 = { network = "n" }, eth1 = { network = "n" } },
    h2 = { eth0 = { network = "n" } },
  },
  test = function(r)
    local kind = r.params.kind
    local body = BODIES[kind]
    if not body then error("devices_kind.lua: no test for kind '" .. kind .. "'") end
    r:require { kinds = { kind }, tools = kind == "team" and { "teamd" } or {} }
    body(r, r.hosts.h1, r.hosts.h2)
  end,
}
