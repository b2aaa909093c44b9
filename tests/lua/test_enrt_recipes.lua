-- The configuration code of ENRT recipes run against stand-in hosts (no
-- agents, no kernel): what each recipe creates, addresses, routes and runs,
-- checked against what upstream's recipe does for the same parameters.
-- Above all for the recipes this machine's kernel skips (vlan, bond, team,
-- macsec, l2tp, ESP, rxe), whose configuration would otherwise run nowhere
-- here; and for the folded shared topologies (lnst.enrt.netns_router,
-- lnst.enrt.vlans, lnst.enrt.netns_tunnel).
-- Run from the repo root: luajit tests/lua/test_enrt_recipes.lua
package.path = "lua/?.lua;lua/?/init.lua;tests/lua/?.lua;" .. package.path
local T = require "testlib"

-- lnst.device loads lnst.core (the binary's); the stand-ins need none of it.
package.preload["lnst.core"] = function() return { null = {} } end

local param = require "lnst.param"
local enrt = require "lnst.enrt"
local links = require "lnst.links"
local netns_obj = require "lnst.netns_obj"

-- ------------------------------------------------------------ stand-ins

local LOG
local FD, FH = {}, {}

local function is_fd(x) return getmetatable(x) == FD end

local function label(x)
  if links.is_spec(x) then x = rawget(x, "_dev") end
  if is_fd(x) then return rawget(rawget(x, "host"), "name") .. "." .. rawget(x, "name") end
  return tostring(x)
end

local function render(t)
  if type(t) ~= "table" or is_fd(t) or links.is_spec(t) then return label(t) end
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = k .. "=" .. render(t[k]) end
  return "{" .. table.concat(parts, " ") .. "}"
end

local macs = 0
-- A device named name, the field key of host (default: its name).
local function new_dev(host, name, kind, key)
  macs = macs + 1
  local dev = setmetatable({ host = host, name = name, kind = kind, key = key or name,
    hwaddr = string.format("02:00:00:00:00:%02x", macs) }, FD)
  rawget(host, "devs")[key or name] = dev
  return dev
end

local function log(x, what) LOG[#LOG + 1] = label(x) .. ": " .. what end

function FD.__index(_, k) return FD[k] end
function FD.__newindex(dev, k, v) log(dev, k .. " = " .. render(v)) end
function FD.up(dev) log(dev, "up") end
function FD.down(dev) log(dev, "down") end
function FD.up_and_wait(dev) log(dev, "up_and_wait") end
function FD.ip_add(dev, a) log(dev, "ip_add " .. a) end
function FD.route_add(dev, spec) log(dev, "route_add " .. render(spec)) end
function FD.neigh_add(dev, spec) log(dev, "neigh_add " .. render(spec)) end
function FD.delete(dev)
  log(dev, "delete")
  rawget(rawget(dev, "host"), "devs")[rawget(dev, "key")] = nil
end

local function host(name, nics)
  local h = setmetatable({ name = name, devs = {}, nss = {} }, FH)
  for _, n in ipairs(nics or {}) do new_dev(h, n, "veth") end
  return h
end

function FH.__index(h, k)
  return FH[k] or rawget(h, "devs")[k] or rawget(h, "nss")[k]
end

local function move(h, k, dev)
  rawget(rawget(dev, "host"), "devs")[rawget(dev, "key")] = nil
  log(dev, "move to " .. rawget(h, "name") .. " as " .. k)
  rawset(dev, "host", h)
  rawset(dev, "name", k)
  rawset(dev, "key", k)
  rawget(h, "devs")[k] = dev
end

function FH.__newindex(h, k, v)
  if netns_obj.is_spec(v) then
    rawget(h, "nss")[k] = host(rawget(h, "name") .. "." .. k)
    LOG[#LOG + 1] = rawget(h, "name") .. ": netns " .. k
  elseif is_fd(v) then
    move(h, k, v)
  elseif links.is_spec(v) and rawget(v, "_dev") then
    move(h, k, rawget(v, "_dev"))
  elseif links.is_spec(v) then
    local p, pair = rawget(v, "_params"), rawget(v, "_pair")
    local dev = new_dev(h, p.name or k, rawget(v, "_kind"), k)
    rawset(v, "_dev", dev)
    if pair then
      local peer = pair.a == v and pair.b or pair.a
      rawset(peer, "_dev", new_dev(h, rawget(peer, "_params").name, "veth"))
    end
    LOG[#LOG + 1] = rawget(h, "name") .. ": create " .. rawget(v, "_kind") .. " " .. k .. " " .. render(p)
  else
    error("stand-in host " .. rawget(h, "name") .. ": cannot set " .. tostring(k))
  end
end

local function shell(cmd) return type(cmd) == "table" and table.concat(cmd, " ") or cmd end

function FH.run(h, cmd)
  local text = shell(cmd)
  LOG[#LOG + 1] = rawget(h, "name") .. ": run " .. text
  local out = text:find("lnst-probe-rc", 1, true) and "lnst-probe-rc=0\n" or ""
  return { passed = true, stdout = out, stderr = "", wait = function() end, kill = function() end }
end
function FH.sysctl_set(h, k, v) LOG[#LOG + 1] = rawget(h, "name") .. ": sysctl " .. k .. "=" .. tostring(v) end
function FH.route_add(h, spec) LOG[#LOG + 1] = rawget(h, "name") .. ": route_add " .. render(spec) end
function FH.l2tp_tunnel_add(h, p) LOG[#LOG + 1] = rawget(h, "name") .. ": l2tp_tunnel_add " .. render(p) end
function FH.device(h, name) return rawget(h, "devs")[name] or new_dev(h, name, "loopback") end

-- A run context with the recipe's hosts as stand-ins.
local function run_ctx(recipe, given)
  LOG = {}
  local hosts = {}
  for name, nics in pairs(recipe.hosts) do
    local list = {}
    for nic in pairs(nics) do list[#list + 1] = nic end
    table.sort(list)
    hosts[name] = host(name, list)
  end
  local r = { params = param.resolve(recipe.params, given or {}), hosts = hosts, checks = {} }
  function r.wait() end
  function r.check(self, ok, desc) self.checks[#self.checks + 1] = { ok = ok, desc = desc } end
  function r.add_result(self, res, desc) self.checks[#self.checks + 1] = { result = res, desc = desc } end
  function r._add() end
  return r
end

-- Runs a recipe's test-wide configuration; returns r, cfg.
local function configure(file, given)
  local recipe = dofile(file)
  local r = run_ctx(recipe, given)
  local cfg = enrt.config()
  recipe.enrt.def.configure(r, cfg)
  return r, cfg, recipe
end

local function has(line)
  for _, l in ipairs(LOG) do if l == line then return true end end
  T.ok(false, "log has no line '" .. line .. "'; log:\n  " .. table.concat(LOG, "\n  "))
end

local function keys(devs)
  local out = {}
  for i, d in ipairs(devs) do out[i] = enrt.dev_key(d) end
  return out
end

local function pair_keys(pairs_)
  local out = {}
  for i, p in ipairs(pairs_) do out[i] = enrt.dev_key(p[1]) .. " -> " .. enrt.dev_key(p[2]) end
  return out
end

local function ips(cfg, dev) return cfg:ips(dev) end

-- ------------------------------------------------------------ folded topologies

T.test("SimpleNetnsRouter (lnst.enrt.netns_router): upstream's router topology", function()
  local r, cfg = configure("recipes/enrt/simple_netns_router.lua")
  local h2 = r.hosts.host2
  T.eq(ips(cfg, r.hosts.host1.eth0), { "198.51.100.1/24", "2001:db8:101::1/64" })
  T.eq(ips(cfg, h2.pn0), { "203.0.113.1/24", "2001:db8:102::1/64" })
  T.eq(ips(cfg, h2.host2ns.np0), { "203.0.113.2/24", "2001:db8:102::2/64" })
  has("host2: netns host2ns")
  has("host2.np0: move to host2.host2ns as np0")
  has("host2: sysctl net.ipv4.ip_forward=1")
  has("host2: sysctl net.ipv6.conf.all.forwarding=1")
  has("host2.host2ns: route_add {dst=default via=203.0.113.1}")
  has("host2.host2ns: route_add {dst=default family=ipv6 via=2001:db8:102::1}")
  has("host1.eth0: route_add {dst=203.0.113.0/24 via=198.51.100.2}")
  has("host1.eth0: route_add {dst=2001:db8:102::/64 via=2001:db8:101::2}")
  T.eq(pair_keys(cfg.pairs), { "host1.eth0 -> host2.host2ns.np0" })
end)

T.test("NftablesRuleScale: the router topology plus the scaled ruleset on host2", function()
  local r, cfg = configure("recipes/enrt/nftables_rule_scale.lua", { scale = 2, rule = { "counter" }, family = "ip" })
  T.eq(pair_keys(cfg.pairs), { "host1.eth0 -> host2.host2ns.np0" })
  local rs = cfg.firewall_rulesets[1]
  T.eq(rs.desc, "ip lnst_scale: 2 x 1 rules")
  T.ok(rs[r.hosts.host2]:find("chain forward {\n    type filter hook forward priority filter; policy accept;\n"
    .. "    counter\n    counter\n  }", 1, true), rs[r.hosts.host2])
end)

T.test("VxlanNetnsTunnel / Ip6GreNetnsTunnel carrier (lnst.enrt.netns_tunnel)", function()
  for _, c in ipairs { { "vxlan_netns_tunnel", "198.51.100.%d/24" },
    { "ip6gre_netns_tunnel", "2001:db8:101::%d/64" } } do
    local recipe = dofile("recipes/enrt/" .. c[1] .. ".lua")
    local r = run_ctx(recipe)
    local cfg = enrt.config()
    recipe.enrt.def.configure(r, cfg)
    for i, h in ipairs { r.hosts.host1, r.hosts.host2 } do
      T.eq(ips(cfg, h.newns.veth1)[1], string.format(c[2], i))
      has(h.name .. ".eth0: master = " .. h.name .. ".br0")
      has(h.name .. ".veth0: master = " .. h.name .. ".br0")
    end
    T.eq(keys(cfg.devs), { "host1.eth0", "host2.eth0" })
    T.eq(enrt.dev_key(cfg.capture_dev { destination = r.hosts.host1.newns }), "host1.eth0")
    T.eq(enrt.dev_key(cfg.capture_dev { destination = r.hosts.host2.newns }), "host2.eth0")
  end
end)

T.test("Vlans / VlansOverBond / VlansOverTeam (lnst.enrt.vlans): three vlans, /26 quarters", function()
  for _, c in ipairs { { "vlans", "host1.eth0" }, { "vlans_over_bond", "host1.bond0" },
    { "vlans_over_team", "host1.team0" } } do
    local r, cfg = configure("recipes/enrt/" .. c[1] .. ".lua")
    local h1, h2 = r.hosts.host1, r.hosts.host2
    T.eq(ips(cfg, h1.vlan1), { "198.51.100.65/26", "2001:db8:10:2::1/64" })
    T.eq(ips(cfg, h2.vlan2), { "198.51.100.130/26", "2001:db8:10:3::2/64" })
    has("host1: create vlan vlan0 {realdev=" .. c[2] .. " vlan_id=10}")
    has("host2: create vlan vlan2 {realdev=host2.eth0 vlan_id=30}")
    T.eq(#cfg.pairs, 3)
  end
  local r, cfg = configure("recipes/enrt/vlans_over_team.lua", { runner_name = "roundrobin" })
  has("host1: create team team0 {config={runner={name=roundrobin}}}")
  has("host1.eth1: master = host1.team0")
  has("host1: sysctl net.ipv6.conf.eth1.disable_ipv6=1")
  T.eq(pair_keys(cfg.perf_pairs), { "host1.vlan0 -> host2.vlan0" })
  T.eq(keys(cfg.offload_devs), { "host1.eth0", "host1.eth1", "host2.eth0" })
  T.eq(#param.resolve(dofile("recipes/enrt/vlans_over_team.lua").params, {}).offload_combinations, 4)
  T.ok(r.hosts.host1.team0)
end)

-- ------------------------------------------------------------ Forwarding

T.test("Forwarding: receiver NIC in host1's namespace, host2 forwards eth0 -> eth1", function()
  local r, cfg = configure("recipes/enrt/forwarding.lua")
  local h1, h2 = r.hosts.host1, r.hosts.host2
  local recv = h1.receiver_ns.eth1
  has("host1.eth1: move to host1.receiver_ns as eth1")
  T.eq(ips(cfg, h2.eth1), { "203.0.113.1/24", "2001:db8:102::1/64" })
  T.eq(ips(cfg, recv), { "203.0.113.2/24", "2001:db8:102::2/64" })
  has("host2.eth1: neigh_add {dst=203.0.113.2 lladdr=" .. recv.hwaddr .. "}")
  has("host2.eth1: neigh_add {dst=2001:db8:102::2 lladdr=" .. recv.hwaddr .. "}")
  has("host1.receiver_ns.lo: up")
  has("host1.receiver_ns: route_add {dst=default via=203.0.113.1}")
  has("host1.eth0: route_add {dst=203.0.113.0/24 via=198.51.100.2}")
  T.eq(pair_keys(cfg.ping_pairs), { "host1.eth0 -> host2.eth0", "host2.eth1 -> host1.receiver_ns.eth1",
    "host1.eth0 -> host1.receiver_ns.eth1" })
  T.eq(pair_keys(cfg.perf_pairs), { "host1.eth0 -> host1.receiver_ns.eth1" })
  T.eq(keys(cfg.offload_devs), { "host1.receiver_ns.eth1", "host2.eth0", "host2.eth1" })
  T.eq(#r.params.offload_combinations, 5)
  T.ok(h2.eth0)
end)

-- ------------------------------------------------------------ VirtualBridge family

T.test("VirtualBridgeVlanInHost: br0(tap0, vlan0@eth0) on host1, vlan0 on host2", function()
  local r, cfg = configure("recipes/enrt/virtual_bridge_vlan_in_host.lua", { vlan_id = 12 })
  local h1, h2, g1 = r.hosts.host1, r.hosts.host2, r.hosts.guest1
  has("host1: create vlan vlan0 {realdev=host1.eth0 vlan_id=12}")
  has("host1.vlan0: master = host1.br0")
  has("host1.tap0: master = host1.br0")
  has("host2: create vlan vlan0 {realdev=host2.eth0 vlan_id=12}")
  T.eq(ips(cfg, h1.br0), { "198.51.100.1/24" })
  T.eq(ips(cfg, h2.vlan0), { "198.51.100.2/24", "2001:db8:101::2/64" })
  T.eq(ips(cfg, g1.eth0), { "198.51.100.3/24", "2001:db8:101::3/64" })
  T.eq(pair_keys(cfg.pairs), { "guest1.eth0 -> host2.vlan0" })
  T.eq(keys(cfg.offload_devs), { "host1.eth0", "host2.eth0", "guest1.eth0" })
  T.eq(keys(cfg.devs), { "host1.eth0", "host1.tap0", "host1.br0", "host1.vlan0", "host2.eth0", "host2.vlan0",
    "guest1.eth0" })
  local desc = table.concat(cfg:describe(), "\n")
  T.ok(desc:find("Configured host1.br0.slaves = [host1.tap0, host1.vlan0]", 1, true), desc)
  T.ok(desc:find("Configured host1.vlan0.realdev = host1.eth0", 1, true), desc)
  T.eq(dofile("recipes/enrt/virtual_bridge_vlan_in_host.lua").hosts.guest1.eth0.network, "guest1")
end)

T.test("VirtualBridgeVlanInGuest: br0(eth0, tap0) on host1, vlan0 in guest1 and host2", function()
  local r, cfg = configure("recipes/enrt/virtual_bridge_vlan_in_guest.lua")
  local h1, h2, g1 = r.hosts.host1, r.hosts.host2, r.hosts.guest1
  has("host1.eth0: master = host1.br0")
  has("guest1: create vlan vlan0 {realdev=guest1.eth0 vlan_id=10}")
  T.eq(ips(cfg, h1.br0), { "198.51.100.1/24" })
  T.eq(ips(cfg, h2.vlan0), { "198.51.100.2/24", "2001:db8:101::2/64" })
  T.eq(ips(cfg, g1.vlan0), { "198.51.100.3/24", "2001:db8:101::3/64" })
  T.eq(pair_keys(cfg.pairs), { "guest1.vlan0 -> host2.vlan0" })
  T.eq(h1.vlan0, nil)
end)

T.test("VirtualBridgeVlanIn{Host,Guest}Mirrored: both hosts bridged, guest1 <-> guest2", function()
  local r, cfg = configure("recipes/enrt/virtual_bridge_vlan_in_host_mirrored.lua")
  local H = r.hosts
  T.eq(ips(cfg, H.host1.br0), { "198.51.100.1/24" })
  T.eq(ips(cfg, H.host2.br0), { "198.51.100.2/24" })
  T.eq(ips(cfg, H.guest1.eth0), { "198.51.100.3/24", "2001:db8:101::3/64" })
  T.eq(ips(cfg, H.guest2.eth0), { "198.51.100.4/24", "2001:db8:101::4/64" })
  has("host2.vlan0: master = host2.br0")
  T.eq(pair_keys(cfg.pairs), { "guest1.eth0 -> guest2.eth0" })
  r, cfg = configure("recipes/enrt/virtual_bridge_vlan_in_guest_mirrored.lua")
  H = r.hosts
  has("host2.eth0: master = host2.br0")
  has("guest2: create vlan vlan0 {realdev=guest2.eth0 vlan_id=10}")
  T.eq(ips(cfg, H.guest2.vlan0), { "198.51.100.4/24", "2001:db8:101::4/64" })
  T.eq(pair_keys(cfg.pairs), { "guest1.vlan0 -> guest2.vlan0" })
  T.eq(keys(cfg.offload_devs), { "host1.eth0", "host2.eth0", "guest1.eth0", "guest2.eth0" })
end)

T.test("VirtualBridgeVlansOverBond: bond, two vlans, two bridges; cross-vlan pings unreachable", function()
  local r, cfg = configure("recipes/enrt/virtual_bridge_vlans_over_bond.lua", { bonding_mode = "balance-rr" })
  local H = r.hosts
  has("host1: create bond bond0 {fail_over_mac=none miimon=5 mode=balance-rr}")
  has("host2.eth1: master = host2.bond0")
  has("host2: create vlan vlan1 {realdev=host2.bond0 vlan_id=20}")
  has("host2.vlan1: master = host2.br1")
  has("host2.tap1: master = host2.br1")
  T.eq(ips(cfg, H.host1.br0), { "198.51.100.1/24" })
  T.eq(ips(cfg, H.guest1.eth0), { "198.51.100.2/24", "2001:db8:10::2/64" })
  T.eq(ips(cfg, H.host2.br0), { "198.51.100.3/24" })
  T.eq(ips(cfg, H.guest3.eth0), { "198.51.100.4/24", "2001:db8:10::4/64" })
  T.eq(ips(cfg, H.guest2.eth0), { "203.0.113.2/24", "2001:db8:20::2/64" })
  T.eq(ips(cfg, H.guest4.eth0), { "203.0.113.4/24", "2001:db8:20::4/64" })
  T.eq(pair_keys(cfg.ping_pairs), { "guest1.eth0 -> guest3.eth0", "guest1.eth0 -> guest4.eth0",
    "guest2.eth0 -> guest3.eth0", "guest2.eth0 -> guest4.eth0" })
  local reach = {}
  for i, p in ipairs(cfg.ping_pairs) do reach[i] = p.reachable end
  T.eq(reach, { true, false, false, true })
  has("guest1.eth0: route_add {dst=203.0.113.0/24}")
  has("guest4.eth0: route_add {dst=198.51.100.0/24}")
  -- IPv6 is not pinged across vlans (upstream skips unreachable IPv6 pairs)
  local plan = enrt.ping_plan(r.params, cfg.ping_pairs, function(d, f) return cfg:ips(d, f) end)
  T.eq(#plan, 6)
  T.eq(pair_keys(cfg.perf_pairs), { "guest1.eth0 -> guest3.eth0" })
  T.eq(#r.params.offload_combinations, 4)
end)

-- ------------------------------------------------------------ mixin recipes

-- Applies and removes every sub-configuration; returns the variants.
local function cycle(r, cfg, recipe, each)
  local mixins = {}
  for i, n in ipairs(recipe.enrt.mixins) do mixins[i] = enrt.mixin(n) end
  local subs = enrt.sub_configurations(mixins, r.params, cfg)
  for _, sub in ipairs(subs) do
    for _, part in ipairs(sub) do
      if part.mixin.apply_variant then part.mixin.apply_variant(r, cfg, part.variant) end
    end
    if each then each(sub) end
    for k = #sub, 1, -1 do
      local part = sub[k]
      if part.mixin.remove_variant then part.mixin.remove_variant(r, cfg, part.variant) end
    end
  end
  return subs
end

T.test("IpsecEspAead: two networks, host routes, ESP states and policies per IP version", function()
  local r, cfg, recipe = configure("recipes/enrt/ipsec_esp_aead.lua", { ipsec_mode = "tunnel" })
  local h1, h2 = r.hosts.host1, r.hosts.host2
  T.eq(ips(cfg, h1.eth0), { "198.51.100.1/24", "2001:db8:1::1/64" })
  T.eq(ips(cfg, h2.eth0), { "203.0.113.1/24", "2001:db8:2::1/64" })
  has("host1.eth0: route_add {dst=203.0.113.1/32}")
  has("host2.eth0: route_add {dst=2001:db8:1::1/128}")
  local key = "0x" .. ("0b"):rep(20)
  local pings = {}
  local subs = cycle(r, cfg, recipe, function(sub)
    if sub[1].variant.ipv == "ipv4" then
      has("host1: run ip xfrm policy flush")
      has("host1: run ip xfrm state add src 203.0.113.1 dst 198.51.100.1 proto esp spi 0x00001001 aead "
        .. "'rfc4106(gcm(aes))' " .. key .. " 96 mode tunnel sel src 203.0.113.1 dst 198.51.100.1")
      has("host1: run ip xfrm policy add src 203.0.113.1 dst 198.51.100.1 dir in tmpl src 203.0.113.1 dst "
        .. "198.51.100.1 proto esp mode tunnel action allow")
      has("host1: run ip xfrm policy add src 198.51.100.1 dst 203.0.113.1 dir out tmpl src 198.51.100.1 dst "
        .. "203.0.113.1 proto esp mode tunnel action allow")
      has("host2: run ip xfrm policy add src 198.51.100.1 dst 203.0.113.1 dir in tmpl src 198.51.100.1 dst "
        .. "203.0.113.1 proto esp mode tunnel action allow")
    end
    for _, list in ipairs(enrt.ping_plan(r.params, cfg.pairs, function(d, f) return cfg:ips(d, f) end)) do
      local l = require("lnst.enrt.mixins.ipsec").current_pings(cfg, list)
      if l then pings[#pings + 1] = l[1].destination_address end
    end
    local flows = { { ipver = "ipv6" } }
    T.eq(sub[1].mixin.keep_flows(sub[1].variant, flows), sub[1].variant.ipv == "ipv6")
  end)
  T.eq(#subs, 2)
  T.eq(pings, { "203.0.113.1", "2001:db8:2::1" })
  T.eq(LOG[#LOG], "host2: run ip xfrm state flush")
  T.eq(cfg.ipsec.current, nil)
end)

T.test("IpsecEspAhComp: one sub-configuration per IP version x cipher x hash", function()
  local r, cfg, recipe = configure("recipes/enrt/ipsec_esp_ah_comp.lua", { ip_versions = { "ipv4" } })
  local subs = cycle(r, cfg, recipe)
  T.eq(#subs, 4)
  T.eq(subs[4][1].variant.alg.desc, "cipher aes (256 bits), hash sha256 (256 bits)")
  has("host1: run ip xfrm policy add src 198.51.100.1 dst 203.0.113.1 dir out tmpl src 198.51.100.1 dst "
    .. "203.0.113.1 proto comp spi 0x00000004 mode transport tmpl src 198.51.100.1 dst 203.0.113.1 proto esp spi "
    .. "0x00000002 mode transport tmpl src 198.51.100.1 dst 203.0.113.1 proto ah spi 0x00000003 mode transport")
  has("host2: run ip xfrm policy add src 198.51.100.1 dst 203.0.113.1 dir in tmpl src 198.51.100.1 dst "
    .. "203.0.113.1 proto comp spi 0x00000004 mode transport level use tmpl src 198.51.100.1 dst 203.0.113.1 "
    .. "proto esp spi 0x00000002 mode transport tmpl src 198.51.100.1 dst 203.0.113.1 proto ah spi 0x00000003 "
    .. "mode transport")
  has("host1: run ip xfrm state add src 203.0.113.1 dst 198.51.100.1 proto comp spi 0x00000001 mode transport "
    .. "comp deflate")
  has("host2: run ip xfrm state add src 198.51.100.1 dst 203.0.113.1 proto esp spi 0x00000002 mode transport "
    .. "enc 'aes' 0x" .. ("0b"):rep(32))
  has("host1: run ip xfrm state add src 203.0.113.1 dst 198.51.100.1 proto ah spi 0x00000003 mode transport "
    .. "auth 'hmac(md5)' 0x" .. ("0b"):rep(16))
  local ok, err = pcall(configure, "recipes/enrt/ipsec_esp_ah_comp.lua", { ciphers = { { "aes", "12x" } } })
  T.ok(not ok and tostring(err):find("parameter 'ciphers': aes, 12x: expected [name, key bits", 1, true),
    tostring(err))
end)

T.test("SimpleMacsec: msec0 per encryption setting, keys swapped between hosts, removed after", function()
  local r, cfg, recipe = configure("recipes/enrt/simple_macsec.lua")
  local h1, h2 = r.hosts.host1, r.hosts.host2
  local seen = {}
  local subs = cycle(r, cfg, recipe, function(sub)
    seen[#seen + 1] = sub[1].variant
    T.eq(ips(cfg, cfg.pairs[1][1]), { "198.51.100.1/24", "2001:db8:101::1/64" })
    T.eq(pair_keys(cfg.pairs), { "host1.msec0 -> host2.msec0" })
  end)
  T.eq(#subs, 2)
  T.eq(seen, { "on", "off" })
  has("host1: create macsec msec0 {encrypt=true name=msec0 realdev=host1.eth0}")
  has("host2: create macsec msec0_2 {encrypt=false name=msec0 realdev=host2.eth0}")
  has("host1: run ip macsec add msec0 rx port 1 address " .. h2.eth0.hwaddr)
  has("host1: run ip macsec add msec0 tx sa 0 pn 1 on key 00 7a16780284000775d4f0a3c0f0e092c0")
  has("host1: run ip macsec add msec0 rx port 1 address " .. h2.eth0.hwaddr
    .. " sa 0 pn 1 on key 01 3212ef5c4cc5d0e4210b17208e88779e")
  has("host2: run ip macsec add msec0 tx sa 0 pn 1 on key 01 3212ef5c4cc5d0e4210b17208e88779e")
  has("host2.msec0: delete")
  T.eq(cfg:describe(), {})
  T.eq({ h1.msec0, h2.msec0_2 }, {})
end)

T.test("L2TPTunnel: tunnel 1000, session 2000, capture of the carrier packets", function()
  local recipe = dofile("recipes/enrt/l2tp_tunnel.lua")
  local r = run_ctx(recipe, { l2tp_encapsulation = "udp" })
  local cfg = enrt.config()
  recipe.enrt.def.configure(r, cfg)
  has("host1: l2tp_tunnel_add {encap=udp local=198.51.100.1 peer_tunnel_id=1000 remote=198.51.100.2 tunnel_id=1000 "
    .. "udp_dport=5000 udp_sport=5000}")
  has("host2: create l2tp l2tp_session1 {peer_session_id=2000 session_id=2000 tunnel_id=1000}")
  T.eq(ips(cfg, r.hosts.host2.l2tp_session1), { "203.0.113.2/24" })
  T.eq(pair_keys(cfg.pairs), { "host1.l2tp_session1 -> host2.l2tp_session1" })
  T.eq(r.params.ip_versions, { "ipv4" })
  local f = recipe.enrt.def.ping_test and cfg.l2tp
  T.eq(f.src, "198.51.100.1")
  r = run_ctx(recipe, { l2tp_encapsulation = "ip", carrier_ipversion = "ipv6" })
  cfg = enrt.config()
  recipe.enrt.def.configure(r, cfg)
  has("host2: l2tp_tunnel_add {encap=ip local=2001:db8:101::2 peer_tunnel_id=1000 remote=2001:db8:101::1 "
    .. "tunnel_id=1000}")
  local pa = require "lnst.tests.packet_assert"
  local line = "12:00:00.000000 IP6 2001:db8:101::1 > 2001:db8:101::2: ip-proto-115 106"
  T.ok(pa.count(line, { "IP6 2001%:db8%:101%:%:1 > 2001%:db8%:101%:%:2: *ip%-proto%-115" }) == 1)
end)

T.test("SoftwareRDMA: rdma links on eth0, ib_send_bw arguments, bandwidth parsing", function()
  local r, cfg, recipe = configure("recipes/enrt/software_rdma.lua", { software_rdma_type = "siw" })
  has("host1: run rdma link add siw0 type siw netdev eth0")
  has("host2: run rdma link add siw1 type siw netdev eth0")
  T.eq(ips(cfg, r.hosts.host1.eth0), { "198.51.100.1/24" })
  T.eq(r.params.ip_versions, { "ipv4" })
  recipe.enrt.def.deconfigure(r, cfg)
  has("host2: run rdma link delete siw1")
  local rdma = require "lnst.enrt.rdma"
  T.eq(rdma.parse_bandwidth("1234.56\n"), 1234.56)
  T.eq(rdma.parse_bandwidth("Couldn't connect\n"), nil)
  T.eq(table.concat(rdma.argv("rxe0", 5, "198.51.100.2", "198.51.100.1"), " "), "ib_send_bw 198.51.100.2 "
    .. "--source_ip 198.51.100.1 --output bandwidth --rdma_cm --ib-dev rxe0 --size 65536 --duration 5 --port 12000")
  LOG = {}
  rdma.measure(r, cfg, { r.hosts.host1.eth0, "siw0" }, { r.hosts.host2.eth0, "siw1" })
  T.eq(#r.checks, r.params.perf_iterations)
  T.eq(r.checks[1].ok, nil) -- the stand-in ib_send_bw prints nothing: no bandwidth
  has("host2: run ib_send_bw --output bandwidth --rdma_cm --ib-dev siw1 --size 65536 --duration 60 --port 12000")
  has("host1: run ib_send_bw 198.51.100.2 --source_ip 198.51.100.1 --output bandwidth --rdma_cm --ib-dev siw0 "
    .. "--size 65536 --duration 60 --port 12000")
end)

T.run()
