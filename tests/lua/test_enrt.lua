-- Unit tests for lnst.enrt's flow generation, against what upstream's
-- BaseEnrtRecipe yields for the same parameters (reference notes §4-5):
-- sub-configurations (offload combinations, their order, products of
-- mixins), ping configurations, perf configurations (endpoint pairs × IP
-- versions × perf tests × message sizes, ports from 12000, the offload
-- rule that drops sctp_stream, perf_reverse) and parameter defaults.
-- Run from the repo root: luajit tests/lua/test_enrt.lua
package.path = "lua/?.lua;lua/?/init.lua;tests/lua/?.lua;" .. package.path
local T = require "testlib"
local param = require "lnst.param"
local enrt = require "lnst.enrt"

-- fn must raise an error whose text contains `part`.
local function raises_with(fn, part)
  local ok, err = pcall(fn)
  T.ok(not ok and tostring(err):find(part, 1, true), "expected an error containing " .. part .. ", got "
    .. tostring(err))
end

local function host(name) return { name = name } end
local H1, H2 = host("host1"), host("host2")
local D1 = { host = H1, name = "eth0" }
local D2 = { host = H2, name = "eth0" }
local IPS = {
  [D1] = { "198.51.100.1/24", "2001:db8:101::1/64", "198.51.100.11/24", "fe80::1/64" },
  [D2] = { "198.51.100.2/24", "2001:db8:101::2/64", "198.51.100.12/24" },
}
local function ips(dev, fam)
  local out = {}
  for _, a in ipairs(IPS[dev]) do
    if (not fam or enrt.family(a) == fam) and not a:find("^fe80") then out[#out + 1] = a end
  end
  return out
end

local function mix(names)
  local out = {}
  for i, n in ipairs(names) do out[i] = enrt.mixin(n) end
  return out
end

local recipe = dofile("recipes/enrt/simple_network.lua")
local function params(given) return param.resolve(recipe.params, given or {}) end

T.test("SimpleNetwork: upstream's parameter names and defaults", function()
  local P = params()
  T.eq(P.ip_versions, { "ipv4", "ipv6" })
  T.eq({ P.ping_count, P.ping_interval, P.ping_psize, P.ping_parallel, P.ping_bidirect },
    { 100, 0.2, 56, false, false })
  T.eq(P.perf_tests, { "tcp_stream", "udp_stream", "sctp_stream" })
  T.eq({ P.perf_duration, P.perf_iterations, P.perf_warmup_duration, P.perf_parallel_streams,
    P.perf_parallel_processes }, { 60, 5, 0, 1, 1 })
  T.eq(P.perf_msg_sizes, { 123 })
  T.eq({ P.perf_reverse, P.drop_caches, P.perf_test_simulation }, { false, false, false })
  T.eq({ P.udp_fragmentation_threshold, P.udp_fragmentation_time }, { 104857600, 1 })
  T.eq({ P.net_ipv4, P.net_ipv6 }, { "198.51.100.0/24", "2001:db8:101::/64" })
  T.eq(P.coalescing_settings, {})
  T.eq({ P.mtu, P.rx_pause_frames, P.dev_intr_cpu, P.perf_tool_cpu }, {})
  T.eq(#P.offload_combinations, 5)
  T.eq(P.offload_combinations[1], { gro = "on", gso = "on", tso = "on", tx = "on", rx = "on" })
  T.eq(P.offload_combinations[3], { gro = "on", gso = "off", tso = "off", tx = "on", rx = "on" })
end)

T.test("base default offload_combinations is empty; recipe defaults override", function()
  local P = param.resolve(enrt.params_of({ name = "x" }, mix { "offload" }), {})
  T.eq(P.offload_combinations, {})
  T.eq(enrt.params_of({ name = "x", defaults = { perf_duration = 7 } }, {}).perf_duration.default, 7)
  raises_with(function() enrt.params_of({ name = "x", defaults = { nope = 1 } }, {}) end, "unknown parameter 'nope'")
  raises_with(function() enrt.params_of({ name = "x", defaults = { perf_duration = "a" } }, {}) end, "bad default")
end)

T.test("addresses from the test networks", function()
  T.eq(enrt.addr("198.51.100.0/24", 2), "198.51.100.2/24")
  T.eq(enrt.addr("203.0.113.0/24", 300, 32), "203.0.114.44/32")
  T.eq(enrt.addr("2001:db8:101::/64", 10), "2001:db8:101::a/64")
  T.eq(enrt.addr("2001:db8::/32", 1, 128), "2001:db8::1/128")
end)

-- upstream SimpleNetworkRecipe with defaults: 24 perf configurations
-- (6 + 4 + 6 + 4 + 4), ipv4 {tcp, udp, sctp} then ipv6, one flow each on port 12000.
T.test("SimpleNetwork defaults: 5 sub-configurations, 24 perf configurations in upstream's order", function()
  local P = params()
  local subs = enrt.sub_configurations(mix(recipe.enrt.mixins), P, {})
  T.eq(#subs, 5)
  local counts, all = {}, {}
  for i, sub in ipairs(subs) do
    local combos = enrt.perf_plan(P, { { D1, D2 } }, ips, sub)
    counts[i] = #combos
    for _, c in ipairs(combos) do all[#all + 1] = c end
  end
  T.eq(counts, { 6, 4, 6, 4, 4 })
  T.eq(#all, 24)
  local first = {}
  for i = 1, 6 do first[i] = all[i].description end
  T.eq(first, {
    "ipv4 tcp_stream host1.eth0 -> host2.eth0 msg 123", "ipv4 udp_stream host1.eth0 -> host2.eth0 msg 123",
    "ipv4 sctp_stream host1.eth0 -> host2.eth0 msg 123", "ipv6 tcp_stream host1.eth0 -> host2.eth0 msg 123",
    "ipv6 udp_stream host1.eth0 -> host2.eth0 msg 123", "ipv6 sctp_stream host1.eth0 -> host2.eth0 msg 123" })
  local f = all[4].flows[1]
  T.eq({ f.generator_bind, f.receiver_bind, f.receiver_port, f.generator_port, f.msg_size, f.duration },
    { "2001:db8:101::1", "2001:db8:101::2", 12000, 12000, 123, 60 })
  -- combination 2 (gro off, gso on) drops sctp; combination 3 (gso off) keeps it
  local types = {}
  for _, c in ipairs(enrt.perf_plan(P, { { D1, D2 } }, ips, subs[2])) do types[#types + 1] = c.flows[1].type end
  T.eq(types, { "tcp_stream", "udp_stream", "tcp_stream", "udp_stream" })
end)

T.test("pairs x ip versions x tests x sizes; parallel processes get ports 12000 up", function()
  local P = params { perf_tests = { "tcp_stream", "udp_stream" }, perf_msg_sizes = { 100, 1400 },
    ip_versions = { "ipv4" }, perf_parallel_processes = 3, perf_parallel_streams = 2 }
  local D3 = { host = H1, name = "eth1" }
  local D4 = { host = H2, name = "eth1" }
  IPS[D3], IPS[D4] = { "203.0.113.1/24" }, { "203.0.113.2/24" }
  local combos = enrt.perf_plan(P, { { D1, D2 }, { D3, D4 } }, ips, {})
  T.eq(#combos, 2 * 1 * 2 * 2)
  local d = {}
  for i, c in ipairs(combos) do d[i] = c.description end
  T.eq(d[1], "ipv4 tcp_stream host1.eth0 -> host2.eth0 msg 100 processes 3 streams 2")
  T.eq(d[2], "ipv4 tcp_stream host1.eth0 -> host2.eth0 msg 1400 processes 3 streams 2")
  T.eq(d[3], "ipv4 udp_stream host1.eth0 -> host2.eth0 msg 100 processes 3 streams 2")
  T.eq(d[5], "ipv4 tcp_stream host1.eth1 -> host2.eth1 msg 100 processes 3 streams 2")
  local ports = {}
  for i, f in ipairs(combos[1].flows) do ports[i] = { f.generator_port, f.receiver_port } end
  T.eq(ports, { { 12000, 12000 }, { 12001, 12001 }, { 12002, 12002 } })
  T.eq(combos[1].flows[1].generator_bind, "198.51.100.1") -- the first address of the family
  T.eq(combos[5].flows[1].receiver_bind, "203.0.113.2")
end)

T.test("perf_reverse swaps generator and receiver; cpu pinning policies", function()
  local P = params { perf_reverse = true, ip_versions = { "ipv4" }, perf_tests = { "tcp_stream" } }
  local c = enrt.perf_plan(P, { { D1, D2 } }, ips, {})[1]
  T.eq({ c.flows[1].generator.name, c.flows[1].receiver.name }, { "host2", "host1" })
  P = params { ip_versions = { "ipv4" }, perf_tests = { "tcp_stream" }, perf_parallel_processes = 2,
    perf_tool_cpu = { 0, 1 }, perf_tool_cpu_policy = "round-robin" }
  c = enrt.perf_plan(P, { { D1, D2 } }, ips, {})[1]
  T.eq({ c.flows[1].generator_cpupin, c.flows[2].generator_cpupin }, { { 0 }, { 1 } })
end)

T.test("ping configurations: one list per pair and IP version; parallel; bidirect", function()
  local P = params()
  local lists = enrt.ping_plan(P, { { D1, D2 } }, ips)
  T.eq(#lists, 2)
  T.eq(#lists[1], 1)
  local c = lists[1][1]
  T.eq({ c.client.name, c.client_bind, c.destination.name, c.destination_address, c.count, c.interval, c.size },
    { "host1", "198.51.100.1", "host2", "198.51.100.2", 100, 0.2, 56 })
  T.eq(lists[2][1].destination_address, "2001:db8:101::2")
  lists = enrt.ping_plan(params { ping_parallel = true, ip_versions = { "ipv4" } }, { { D1, D2 } }, ips)
  T.eq(#lists, 1)
  T.eq({ lists[1][1].client_bind, lists[1][2].client_bind, lists[1][2].destination_address },
    { "198.51.100.1", "198.51.100.11", "198.51.100.12" })
  lists = enrt.ping_plan(params { ping_bidirect = true, ping_count = 3 }, { { D1, D2 } }, ips)
  local r = lists[1][2]
  T.eq({ #lists[1], r.client.name, r.client_bind, r.destination_address, r.count },
    { 2, "host2", "198.51.100.2", "198.51.100.1", 3 })
  -- unreachable pairs are not pinged over IPv6 (upstream)
  lists = enrt.ping_plan(P, { { D1, D2, reachable = false } }, ips)
  T.eq({ #lists, lists[1][1].reachable }, { 1, false })
end)

T.test("sub-configurations: product of the mixins in list order", function()
  local a = { subconfigs = function() return { "a1", "a2" } end }
  local b = { subconfigs = function() return { "b1", "b2", "b3" } end }
  local subs = enrt.sub_configurations({ a, { params = {} }, b }, {}, {})
  T.eq(#subs, 6)
  local names = {}
  for i, s in ipairs(subs) do names[i] = s[1].variant .. s[2].variant end
  T.eq(names, { "a1b1", "a1b2", "a1b3", "a2b1", "a2b2", "a2b3" })
  T.eq(#enrt.sub_configurations({}, {}, {}), 1) -- no sub-configuration mixin: one, empty
  -- an empty offload_combinations: one sub-configuration that leaves offloads alone
  local none = enrt.sub_configurations(mix { "offload" }, { offload_combinations = {} }, {})
  T.eq({ #none, none[1][1].variant }, { 1, {} })
end)

T.test("unknown mixins and fields are errors", function()
  raises_with(function() enrt.mixin("nope") end, "unknown mixin 'nope'")
  raises_with(function() enrt.recipe { configure = function() end, bogus = 1 } end, "unknown field 'bogus'")
end)

T.test("neper flows: pairs x versions x tests x sizes, ports from 12000, reverse", function()
  local rr = require "lnst.enrt.rr"
  local P = { ip_versions = { "ipv4", "ipv6" }, perf_tests = { "tcp_rr", "tcp_crr" }, perf_msg_sizes = { 1, 1000 },
    perf_parallel_processes = 2, perf_parallel_streams = 1, perf_duration = 5 }
  local combos = rr.generate(P, { { D1, D2 } }, ips)
  T.eq(#combos, 8)
  T.eq(combos[1].description, "ipv4 tcp_rr host1.eth0 -> host2.eth0 msg 1 processes 2")
  T.eq(combos[8].description, "ipv6 tcp_crr host1.eth0 -> host2.eth0 msg 1000 processes 2")
  T.eq({ combos[1].flows[1].receiver_port, combos[1].flows[2].receiver_port }, { 12000, 12001 })
  T.eq({ combos[1].flows[1].generator_bind, combos[1].flows[1].receiver_bind }, { "198.51.100.1", "198.51.100.2" })
  P.perf_reverse, P.perf_parallel_processes, P.ip_versions = true, 1, { "ipv4" }
  local rev = rr.generate(P, { { D1, D2 } }, ips)
  T.eq({ #rev, rev[1].flows[1].generator.name, rev[1].flows[1].receiver_bind }, { 4, "host2", "198.51.100.1" })
end)

T.test("firewall rulesets are sub-configurations, after the offload ones", function()
  local fw = { { desc = "a", [H2] = "table ip t {}" }, { desc = "b", [H2] = "table ip u {}" } }
  local subs = enrt.sub_configurations(mix { "offload", "firewall" },
    { offload_combinations = { { gro = "off" }, { gro = "on" } } }, { firewall_rulesets = fw })
  T.eq(#subs, 4)
  T.eq({ subs[1][2].variant.desc, subs[2][2].variant.desc, subs[3][1].variant.gro }, { "a", "b", "on" })
  T.eq(#enrt.sub_configurations(mix { "firewall" }, {}, {}), 1) -- no ruleset: one, firewall untouched
  T.eq(enrt.mixin("firewall").describe_sub(fw[1]), "Firewall: nftables ruleset a on host2 (1 lines)")
end)

T.test("mixins firewall, conntrack and long_lived load with their parameters", function()
  local ps = enrt.params_of({ name = "x" }, mix { "conntrack", "long_lived" })
  T.eq({ ps.long_lived_conns.mandatory, ps.long_lived_conns_port.default,
    ps.long_lived_conns_per_ip.default }, { true, 20000, 20000 })
  T.ok(enrt.mixin("conntrack").configure and enrt.mixin("conntrack").deconfigure)
  T.ok(enrt.mixin("long_lived").perf_apply and enrt.mixin("long_lived").perf_remove)
end)

T.run()
