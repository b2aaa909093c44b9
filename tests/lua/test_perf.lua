-- Unit tests for lnst.perf: the data model, flow generation, iperf3
-- parsing (recorded output), aggregation, evaluators, the progress line
-- and the perf_test loop (simulated, with a stand-in for lnst.core).
-- Run from the repo root: luajit tests/lua/test_perf.lua
package.path = "lua/?.lua;lua/?/init.lua;tests/lua/?.lua;" .. package.path
local T = require "testlib"

-- perf.run asks lnst.core for the time; the real one lives in the binary.
local clock = 1000
package.preload["lnst.core"] = function()
  return { now = function() return clock end, time = function() return clock end, isatty = function() return false end }
end

local R = require "lnst.perf.results"
local flow = require "lnst.perf.flow"
local cpu = require "lnst.perf.cpu"
local ev = require "lnst.perf.evaluators"
local progress = require "lnst.perf.progress"
local perf = require "lnst.perf"
local json = require "lnst.json"
local results = require "lnst.results"

local function near(a, b, what)
  T.ok(math.abs(a - b) < 1e-6 * math.max(1, math.abs(b)), (what or "") .. ": " .. a .. " ~= " .. b)
end

-- ---------------------------------------------------------------- model

T.test("interval: average, slice", function()
  local i = R.interval(100, 2, "bits", 10)
  T.eq(i:average(), 50)
  local s = i:time_slice(11, 20)
  T.eq({ s.value, s.duration, s.timestamp }, { 50, 1, 11 })
  T.raises(function() i:time_slice(12, 13) end, R.EMPTY_SLICE)
  T.eq(R.interval(5, 0, "x", 0):average(), 0)
end)

T.test("sequential: sums, deviation over children's averages", function()
  local s = R.sequential { R.interval(10, 1, "bits", 0), R.interval(30, 1, "bits", 1) }
  T.eq({ s.value, s.duration, s:average(), s.unit }, { 40, 2, 20, "bits" })
  T.eq(s:std_deviation(), 10)
  T.eq(s:deviation_percentage(), 50)
  T.eq({ s:start_timestamp(), s:end_timestamp() }, { 0, 2 })
end)

T.test("parallel: value sums, duration spans", function()
  local p = R.parallel {
    R.sequential { R.interval(10, 1, "bits", 0), R.interval(10, 1, "bits", 1) },
    R.sequential { R.interval(30, 1, "bits", 0.5), R.interval(30, 1, "bits", 1.5) },
  }
  T.eq(p.value, 80)
  T.eq(p.duration, 2.5)
  near(p:average(), 32)
end)

