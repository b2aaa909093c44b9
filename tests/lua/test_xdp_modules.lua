-- Unit tests for the pktgen and xdp_bench test modules' pure parts, on
-- output recorded in a QEMU guest (Debian kernel 6.1.0-56, xdp-tools 1.3.1;
-- tests/lua/data/pktgen_*.txt, xdp_bench_*.txt), their module specs, and
-- the XDP measurement's plan and results (lnst.perf.xdp).
-- Run from the repo root: luajit tests/lua/test_xdp_modules.lua
package.path = "lua/?.lua;lua/?/init.lua;tests/lua/?.lua;" .. package.path
local T = require "testlib"
local pktgen = require "lnst.tests.pktgen"
local xb = require "lnst.tests.xdp_bench"
local modules = require "lnst.modules"
local px = require "lnst.perf.xdp"

local data = T.data

local function lines_at(text, t0, step)
  local out, t = {}, t0
  for l in text:gmatch("([^\n]*)\n") do
    t = t + step
    out[#out + 1] = { t, l }
  end
  return out
end

-- ---------------------------------------------------------------- pktgen

T.test("pktgen: device file before, while and after running", function()
  T.eq(pktgen.parse_device(data("pktgen_dev_configured.txt")),
    { sofar = 0, errors = 0, result = "OK: udp_dst_max=9" })
  T.eq(pktgen.parse_device(data("pktgen_dev_running.txt")), { sofar = 53414, errors = 719, result = "Starting" })
  T.eq(pktgen.parse_device(data("pktgen_dev_stopped.txt")), { sofar = 123761, errors = 719,
    result = "OK: 5991231(c5589016+d402214) usec, 123761 (60byte,0frags) 20657pps 9Mb/sec (9915360bps) errors: 719" })
end)

T.test("pktgen: a file without counters is an error saying so", function()
  local r, why = pktgen.parse_device("Params: count 0\nResult: Idle\n")
  T.eq(r, nil)
  T.eq(why, "no 'Current:' ... 'Result:' sections in pktgen's device file")
end)

T.test("pktgen: samples become per-interval packets, timestamped at the start", function()
  local raw = {}
  for i, f in ipairs { "pktgen_dev_configured.txt", "pktgen_dev_running.txt", "pktgen_dev_stopped.txt" } do
    raw[i] = pktgen.parse_device(data(f))
    raw[i].time = 100 + (i - 1) * 1.5
  end
  T.eq(pktgen.intervals(raw), {
    { timestamp = 100, duration = 1.5, packets = 53414, errors = 719 },
    { timestamp = 101.5, duration = 1.5, packets = 123761 - 53414, errors = 0 },
  })
end)

T.test("pktgen: commands as upstream's PktgenDevice writes them", function()
  T.eq(pktgen.commands { cpu = 0, src_if = "eth0", dst_mac = "8a:dd:4f:5c:b9:47", src_ip = "198.51.100.1",
    dst_ip = "198.51.100.2", pkt_size = 123 }, {
    "flag NO_TIMESTAMP", "flag QUEUE_MAP_CPU", "count 0", "pkt_size 123", "dst_mac 8a:dd:4f:5c:b9:47",
    "dst_min 198.51.100.2", "dst_max 198.51.100.2", "src_min 198.51.100.1", "src_max 198.51.100.1",
    "udp_src_min 9", "udp_src_max 9", "udp_dst_min 9", "udp_dst_max 9", "burst 8" })
  T.eq(pktgen.commands { cpu = 1, src_if = "eth0", dst_mac = "8a:dd:4f:5c:b9:47", src_ip = "2001:db8::1",
    dst_ip = "2001:db8::2", flags = {}, count = 5, src_port = 12000, dst_port = 12001, vlan_id = 10, ratep = 1000,
    burst = 1 }, {
    "count 5", "pkt_size 60", "dst_mac 8a:dd:4f:5c:b9:47", "dst6 2001:db8::2", "src6 2001:db8::1",
    "udp_src_min 12000", "udp_src_max 12000", "udp_dst_min 12001", "udp_dst_max 12001", "vlan_id 10",
    "ratep 1000", "burst 1" })
  T.eq(pktgen.device_name { src_if = "eth0", cpu = 3 }, "eth0@3")
end)

T.test("pktgen: spec checks every device entry", function()
  local s = modules.tests.pktgen { config = { { cpu = 0, src_if = "eth0", dst_mac = "8A:DD:4F:5C:B9:47",
    src_ip = "198.51.100.1/24", dst_ip = "198.51.100.2", duration = 5 } } }
  T.eq(s.params.config[1].src_ip, "198.51.100.1")
  T.eq(s.params.config[1].burst, 8)
  T.eq(s.timeout, 35)
  local ok, err = pcall(modules.tests.pktgen, { config = { { cpu = 0, src_if = "eth0", dst_mac = "nope",
    src_ip = "198.51.100.1", dst_ip = "2001:db8::2" }, { src_if = "eth0" } } })
  T.eq(ok, false)
  T.ok(err:find("config[1]: src_ip and dst_ip are of different IP versions", 1, true), err)
  T.ok(err:match("config%[2%]: [^;]*cpu"), err)
  T.ok(err:match("config%[2%]: [^;]*dst_mac"), err)
end)

-- ---------------------------------------------------------------- xdp-bench

T.test("xdp-bench: options and valid values from --help (1.3.1)", function()
  local h = xb.parse_help(data("xdp_bench_help_drop.txt"))
  T.eq(h["program-mode"], { short = "p", values = { "no-touch", "read-data", "swap-macs" } })
  T.eq(h["xdp-mode"], { short = "m", values = { "native", "skb" } })
  T.eq(h["rxq-stats"], { short = "r" })
  T.eq(h.version, {})
  T.eq(h["load-mode"], nil)
  T.eq(xb.parse_help(data("xdp_bench_help_pass.txt"))["program-mode"].values, { "no-touch", "read-data", "swap-macs" })
  T.eq(xb.parse_help(data("xdp_bench_help_redirect.txt")).mode.values, { "native", "skb" })
  T.eq(xb.parse_help(data("xdp_bench_help_redirect_cpu.txt"))["program-mode"].values,
    { "no-touch", "touch", "round-robin", "l4-proto", "l4-filter", "l4-hash" })
end)

T.test("xdp-bench: argv from params, with the names this version has", function()
  local drop = xb.parse_help(data("xdp_bench_help_drop.txt"))
  T.eq(xb.argv({ command = "drop", interface = "eth0", xdp_mode = "skb", packet_operation = "swap-macs",
    interval = 1 }, drop), { "xdp-bench", "drop", "--xdp-mode", "skb", "--program-mode", "swap-macs",
    "--interval", "1", "eth0" })
  T.eq(xb.argv({ command = "redirect", interface = "eth0", interface2 = "eth1", xdp_mode = "native" },
    xb.parse_help(data("xdp_bench_help_redirect.txt"))),
    { "xdp-bench", "redirect", "--mode", "native", "--interval", "1", "eth0", "eth1" })
  T.eq(xb.argv({ command = "redirect-cpu", interface = "eth0", program = "round-robin", remote_action = "drop",
    qsize = 512, cpus = { 0, 1 }, extended = true }, xb.parse_help(data("xdp_bench_help_redirect_cpu.txt"))),
    { "xdp-bench", "redirect-cpu", "--program-mode", "round-robin", "--remote-action", "drop", "--qsize", "512",
      "--cpu", "0", "--cpu", "1", "--extended", "--interval", "1", "eth0" })
end)

T.test("xdp-bench: what this version lacks is a reason, not an obscure failure", function()
  local drop = xb.parse_help(data("xdp_bench_help_drop.txt"))
  T.eq(select(2, xb.argv({ command = "drop", interface = "eth0", load_mode = "dpa" }, drop, "xdp-tools 1.3.1")),
    "xdp-bench drop (xdp-tools 1.3.1) has no --load-mode option (load_mode=dpa)")
  T.eq(select(2, xb.argv({ command = "drop", interface = "eth0", packet_operation = "parse-ip" }, drop,
    "xdp-tools 1.3.1")), "xdp-bench drop (xdp-tools 1.3.1): --program-mode takes no-touch, read-data, "
    .. "swap-macs, not parse-ip (packet_operation)")
  T.eq(select(2, xb.argv({ command = "redirect-cpu", interface = "eth0", program = "l4-dport", cpus = { 0 } },
    xb.parse_help(data("xdp_bench_help_redirect_cpu.txt")), "xdp-tools 1.3.1")),
    "xdp-bench redirect-cpu (xdp-tools 1.3.1): --program-mode takes no-touch, touch, round-robin, l4-proto, "
    .. "l4-filter, l4-hash, not l4-dport (program)")
end)

T.test("xdp-bench: Summary lines become samples; the rest is ignored", function()
  local s = xb.samples(lines_at(data("xdp_bench_drop.txt"), 1000, 1), 999.5)
  T.eq(#s, 6)
  T.eq(s[1], { rx = 0, err = 0, timestamp = 999.5, duration = 4.5 })
  T.eq(s[2], { rx = 14898, err = 0, timestamp = 1004, duration = 1 })
  T.eq(s[6].rx, 13168)
  local e = xb.samples(lines_at(data("xdp_bench_drop_extended.txt"), 0, 1), 0)
  T.eq({ #e, e[1].rx, e[2].rx, e[3].rx }, { 3, 53759, 24585, 21903 })
  T.eq({ xb.parse_summary("Summary                     30708 rx/s                  0 err,drop/s   ") }, { 30708, 0 })
  T.eq({ xb.parse_summary("Summary 1,234,567 rx/s 12 err/s") }, { 1234567, 12 })
  T.eq(xb.parse_summary("  Packets received    : 117602    "), nil)
end)

T.test("xdp-bench redirect-cpu: blocks with receive totals and remote stats", function()
  local s = xb.redirect_cpu_samples(lines_at(data("xdp_bench_redirect_cpu.txt"), 10, 1), 9)
  T.eq(#s, 5)
  T.eq(s[1], { received = 0, forwarded_per_cpu = {}, timestamp = 9, duration = 4 })
  T.eq(s[3], { received = 3366, forwarded_per_cpu = {}, remote = { pass = 0, drop = 2266, redir = 0 },
    timestamp = 14, duration = 1 })
  T.eq(s[5].remote.drop, 5582)
  local a = xb.redirect_cpu_samples(lines_at(data("xdp_bench_redirect_cpu_aborted.txt"), 0, 1), 0)
  T.eq({ #a, a[1].received, a[2].received }, { 2, 0, 0 })
end)

T.test("xdp-bench redirect-cpu: upstream's extended format with per-CPU kthread lines", function()
  local text = table.concat({
    "eth0->?                  4,334,231 rx/s                  0 err,drop/s",
    "  receive total          4,334,231 pkt/s                 0 drop/s                0 error/s",
    "    cpu:0                4,334,231 pkt/s                 0 drop/s                0 error/s",
    "  kthread total          4,334,231 pkt/s                 0 drop/s                0 sched",
    "    cpu:4                2,162,754 pkt/s                 0 drop/s                0 sched",
    "    cpu:6                2,171,476 pkt/s                 0 drop/s                0 sched",
    "  xdp_exception                  0 hit/s", "" }, "\n")
  local s = xb.redirect_cpu_samples(lines_at(text, 0, 0.1), 0)
  T.eq(#s, 1)
  T.eq(s[1].received, 4334231)
  T.eq(s[1].forwarded_per_cpu, { ["4"] = 2162754, ["6"] = 2171476 })
end)

T.test("xdp-bench: specs", function()
  local s = modules.tests.xdp_bench { command = "drop", interface = "eth0", duration = 4 }
  T.eq({ s.params.role, s.params.xdp_mode, s.timeout, s.tools[1], s.ready }, { "bench", "native", 34, "xdp-bench",
    true })
  local r = modules.tests.xdp_bench_redirect_cpu { interface = "eth0", cpus = { 0, 1 }, program = "round-robin" }
  T.eq({ r.params.command, r.params.extended, r.params.qsize, r.params.remote_action }, { "redirect-cpu", true, 512,
    "drop" })
  T.eq(pcall(modules.tests.xdp_bench, { command = "bogus", interface = "eth0" }), false)
end)

-- ---------------------------------------------------------------- lnst.perf.xdp

local h1, h2 = { name = "host1" }, { name = "host2" }
local d1, d2 = { name = "eth0", host = h1 }, { name = "eth0", host = h2 }
local IPS = { [d1] = { ipv4 = { "198.51.100.1/24" }, ipv6 = { "2001:db8:101::1/64" } },
  [d2] = { ipv4 = { "198.51.100.2/24" }, ipv6 = { "2001:db8:101::2/64" } } }
local function plan(extra)
  local o = { generator = d1, receiver = d2, ips = function(d, v) return IPS[d][v] end,
    ip_versions = { "ipv4", "ipv6" }, msg_sizes = { 123, 1400 }, duration = 5, warmup_duration = 1 }
  for k, v in pairs(extra or {}) do o[k] = v end
  return px.plan(o)
end

T.test("perf.xdp: one combination per IP version and packet size", function()
  local c = plan()
  local d = {}
  for i, x in ipairs(c) do d[i] = x.description end
  T.eq(d, { "ipv4 pktgen host1.eth0 -> host2.eth0 pkt_size 123", "ipv4 pktgen host1.eth0 -> host2.eth0 pkt_size 1400",
    "ipv6 pktgen host1.eth0 -> host2.eth0 pkt_size 123", "ipv6 pktgen host1.eth0 -> host2.eth0 pkt_size 1400" })
  local f = c[3].flows[1]
  T.eq({ f.generator_bind, f.receiver_bind, f.msg_size, f.cpu, f.duration, f.warmup_duration, f.generator_nic },
    { "2001:db8:101::1", "2001:db8:101::2", 123, 0, 5, 1, "eth0" })
end)

T.test("perf.xdp: parallel processes are pktgen devices on CPUs round-robin, ports from 12000", function()
  local c = plan { ip_versions = { "ipv4" }, msg_sizes = { 60 }, parallel_processes = 3, cpupin = { 2, 5 } }
  T.eq(#c, 1)
  T.eq(c[1].description, "ipv4 pktgen host1.eth0 -> host2.eth0 pkt_size 60 processes 3")
  local cpus, ports = {}, {}
  for i, f in ipairs(c[1].flows) do cpus[i], ports[i] = f.cpu, f.receiver_port end
  T.eq(cpus, { 2, 5, 2 })
  T.eq(ports, { 12000, 12001, 12002 })
  local m = px.measurement(c[1].flows, { command = "redirect-cpu", receiver_mac = "8a:dd:4f:5c:b9:47", ratep = 1000,
    burst = 4, cpus = { 0, 1 } })
  local cfg = m:pktgen_config()
  T.eq({ cfg[2].cpu, cfg[2].src_port, cfg[2].dst_port, cfg[2].ratep, cfg[2].burst, cfg[2].duration, cfg[2].dst_ip },
    { 5, 12001, 12001, 250, 4, 7, "198.51.100.2" })
  T.eq(plan({ parallel_processes = 2, ip_versions = { "ipv4" }, msg_sizes = { 60 } })[1].flows[2].cpu, 1)
end)

local flows = plan({ ip_versions = { "ipv4" }, msg_sizes = { 60 } })[1].flows
local GEN = { passed = true, result = { devices = { { name = "eth0@0", cpu = 0, samples = {
  { timestamp = 100, duration = 1, packets = 20000, errors = 0 },
  { timestamp = 101, duration = 1, packets = 30000, errors = 0 } } } }, notes = { "a note" } } }

T.test("perf.xdp: results in packets from both jobs", function()
  local r = px.results(flows, GEN, { passed = true, result = { samples = {
    { rx = 19000, err = 0, timestamp = 99.5, duration = 1 }, { rx = 29000, err = 0, timestamp = 100.5, duration = 1 },
    { rx = 1000, err = 0, timestamp = 101.5, duration = 0.5 } } } }, false)
  T.eq({ r.success, r.skipped, #r.problems, r.notes }, { true, nil, 0, { "a note" } })
  T.eq({ r.generator_results:value_of(), r.generator_results:duration_of(), r.generator_results.unit },
    { 50000, 2, "packets" })
  T.eq({ r.receiver_results:value_of(), r.receiver_results:average() }, { 49000, 49000 / 2.5 })
end)

T.test("perf.xdp: a failed job FAILs with its reason, a skipped one is a skip", function()
  local r = px.results(flows, GEN, { passed = false, result = { msg = "host host2: xdp-bench exited with code 1" } },
    false)
  T.eq({ r.success, r.problems, r.receiver_results:value_of() },
    { false, { "xdp-bench on host2 failed: host host2: xdp-bench exited with code 1" }, 0 })
  local s = px.results(flows, { passed = false, skipped = "the kernel of host host1 has no pktgen" },
    { passed = true, result = { samples = {} } }, false)
  T.eq({ s.success, s.skipped, #s.problems },
    { false, "pktgen on host1 skipped: the kernel of host host1 has no pktgen", 0 })
end)

T.test("perf.xdp: redirect-cpu per-CPU results, or the remote total without per-CPU lines", function()
  local per = px.results(flows, GEN, { passed = true, result = { samples = {
    { received = 100, forwarded_per_cpu = { ["0"] = 40, ["1"] = 60, ["7"] = 1 }, timestamp = 100, duration = 1 } } } },
    true, { 0, 1 })
  T.eq({ #per.receiver_results, per.receiver_results[1]:value_of(), per.receiver_results[2]:value_of(),
    per.forwarded_results:value_of() }, { 2, 40, 60, 100 })
  T.eq(per.notes[2], "xdp-bench reported CPU 7, which is not a cpumap CPU: ignored")
  local sum = px.results(flows, GEN, { passed = true, result = { samples = {
    { received = 3366, forwarded_per_cpu = {}, remote = { pass = 0, drop = 2266, redir = 0 }, timestamp = 100,
      duration = 1 } } } }, true, { 0, 1 })
  T.eq({ #sum.receiver_results, sum.receiver_results:value_of(), sum.forwarded_results:value_of() }, { 1, 2266, 3366 })
  T.ok(sum.notes[2]:find("no per-CPU kthread lines", 1, true), sum.notes[2])
end)

T.test("perf.xdp: the warm-up window, slicing and aggregation", function()
  local wflows = plan({ ip_versions = { "ipv4" }, msg_sizes = { 60 }, duration = 1, warmup_duration = 0.5 })[1].flows
  local samples = { { rx = 10000, err = 0, timestamp = 100, duration = 1 },
    { rx = 10000, err = 0, timestamp = 101, duration = 1 } }
  local it = { px.results(wflows, GEN, { passed = true, result = { samples = samples } }, false) }
  local m = px.measurement(wflows, { command = "drop", xdp_mode = "native" })
  T.eq({ m.window(it) }, { 100.5, 101.5 })
  local sl = m.slice(it, 100.5, 101.5)
  T.eq({ sl[1].generator_results:value_of(), sl[1].receiver_results:value_of() }, { 25000, 10000 })
  local agg = m.aggregate(m.aggregate(nil, sl), sl)
  T.eq({ #agg[1].generator_results, agg[1].generator_results:average(), agg[1].notes }, { 2, 25000, { "a note" } })
  local recs = {}
  local items = m:report(function(rec) recs[#recs + 1] = rec end, agg, { name = "conf" })
  T.eq({ #items, recs[1].result, recs[1].measurement_type }, { 1, "PASS", "xdp-bench" })
  T.ok(recs[1].description:find("Generator generated (generator_results): 25000.00 packets/s", 1, true),
    recs[1].description)
end)

T.run()
