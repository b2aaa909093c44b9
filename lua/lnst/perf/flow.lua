-- lnst.perf.flow: iperf3 flows (LNST's Flow, IperfFlowMeasurement and the
-- ENRT flow generator).
--
-- generate{...} turns endpoint pairs × IP versions × perf_tests × message
-- sizes into measurement combinations, each a list of flows run at the same
-- time (perf_parallel_processes of them, ports counting up from 12000).
-- measurement(flows) runs them: every server first (iperf_server modules in
-- the background, one-off, each returning once it listens), then every
-- client; waits for the clients, then the servers; parses both sides'
-- iperf3 JSON into perf results (lnst.perf.results): per stream a
-- sequential result of per-second intervals in bits, the streams in
-- parallel, and iperf3's CPU use as a cpu_percent interval.
local R = require "lnst.perf.results"
local units = require "lnst.perf.units"

local M = {}

-- perf_tests and how each maps to iperf3.
M.TYPES = {
  tcp_stream = {},
  udp_stream = { udp = true },
  sctp_stream = { sctp = true },
  mptcp_stream = { mptcp = true },
}

local function family(addr)
  return tostring(addr):find(":", 1, true) and "ipv6" or "ipv4"
end

local function strip(addr) return (tostring(addr):gsub("/%d+$", "")) end

-- The addresses of an endpoint for an IP version: ep.ips (explicit list) or
-- the live global addresses of ep.nic; link-local ones never count.
local function addresses(ep, ipver)
  local list = ep.ips
  if not list and ep.nic then list = ep.nic.ips end
  local out = {}
  for _, a in ipairs(list or {}) do
    local s = strip(a)
    if family(s) == ipver and not s:lower():find("^fe80:") then out[#out + 1] = s end
  end
  return out
end

local function nic_name(ep)
  if type(ep.nic) == "string" then return ep.nic end
  return ep.nic and ep.nic.name or nil
end

-- A flow's one-line description (also its identity in baseline files:
-- recipe host names and addresses, never machine names).
function M.describe(f)
  local s = string.format("%s %s %s -> %s %s port %d", f.type, f.generator.name, f.generator_bind,
    f.receiver.name, f.receiver_bind, f.receiver_port)
  if f.msg_size then s = s .. " msg " .. f.msg_size end
  if f.parallel_streams and f.parallel_streams > 1 then s = s .. " streams " .. f.parallel_streams end
  return s
end