T.test("slicing a result drops what is outside and scales edges", function()
  local s = R.sequential { R.interval(10, 1, "bits", 0), R.interval(20, 1, "bits", 1), R.interval(30, 1, "bits", 2) }
  local cut = s:time_slice(0.5, 2)
  T.eq(#cut, 2)
  T.eq({ cut.value, cut.duration }, { 25, 1.5 })
  T.raises(function() s:time_slice(5, 6) end, R.EMPTY_SLICE)
end)

T.test("averages difference and summary", function()
  local a, b = R.interval(110, 1, "bits", 0), R.interval(100, 1, "bits", 0)
  near(R.averages_difference(a, b), 10)
  local sum = R.summary(R.sequential { a, b }, 1)
  T.eq({ sum.average, sum.kind, #sum.items, sum.items[1].average }, { 105, "sequential", 2, 110 })
end)

-- ---------------------------------------------------------------- flows

local h1, h2 = { name = "host1" }, { name = "host2" }

T.test("generate: pairs x IP versions x tests x sizes, ports from 12000", function()
  local combos = flow.generate {
    pairs = { { { host = h1, nic = "eth0", ips = { "198.51.100.1/24", "2001:db8::1/64", "fe80::1/64" } },
                { host = h2, nic = "eth0", ips = { "198.51.100.2/24", "2001:db8::2/64" } } } },
    ip_versions = { "ipv4", "ipv6" }, perf_tests = { "tcp_stream", "udp_stream" }, msg_sizes = { 123, 1400 },
    parallel_processes = 2, duration = 5, cpupin = { 0, 1 }, cpupin_policy = "round-robin",
  }
  T.eq(#combos, 8)
  T.eq(combos[1].description, "ipv4 tcp_stream host1.eth0 -> host2.eth0 msg 123 processes 2")
  T.eq(combos[8].description, "ipv6 udp_stream host1.eth0 -> host2.eth0 msg 1400 processes 2")
  local f1, f2 = combos[1].flows[1], combos[1].flows[2]
  T.eq({ f1.receiver_port, f2.receiver_port, f1.generator_port }, { 12000, 12001, 12000 })
  T.eq({ f1.generator_bind, f1.receiver_bind, f1.msg_size, f1.duration }, { "198.51.100.1", "198.51.100.2", 123, 5 })
  T.eq({ f1.generator_cpupin, f2.generator_cpupin }, { { 0 }, { 1 } })
  T.eq(combos[5].flows[1].generator_bind, "2001:db8::1") -- link-local never chosen
  T.eq(flow.describe(f1), "tcp_stream host1 198.51.100.1 -> host2 198.51.100.2 port 12000 msg 123")
end)

T.test("flow measurement: every server starts before any client; a failed server gets no client", function()
  local log = {}
  local fake_tests = {
    iperf_server = function(p) return { role = "server", p = p } end,
    iperf_client = function(p) return { role = "client", p = p } end,
  }
  local function host(name)
    return { name = name, run = function(_, spec, opts)
      log[#log + 1] = string.format("%s %s %d%s", name, spec.role, spec.p.port, opts.bg and " bg" or "")
      -- the server on port 12001 fails at once (its job is finished on return)
      return { finished = spec.role == "server" and spec.p.port == 12001 }
    end }
  end
  local combos = flow.generate {
    pairs = { { { host = host("host1"), nic = "eth0", ips = { "198.51.100.1/24" } },
                { host = host("host2"), nic = "eth0", ips = { "198.51.100.2/24" } } } },
    ip_versions = { "ipv4" }, perf_tests = { "tcp_stream" }, parallel_processes = 3, duration = 1,
  }
  local m = flow.measurement(combos[1].flows, { tests = fake_tests })
  m:start()
  T.eq(log, { "host2 server 12000 bg", "host2 server 12001 bg", "host2 server 12002 bg",
    "host1 client 12000 bg", "host1 client 12002 bg" })
  T.eq(m.clients[2], nil)
end)

T.test("generate: a family an endpoint lacks yields nothing; a bad test is an error", function()
  local pairs = { { { host = h1, ips = { "198.51.100.1" } }, { host = h2, ips = { "198.51.100.2" } } } }
  T.eq(#flow.generate { pairs = pairs, ip_versions = { "ipv6" } }, 0)
  local c = flow.generate { pairs = pairs, ip_versions = { "ipv4" } }
  T.eq({ #c, c[1].flows[1].msg_size, c[1].flows[1].type }, { 1, nil, "tcp_stream" })
  T.raises_with(function() flow.generate { pairs = pairs, perf_tests = { "tcp_rr" } } end,
    "perf flows: unknown perf test 'tcp_rr' (known: mptcp_stream, sctp_stream, tcp_stream, udp_stream)")
end)

local function recorded(name)
  local f = assert(io.open("tests/lua/data/" .. name, "rb"))
  local doc = assert(json.decode(f:read("*a")))
  f:close()
  return doc
end

T.test("parse_iperf: recorded client test", function()
  local doc = recorded("iperf3_client_tcp.json")
  local res, cpu_stats, ts = flow.parse_iperf(doc)
  T.eq(ts, doc.start.timestamp.timesecs)
  T.eq(#res, 1)
  T.eq(#res[1], #doc.intervals)
  local bytes = 0
  for _, i in ipairs(doc.intervals) do bytes = bytes + i.streams[1].bytes end
  near(res.value, bytes * 8, "bits")
  near(res:average(), bytes * 8 / res.duration)
  T.eq(res[1][1].timestamp, ts + doc.intervals[1].streams[1].start)
  near(cpu_stats:average(), doc["end"].cpu_utilization_percent.host_total)
  T.eq(cpu_stats.unit, "cpu_percent")
end)

-- A finished module job as lnst.host leaves it.
local function job(doc, fields)
  local j = { passed = doc ~= nil, result = doc and { data = doc } or { msg = "iperf3: boom" } }
  for k, v in pairs(fields or {}) do j[k] = v end
  return j
end

local F = { type = "tcp_stream", generator = h1, generator_bind = "198.51.100.1", receiver = h2,
  receiver_bind = "198.51.100.2", receiver_port = 12000, generator_port = 12000, duration = 2,
  warmup_duration = 0, parallel_streams = 1 }

T.test("flow results: both sides parsed; a failed side is zero with the reason", function()
  local ok = flow.flow_results(F, job(recorded("iperf3_client_tcp.json")), job(recorded("iperf3_server_tcp.json")))
  T.eq(ok.success, true)
  T.ok(ok.generator_results:average() > 0 and ok.receiver_results:average() > 0, "non-zero")
  local bad = flow.flow_results(F, job(nil), job(recorded("iperf3_server_tcp.json")))
  T.eq(bad.success, false)
  T.eq(bad.generator_results:average(), 0)
  T.eq(bad.problems, { "iperf3 client on host1 failed: iperf3: boom" })
  local skipped = flow.flow_results(F, job(nil, { skipped = "no SCTP" }), nil)
  T.eq(skipped.problems, { "iperf3 client on host1 skipped: no SCTP",
    "iperf3 server on host2 was not started (the server failed first)" })
end)

T.test("flow results: warm-up gives the window", function()
  local f = {}
  for k, v in pairs(F) do f[k] = v end
  f.warmup_duration = 1
  local doc = recorded("iperf3_client_tcp.json")
  local r = flow.flow_results(f, job(doc), job(recorded("iperf3_server_tcp.json")))
  T.eq({ r.warmup_end, r.warmdown_start }, { doc.start.timestamp.timesecs + 1, doc.start.timestamp.timesecs + 3 })
  local s, e = flow.measurement({ f }).window({ r })
  T.eq({ s, e }, { r.warmup_end, r.warmdown_start })
end)

-- Synthetic iteration results for a flow: per-second intervals of `bits`.
local function synthetic(ts, gbits, rbits)
  local function seq(v)
    return R.parallel { R.sequential { R.interval(v, 1, "bits", ts), R.interval(v, 1, "bits", ts + 1) } }
  end
  return { flow = F, success = true, problems = {}, generator_results = seq(gbits), receiver_results = seq(rbits),
    generator_cpu_stats = R.interval(100, 2, "cpu_percent", ts),
    receiver_cpu_stats = R.interval(80, 2, "cpu_percent", ts) }
end

T.test("aggregate and report: one record per flow, describing averages", function()
  local m = flow.measurement { F }
  local agg = m.aggregate(nil, { synthetic(0, 10e9, 9e9) })
  agg = m.aggregate(agg, { synthetic(10, 12e9, 11e9) })
  T.eq(#agg[1].generator_results, 2)
  near(agg[1].generator_results:average(), 11e9)
  near(agg[1].generator_results:std_deviation(), 1e9)
  local recs = {}
  local items = m:report(function(r) recs[#recs + 1] = r end, agg, { name = "conf A" })
  T.eq(#recs, 1)
  T.eq(recs[1].measurement_type, "flow")
  T.eq(recs[1].result, "PASS")
  T.eq(recs[1].data.configuration, "conf A")
  T.eq(recs[1].data.role, "flow")
  near(recs[1].data.receiver_results.average, 10e9)
  T.eq(recs[1].description, table.concat({
    "Flow: tcp_stream host1 198.51.100.1 -> host2 198.51.100.2 port 12000",
    "Generator measured throughput (generator_results): 11.00 Gbit/s +-1.00 Gbit/s (9.09%)",
    "Generator process CPU data (generator_cpu_stats): 50.00 % +-0.00 % (0.00%)",
    "Receiver measured throughput (receiver_results): 10.00 Gbit/s +-1.00 Gbit/s (10.00%)",
    "Receiver process CPU data (receiver_cpu_stats): 40.00 % +-0.00 % (0.00%)" }, "\n"))
  T.eq(items[1].role, "flow")
end)

T.test("report: several flows get a record each and one for all of them", function()
  local m = flow.measurement { F, F }
  local agg = m.aggregate(nil, { synthetic(0, 1e9, 1e9), synthetic(0, 2e9, 2e9) })
  local recs = {}
  local items = m:report(function(r) recs[#recs + 1] = r end, agg, { name = "c" })
  T.eq(#recs, 3)
  T.eq({ items[1].role, items[2].role, items[3].role }, { "flow 1", "flow 2", "flows" })
  near(items[3].agg.generator_results:average(), 3e9)
end)

-- ---------------------------------------------------------------- cpu

T.test("cpu: busy ticks per second from monitor samples", function()
  local samples = {
    { cpu = { user = 50, nice = 0, system = 30, idle = 100, iowait = 5, irq = 1, softirq = 4, steal = 0 },
      duration = 1, timestamp = 0 },
    { cpu = { user = 70, nice = 0, system = 20, idle = 100, iowait = 0, irq = 0, softirq = 10, steal = 0 },
      duration = 1, timestamp = 1 },
  }
  local per = cpu.parse(samples)
  near(per.cpu:average(), 92.5)
  near(per.cpu:std_deviation(), 7.5)
  local m = cpu.measurement { h2, h1 }
  T.eq(m.hosts[1].name, "host1")
  local agg = m.aggregate(nil, { { host = h1, success = true, cpus = per } })
  local recs = {}
  local items = m:report(function(r) recs[#recs + 1] = r end, agg, { name = "c" })
  -- one iteration: no deviation between iterations (upstream prints +-0.00 too)
  T.eq(recs[1].description, "host host1 cpu 'cpu' utilization: 92.50 +-0.00 time units per second")
  T.eq({ recs[1].level, items[1].role, items[1].cpu }, { 1, "cpu host1", "cpu" })
end)

-- ---------------------------------------------------------------- evaluators

local function evaluate(e, ctx)
  local recs = {}
  ctx.add = function(r) recs[#recs + 1] = r end
  e:evaluate(ctx)
  return recs
end

local function flow_item(gen_values, recv_values)
  local a = { generator_results = R.sequential({}, "bits"), receiver_results = R.sequential({}, "bits") }
  for i, v in ipairs(gen_values) do a.generator_results[i] = R.interval(v, 1, "bits", i) end
  for i, v in ipairs(recv_values) do a.receiver_results[i] = R.interval(v, 1, "bits", i) end
  return { role = "flow", agg = a, label = "tcp_stream f" }
end

T.test("nonzero_flow: zero average or a zero iteration fails", function()
  local ok = evaluate(ev.nonzero_flow(), { items = { flow_item({ 5, 6 }, { 5, 6 }) } })
  T.eq(ok[1].result, "PASS")
  T.eq(ok[1].description, "Nonzero evaluation of flow: tcp_stream f\n"
    .. "PASS: generator_results reported non-zero throughput\nPASS: receiver_results reported non-zero throughput")
  local zero = evaluate(ev.nonzero_flow(), { items = { flow_item({ 5, 6 }, { 0, 0 }) } })
  T.eq(zero[1].result, "FAIL")
  T.ok(zero[1].description:find("FAIL: receiver_results reported zero throughput", 1, true), zero[1].description)
  local one = evaluate(ev.nonzero_flow(), { items = { flow_item({ 5, 0 }, { 5, 6 }) } })
  T.ok(one[1].description:find("zero throughput in iteration 2", 1, true), one[1].description)
  T.eq(#evaluate(ev.nonzero_flow(), { items = {} }), 0)
end)

local function baseline_file(entries, threshold)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(json.encode { format = "lnst-baseline", version = 1, threshold = threshold, entries = entries })
  f:close()
  return path
end

T.test("baseline: within and beyond the threshold, keyed by recipe, configuration, role", function()
  local path = baseline_file({
    { recipe = "R", configuration = "c1", role = "flow", metric = "generator_results", value = 10 },
    { recipe = "R", configuration = "c1", role = "flow", metric = "receiver_results", value = 10, threshold = 1 },
    { recipe = "Other", configuration = "c1", role = "flow", metric = "generator_results", value = 1 },
  }, 5)
  local recs = evaluate(ev.baseline { file = path }, { recipe = "R", conf = { name = "c1" },
    items = { flow_item({ 10.4 }, { 9.5 }) } })
  os.remove(path)
  T.eq(#recs, 1)
  T.eq(recs[1].result, "FAIL")
  T.eq(recs[1].description, table.concat({ "Baseline evaluation of tcp_stream f:",
    "PASS generator_results: 10.40 bit/s is +4.00% from the baseline 10.00 bit/s (threshold 5%)",
    "FAIL receiver_results: 9.50 bit/s is -5.00% from the baseline 10.00 bit/s (threshold 1%)" }, "\n"))
  T.eq(recs[1].data.comparisons[1].result, "PASS")
end)

T.test("baseline: the threshold bounds the difference both ways, inclusive", function()
  -- 10/8 = 1.25 exactly: +25 %; 6/8 = 0.75: -25 %
  local function verdicts(threshold, gen, recv)
    local path = baseline_file({
      { recipe = "R", configuration = "c", role = "flow", metric = "generator_results", value = 8 },
      { recipe = "R", configuration = "c", role = "flow", metric = "receiver_results", value = 8 },
    }, threshold)
    local recs = evaluate(ev.baseline { file = path }, { recipe = "R", conf = { name = "c" },
      items = { flow_item({ gen }, { recv }) } })
    os.remove(path)
    local c = recs[1].data.comparisons
    return { c[1].result, c[2].result, recs[1].result }
  end
  T.eq(verdicts(25, 10, 6), { "PASS", "PASS", "PASS" })
  T.eq(verdicts(24.9, 10, 6), { "FAIL", "FAIL", "FAIL" })
  T.eq(verdicts(24.9, 10, 8), { "FAIL", "PASS", "FAIL" })
end)

T.test("baseline: no baseline or no threshold is a FAIL saying so", function()
  local path = baseline_file({
    { recipe = "R", configuration = "c1", role = "flow", metric = "generator_results", value = 10 },
  })
  local recs = evaluate(ev.baseline { file = path }, { recipe = "R", conf = { name = "c1" },
    items = { flow_item({ 10 }, { 10 }) } })
  os.remove(path)
  T.eq(recs[1].result, "FAIL")
  T.ok(recs[1].description:find("FAIL generator_results: no threshold found", 1, true), recs[1].description)
  T.ok(recs[1].description:find("FAIL receiver_results: no baseline found (recipe R, configuration c1, role flow)",
    1, true), recs[1].description)
  local broken = evaluate(ev.baseline { file = "/nonexistent/base.json" }, { recipe = "R", conf = { name = "c" },
    items = {} })
  T.eq(broken[1].result, "FAIL")
  T.ok(broken[1].description:find("/nonexistent/base.json", 1, true), broken[1].description)
end)

T.test("baseline: CPU items and a host filter", function()
  local b = { lookup = {}, threshold = 10 }
  local ok = ev.load_baseline(baseline_file({
    { recipe = "R", configuration = "c", role = "cpu host1", metric = "cpu", value = 100 } }))
  b.lookup = ok.lookup
  local items = { { role = "cpu host1", cpu = "cpu", agg = R.sequential { R.interval(105, 1, "time units", 0) },
    label = "host1 cpu" }, { role = "cpu host1", cpu = "cpu0", agg = R.sequential { R.interval(5, 1, "t", 0) },
    label = "host1 cpu0" } }
  local recs = evaluate(ev.cpu_baseline { baseline = b, hosts = { host1 = { "cpu" } } },
    { recipe = "R", conf = { name = "c" }, items = items })
  T.eq(#recs, 1)
  T.eq(recs[1].result, "PASS")
end)

T.test("baseline file from a run, and back", function()
  local run = results.new_run { recipe = "R" }
  run:add { type = "measurement", measurement_type = "flow", result = "PASS",
    data = { configuration = "c1", role = "flow", generator_results = { average = 7 },
      receiver_results = { average = 6 } } }
  run:add { type = "measurement", measurement_type = "cpu", result = "PASS",
    data = { configuration = "c1", role = "cpu host1", cpu = "cpu0", utilization = { average = 50 } } }
  local doc = ev.baseline_from_run(run, { threshold = 3 })
  T.eq(#doc.entries, 3)
  local path = baseline_file(doc.entries, doc.threshold)
  local b = ev.load_baseline(path)
  os.remove(path)
  local recs = evaluate(ev.baseline { baseline = b }, { recipe = "R", conf = { name = "c1" },
    items = { flow_item({ 7 }, { 6 }) } })
  T.eq(recs[1].result, "PASS")
end)

T.test("rate_ping, zero_pass_ping, max_time_taken", function()
  T.eq(evaluate(ev.rate_ping { min_rate = 50 }, { ping = { rate = 100 } })[1].description,
    "measured rate 100 is more than min_rate(50)")
  local low = evaluate(ev.rate_ping { min_rate = 50, max_rate = 90 }, { ping = { rate = 95 } })[1]
  T.eq({ low.result, low.description }, { "FAIL",
    "measured rate 95 is more than min_rate(50); measured rate 95 is more than max_rate(90)" })
  T.eq(evaluate(ev.rate_ping {}, { ping = {} })[1].result, "FAIL")
  T.eq(evaluate(ev.zero_pass_ping(), { ping = { recv_pkts = 0, trans_pkts = 5 } })[1].result, "PASS")
  T.eq(evaluate(ev.zero_pass_ping(), { ping = { recv_pkts = 1, trans_pkts = 5 } })[1].result, "FAIL")
  local m = { description = function() return "m" end }
  T.eq(evaluate(ev.max_time_taken { max_time = 2 }, { measurement = m, times = { 1.5, 1.9 } })[1].result, "PASS")
  local slow = evaluate(ev.max_time_taken { max_time = 2 }, { measurement = m, times = { 1.5, 2.5 } })[1]
  T.eq({ slow.result, slow.description }, { "FAIL", "m: the longest iteration took 2.500 s, over the maximum 2 s" })
end)

-- ---------------------------------------------------------------- progress

T.test("progress: drawn in place on a terminal, nothing otherwise", function()
  local out = { text = "" }
  function out.write(_, ...) out.text = out.text .. table.concat { ... } end
  function out.flush() end
  local t = 0
  local p = progress.new { out = out, enabled = true, clock = function() return t end }
  p:set { conf = "ipv4 tcp_stream", conf_index = 2, conf_total = 5, iteration = 1, iterations = 3 }
  t = 83
  p:tick()
  p:set { last = "9.41 Gbit/s" }
  T.eq(p:line(), "perf 2/5 ipv4 tcp_stream | iteration 1/3 | 1:23 | last 9.41 Gbit/s")
  p:clear()
  T.eq(out.text, "\r\27[Kperf 2/5 ipv4 tcp_stream | iteration 1/3 | 0:00"
    .. "\r\27[Kperf 2/5 ipv4 tcp_stream | iteration 1/3 | 1:23"
    .. "\r\27[Kperf 2/5 ipv4 tcp_stream | iteration 1/3 | 1:23 | last 9.41 Gbit/s\r\27[K")
  local quiet = { text = "" }
  function quiet.write(_, ...) quiet.text = quiet.text .. table.concat { ... } end
  local q = progress.new { out = quiet, enabled = false, clock = function() return 0 end }
  q:set { conf = "x", iteration = 1, iterations = 1 }
  q:clear()
  T.eq(quiet.text, "")
end)

-- ---------------------------------------------------------------- the loop

T.test("perf.run: simulated iterations, records, evaluators, tweaks in order", function()
  local run = results.new_run { recipe = "R" }
  local r = { run = run, recipe = { name = "R" } }
  local order = {}
  local flows = perf.iperf { F }
  local conf = perf.conf { name = "c1", iterations = 3, simulate = true, measurements = { flows },
    tweak = { apply = function() order[#order + 1] = "apply" end,
      remove = function() order[#order + 1] = "remove" end },
    iteration_tweak = { apply = function() order[#order + 1] = "it" end } }
  conf:register_evaluators(flows, { ev.nonzero_flow() })
  local agg = perf.run(r, conf)
  T.eq(order, { "apply", "it", "it", "it", "remove" })
  T.eq(#agg[flows][1].generator_results, 3)
  local kinds = {}
  for _, rec in ipairs(run.results) do kinds[#kinds + 1] = rec.type .. ":" .. rec.result end
  -- a dry run measures nothing: the non-zero evaluator fails, as upstream's does
  T.eq(kinds, { "description:PASS", "measurement:PASS", "result:FAIL" })
  T.ok(run.results[1].description:find("simulated: no measurement", 1, true), run.results[1].description)
  T.raises_with(function() conf:register_evaluators({}, {}) end, "evaluators for a measurement it does not have")
end)

T.test("perf.run: a measurement that fails to start still finishes the others", function()
  local run = results.new_run { recipe = "R" }
  local log = {}
  local a = { kind = "x", description = function() return "a" end,
    start = function() log[#log + 1] = "start a" end, finish = function() log[#log + 1] = "finish a" end }
  local b = { kind = "x", description = function() return "b" end,
    start = function() error("b cannot start", 0) end, finish = function() log[#log + 1] = "finish b" end }
  local conf = perf.conf { name = "c", measurements = { a, b } }
  T.raises(function() perf.run({ run = run }, conf) end, "b cannot start")
  T.eq(log, { "start a", "finish a" })
end)

T.run()