-- opts: pairs = { { generator_endpoint, receiver_endpoint }, ... } where an
-- endpoint is { host = h, nic = device (or name), ips = {...} (optional) };
-- ip_versions ({"ipv4", "ipv6"}), perf_tests ({"tcp_stream"}), msg_sizes
-- (nil: iperf3's default), parallel_processes (1), parallel_streams (1),
-- duration (10), warmup_duration (0), cpupin (list of CPUs) with
-- cpupin_policy "all" (every process on all of them) or "round-robin";
-- base_port (12000). Returns { { flows = {...}, description = "..." }, ... }.
function M.generate(opts)
  local combos = {}
  local ipvers = opts.ip_versions or { "ipv4", "ipv6" }
  local tests = opts.perf_tests or { "tcp_stream" }
  local sizes = opts.msg_sizes or { false }
  if #sizes == 0 then sizes = { false } end
  local procs = opts.parallel_processes or 1
  for _, pair in ipairs(opts.pairs or {}) do
    local gen, recv = pair[1], pair[2]
    for _, ipver in ipairs(ipvers) do
      local gaddrs, raddrs = addresses(gen, ipver), addresses(recv, ipver)
      if #gaddrs > 0 and #raddrs > 0 then
        for _, test in ipairs(tests) do
          if not M.TYPES[test] then
            local known = {}
            for k in pairs(M.TYPES) do known[#known + 1] = k end
            table.sort(known)
            error(string.format("perf flows: unknown perf test '%s' (known: %s)", tostring(test),
              table.concat(known, ", ")), 2)
          end
          for _, size in ipairs(sizes) do
            local flows = {}
            for i = 1, procs do
              local cpupin
              if opts.cpupin and #opts.cpupin > 0 then
                if opts.cpupin_policy == "round-robin" then
                  cpupin = { opts.cpupin[(i - 1) % #opts.cpupin + 1] }
                else
                  cpupin = opts.cpupin
                end
              end
              local port = (opts.base_port or 12000) + i - 1
              flows[i] = {
                type = test, generator = gen.host, generator_bind = gaddrs[1], generator_nic = nic_name(gen),
                receiver = recv.host, receiver_bind = raddrs[1], receiver_nic = nic_name(recv),
                receiver_port = port, generator_port = port, msg_size = size or nil,
                duration = opts.duration or 10, warmup_duration = opts.warmup_duration or 0,
                parallel_streams = opts.parallel_streams or 1,
                generator_cpupin = cpupin, receiver_cpupin = cpupin, ipver = ipver,
              }
            end
            local desc = string.format("%s %s %s.%s -> %s.%s", ipver, test, gen.host.name, nic_name(gen) or "?",
              recv.host.name, nic_name(recv) or "?")
            if size then desc = desc .. " msg " .. size end
            if procs > 1 then desc = desc .. " processes " .. procs end
            if (opts.parallel_streams or 1) > 1 then desc = desc .. " streams " .. opts.parallel_streams end
            combos[#combos + 1] = { flows = flows, description = desc }
          end
        end
      end
    end
  end
  return combos
end

-- ---------------------------------------------------------------- parsing

-- One side's iperf3 JSON document -> results, cpu, start timestamp:
-- results is parallel over streams, each sequential over the intervals
-- (bits over seconds, timestamped start.timestamp.timesecs + interval
-- start); cpu is host_total percent over the test's duration.
function M.parse_iperf(doc)
  local start_ts = doc.start and doc.start.timestamp and doc.start.timestamp.timesecs or 0
  local streams = {}
  for _, interval in ipairs(doc.intervals or {}) do
    for s, st in ipairs(interval.streams or {}) do
      streams[s] = streams[s] or {}
      local list = streams[s]
      list[#list + 1] = R.interval(st.bytes * 8, st.seconds, "bits", start_ts + st.start)
    end
  end
  local seqs = {}
  for s, list in ipairs(streams) do seqs[s] = R.sequential(list, "bits") end
  local results = R.parallel(seqs, "bits")
  local duration = 0
  local ts = doc.start and doc.start.test_start
  if ts and ts.duration then duration = ts.duration + (ts.omit or 0) end
  if #seqs > 0 then duration = results.duration end
  local cpu_total = doc["end"] and doc["end"].cpu_utilization_percent
    and doc["end"].cpu_utilization_percent.host_total or 0
  local cpu = R.interval(cpu_total * duration, duration, "cpu_percent", start_ts)
  return results, cpu, start_ts
end

local function zero(unit, ts, duration)
  return R.interval(0, duration or 0, unit, ts or 0)
end

-- ---------------------------------------------------------------- measurement

local Flow = {}
Flow.__index = Flow
Flow.kind = "flow"

-- opts: level (job result level, default NORMAL = 2), tests (the lnst.tests
-- table; taken from lnst.modules when absent).
function M.measurement(flows, opts)
  opts = opts or {}
  if type(flows) ~= "table" or #flows == 0 then error("perf flow measurement: needs a list of flows", 2) end
  return setmetatable({ flows = flows, level = opts.level or 2, tests = opts.tests }, Flow)
end

function Flow:description()
  local parts = {}
  for i, f in ipairs(self.flows) do parts[i] = M.describe(f) end
  return table.concat(parts, "; ")
end

local function tests(self)
  return self.tests or require("lnst.modules").tests
end

function Flow:start()
  local T = tests(self)
  self.servers, self.clients = {}, {}
  for i, f in ipairs(self.flows) do
    local spec = T.iperf_server { bind = f.receiver_bind, port = f.receiver_port, oneoff = true,
      cpu_bind = f.receiver_cpupin, mptcp = f.type == "mptcp_stream" or nil }
    self.servers[i] = f.receiver:run(spec, { bg = true, level = self.level })
  end
  for i, f in ipairs(self.flows) do
    local p = { server = f.receiver_bind, port = f.receiver_port, client_port = f.generator_port,
      duration = f.duration, warmup_duration = f.warmup_duration, blksize = f.msg_size,
      parallel = f.parallel_streams > 1 and f.parallel_streams or nil, cpu_bind = f.generator_cpupin }
    for k, v in pairs(M.TYPES[f.type]) do p[k] = v end
    if self.servers[i].finished then
      self.clients[i] = nil -- the server failed: nothing to connect to
    else
      self.clients[i] = f.generator:run(T.iperf_client(p), { bg = true, level = self.level })
    end
  end
end

-- Waits for a job with a progress tick each second; kills it when it
-- overstays (also used by the rr and XDP measurements).
function M.wait_job(job, seconds, tick)
  local core = require "lnst.core"
  local deadline = core.now() + seconds
  while not job.finished and core.now() < deadline do
    if job.host.conn:lost() then break end
    core.poll(math.min(1, math.max(0, deadline - core.now())))
    if tick then tick() end
  end
  if not job.finished and not job.host.conn:lost() then
    job:kill("KILL")
    pcall(job.wait, job, 5)
  end
end

function Flow:finish(tick)
  for i, f in ipairs(self.flows) do
    local c = self.clients[i]
    if c then M.wait_job(c, f.duration + 2 * f.warmup_duration + 5 + 30, tick) end
  end
  for _, s in ipairs(self.servers) do
    if not s.finished then M.wait_job(s, 5, tick) end
  end
end

local function job_problem(job, role)
  if not job then return role .. " was not started (the server failed first)" end
  if job.passed then return nil end
  if job.skipped then return role .. " skipped: " .. job.skipped end
  if job.error then return role .. " failed: " .. tostring(job.error.message) end
  local msg = type(job.result) == "table" and job.result.msg
  return role .. " failed" .. (msg and (": " .. tostring(msg)) or "")
end

-- One flow's results from its two jobs (each may have failed).
function M.flow_results(f, client, server)
  local res = { flow = f, success = true, problems = {} }
  local gts
  local function side(job, role)
    local p = job_problem(job, role)
    if p then
      res.success = false
      res.problems[#res.problems + 1] = p
      return nil
    end
    return job.result.data
  end
  local cdoc = side(client, "iperf3 client on " .. f.generator.name)
  local sdoc = side(server, "iperf3 server on " .. f.receiver.name)
  if cdoc then
    res.generator_results, res.generator_cpu_stats, gts = M.parse_iperf(cdoc)
  else
    res.generator_results, res.generator_cpu_stats = R.parallel({ zero("bits") }), zero("cpu_percent")
  end
  if sdoc then
    res.receiver_results, res.receiver_cpu_stats = M.parse_iperf(sdoc)
  else
    res.receiver_results, res.receiver_cpu_stats = R.parallel({ zero("bits") }), zero("cpu_percent")
  end
  if gts and f.warmup_duration > 0 then
    res.warmup_end = gts + f.warmup_duration
    res.warmdown_start = gts + f.warmup_duration + f.duration
  end
  return res
end

function Flow:collect()
  local out = {}
  for i, f in ipairs(self.flows) do out[i] = M.flow_results(f, self.clients[i], self.servers[i]) end
  return out
end

-- Zero-valued results, as a dry run (perf_test_simulation) produces.
function Flow:simulate(now)
  local out = {}
  for i, f in ipairs(self.flows) do
    out[i] = { flow = f, success = true, problems = {}, simulated = true,
      generator_results = R.parallel({ zero("bits", now, f.duration) }),
      generator_cpu_stats = zero("cpu_percent", now, f.duration),
      receiver_results = R.parallel({ zero("bits", now, f.duration) }),
      receiver_cpu_stats = zero("cpu_percent", now, f.duration) }
  end
  return out
end

local METRICS = { "generator_results", "generator_cpu_stats", "receiver_results", "receiver_cpu_stats" }
M.METRICS = METRICS

-- The time window of an iteration: after warm-up and before warm-down when
-- the flows had one, else nil.
function Flow.window(iteration)
  local s, e
  for _, r in ipairs(iteration) do
    if r.warmup_end then
      s = math.max(s or -math.huge, r.warmup_end)
      e = math.min(e or math.huge, r.warmdown_start)
    end
  end
  return s, e
end

function Flow.span(iteration)
  local s, e = -math.huge, math.huge
  for _, r in ipairs(iteration) do
    s = math.max(s, r.generator_results:start_timestamp())
    e = math.min(e, r.generator_results:end_timestamp())
  end
  return s, e
end

function Flow.slice(iteration, s, e)
  local out = {}
  for i, r in ipairs(iteration) do
    local c = {}
    for k, v in pairs(r) do c[k] = v end
    for _, m in ipairs(METRICS) do
      if m == "generator_results" or m == "receiver_results" then c[m] = r[m]:time_slice(s, e) end
    end
    out[i] = c
  end
  return out
end

-- Across iterations: per flow, each metric sequential over the iterations.
function Flow.aggregate(agg, iteration)
  agg = agg or {}
  for i, r in ipairs(iteration) do
    local a = agg[i]
    if not a then
      a = { flow = r.flow, individual = {}, success = true, problems = {} }
      for _, m in ipairs(METRICS) do a[m] = R.sequential({}, r[m].unit) end
      agg[i] = a
    end
    a.individual[#a.individual + 1] = r
    for _, m in ipairs(METRICS) do a[m][#a[m] + 1] = r[m] end
    a.success = a.success and r.success
    for _, p in ipairs(r.problems) do a.problems[#a.problems + 1] = p end
  end
  return agg
end

-- "Generator measured throughput (generator_results): 9.41 Gbit/s +-12.3
-- Mbit/s (0.13%) per second." and friends.
function M.describe_results(a)
  local lines = { "Flow: " .. M.describe(a.flow) }
  local function line(label, m, fmt)
    local r = a[m]
    lines[#lines + 1] = string.format("%s (%s): %s +-%s (%.2f%%)", label, m, fmt(r:average()),
      fmt(r:std_deviation()), r:deviation_percentage())
  end
  line("Generator measured throughput", "generator_results", units.bits)
  line("Generator process CPU data", "generator_cpu_stats", units.percent)
  line("Receiver measured throughput", "receiver_results", units.bits)
  line("Receiver process CPU data", "receiver_cpu_stats", units.percent)
  for _, p in ipairs(a.problems) do lines[#lines + 1] = "Problem: " .. p end
  return table.concat(lines, "\n")
end

local function flow_data(f)
  return { type = f.type, generator = f.generator.name, generator_bind = f.generator_bind,
    generator_nic = f.generator_nic, receiver = f.receiver.name, receiver_bind = f.receiver_bind,
    receiver_nic = f.receiver_nic, receiver_port = f.receiver_port, msg_size = f.msg_size,
    duration = f.duration, warmup_duration = f.warmup_duration, parallel_streams = f.parallel_streams }
end

-- Measurement records: one per flow, plus the flows together when there
-- are several. Returns what evaluators look at: { { role, label, agg } }.
function Flow.report(_, add, agg, conf)
  local items = {}
  local function record(a, role)
    local data = { flow = flow_data(a.flow), configuration = conf.name, role = role }
    for _, m in ipairs(METRICS) do data[m] = R.summary(a[m], 1) end
    add { type = "measurement", measurement_type = "flow", result = a.success and "PASS" or "FAIL",
      description = M.describe_results(a), data = data, configuration = conf.name, role = role }
    items[#items + 1] = { role = role, agg = a, label = M.describe(a.flow) }
  end
  for i, a in ipairs(agg) do record(a, #agg > 1 and ("flow " .. i) or "flow") end
  if #agg > 1 then
    local sum = { flow = agg[1].flow, success = true, problems = {}, individual = {} }
    for _, m in ipairs(METRICS) do
      local its = {}
      for k = 1, #agg[1][m] do
        local par = {}
        for i, a in ipairs(agg) do par[i] = a[m][k] end
        its[k] = R.parallel(par, agg[1][m].unit)
      end
      sum[m] = R.sequential(its, agg[1][m].unit)
    end
    for _, a in ipairs(agg) do sum.success = sum.success and a.success end
    local f = {}
    for k, v in pairs(agg[1].flow) do f[k] = v end
    f.type = f.type .. " (all " .. #agg .. " flows)"
    sum.flow = f
    record(sum, "flows")
  end
  return items
end

return M
