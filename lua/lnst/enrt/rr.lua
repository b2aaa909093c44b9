-- lnst.enrt.rr: LNST's NeperFlowMeasurement for the ENRT recipes
-- (net_perf_tool = "neper"): request/response flows (tcp_rr, tcp_crr,
-- udp_rr) run with the rr_server / rr_client test modules (neper when
-- installed, else their LuaJIT implementation; udp_rr needs neper).
--
-- generate(P, pairs, ips) gives the flow combinations as upstream's
-- generator does for neper: pairs × ip_versions × perf_tests × msg sizes
-- (msg_size sets both request and response size), perf_parallel_processes
-- flows each, ports from 12000. measurement(flows) is an lnst.perf
-- measurement: every server first (each returns once it listens), then the
-- clients; per flow:
--   generator_results    consecutive client samples as intervals of
--                        transactions over seconds;
--   generator_cpu_stats  the client's utime+stime between samples, percent;
--   receiver_results     the transactions the server counted over the
--                        client's test length (one interval);
--   receiver_cpu_stats   the server module's own CPU seconds, percent.
local R = require "lnst.perf.results"
local units = require "lnst.perf.units"

local M = {}

M.TESTS = { "tcp_rr", "tcp_crr", "udp_rr" }

local function strip(a) return (tostring(a):gsub("/%d+$", "")) end

function M.generate(P, pairs_, ips)
  local combos = {}
  local sizes = P.perf_msg_sizes
  if not sizes or #sizes == 0 then sizes = { false } end
  for _, pair in ipairs(pairs_) do
    local a, b = pair[1], pair[2]
    if P.perf_reverse then a, b = b, a end
    for _, ipv in ipairs(P.ip_versions) do
      local ga, ra = ips(a, ipv), ips(b, ipv)
      if #ga > 0 and #ra > 0 then
        for _, test in ipairs(P.perf_tests) do
          for _, size in ipairs(sizes) do
            local flows = {}
            for i = 1, P.perf_parallel_processes do
              local port = 12000 + i - 1
              local cpu = P.perf_tool_cpu and #P.perf_tool_cpu > 0 and P.perf_tool_cpu[(i - 1) % #P.perf_tool_cpu + 1]
                or nil
              flows[i] = { type = test, generator = a.host, generator_nic = a.name, generator_bind = strip(ga[1]),
                receiver = b.host, receiver_nic = b.name, receiver_bind = strip(ra[1]), receiver_port = port,
                generator_port = port, msg_size = size or nil, duration = P.perf_duration,
                warmup_duration = 0, parallel_streams = P.perf_parallel_streams, ipver = ipv,
                generator_cpupin = cpu, receiver_cpupin = cpu }
            end
            local desc = string.format("%s %s %s.%s -> %s.%s", ipv, test, a.host.name, a.name, b.host.name, b.name)
            if size then desc = desc .. " msg " .. size end
            if P.perf_parallel_processes > 1 then desc = desc .. " processes " .. P.perf_parallel_processes end
            combos[#combos + 1] = { flows = flows, description = desc }
          end
        end
      end
    end
  end
  return combos
end

function M.describe(f)
  local s = string.format("%s %s %s -> %s %s port %d", f.type, f.generator.name, f.generator_bind,
    f.receiver.name, f.receiver_bind, f.receiver_port)
  if f.msg_size then s = s .. " msg " .. f.msg_size end
  if f.parallel_streams and f.parallel_streams > 1 then s = s .. " flows " .. f.parallel_streams end
  return s
end

local RR = {}
RR.__index = RR
RR.kind = "flow"

function M.measurement(flows, opts)
  if type(flows) ~= "table" or #flows == 0 then error("rr measurement: needs a list of flows", 2) end
  return setmetatable({ flows = flows, level = opts and opts.level or 2 }, RR)
end

function RR:description()
  local parts = {}
  for i, f in ipairs(self.flows) do parts[i] = M.describe(f) end
  return table.concat(parts, "; ")
end

local function sizes(f)
  return f.msg_size, f.msg_size
end

function RR:start()
  local T = require("lnst.modules").tests
  self.servers, self.clients = {}, {}
  for i, f in ipairs(self.flows) do
    local req, resp = sizes(f)
    self.servers[i] = f.receiver:run(T.rr_server { workload = f.type, bind = f.receiver_bind, port = f.receiver_port,
      request_size = req, response_size = resp, num_flows = f.parallel_streams, cpu_bind = f.receiver_cpupin },
      { bg = true, level = self.level })
  end
  for i, f in ipairs(self.flows) do
    local req, resp = sizes(f)
    if not self.servers[i].finished then
      self.clients[i] = f.generator:run(T.rr_client { workload = f.type, server = f.receiver_bind,
        port = f.receiver_port, request_size = req, response_size = resp, num_flows = f.parallel_streams,
        test_length = f.duration, cpu_bind = f.generator_cpupin }, { bg = true, level = self.level })
    end
  end
end

local wait = require("lnst.perf.flow").wait_job

function RR:finish(tick)
  for i, f in ipairs(self.flows) do
    if self.clients[i] then wait(self.clients[i], f.duration + 40, tick) end
  end
  for _, s in ipairs(self.servers) do
    if not s.finished then s:kill("INT") end
    wait(s, 10, tick)
  end
end

local function zero(unit, ts, d) return R.interval(0, d or 0, unit, ts or 0) end

local function problem(job, role)
  if not job then return role .. " was not started (the server failed first)" end
  if job.passed then return nil end
  if job.skipped then return role .. " skipped: " .. job.skipped end
  if job.error then return role .. " failed: " .. tostring(job.error.message) end
  local msg = type(job.result) == "table" and job.result.msg
  return role .. " failed" .. (msg and (": " .. tostring(msg)) or "")
end

-- One flow's results from its two jobs.
function M.flow_results(f, client, server)
  local res = { flow = f, success = true, problems = {} }
  local sides = { { client, "rr client on " .. f.generator.name }, { server, "rr server on " .. f.receiver.name } }
  for _, x in ipairs(sides) do
    local p = problem(x[1], x[2])
    if p then res.success = false; res.problems[#res.problems + 1] = p end
  end
  local tr, cpu = {}, {}
  local samples = client and client.passed and client.result.samples or {}
  for k = 2, #samples do
    local a, b = samples[k - 1], samples[k]
    local dt = b.time - a.time
    if dt > 0 then
      tr[#tr + 1] = R.interval(b.transactions - a.transactions, dt, "transactions", a.time)
      local busy = (b.utime + b.stime) - (a.utime + a.stime)
      cpu[#cpu + 1] = R.interval(busy * 100, dt, "cpu_percent", a.time)
    end
  end
  local t0 = samples[1] and samples[1].time or 0
  local span = #samples > 1 and samples[#samples].time - t0 or f.duration
  res.generator_results = R.parallel({ R.sequential(#tr > 0 and tr or { zero("transactions", t0) }, "transactions") })
  res.generator_cpu_stats = R.sequential(#cpu > 0 and cpu or { zero("cpu_percent", t0) }, "cpu_percent")
  local served = server and type(server.result) == "table" and server.result.data
    and server.result.data.num_transactions or 0
  res.receiver_results = R.parallel({ R.interval(served, span, "transactions", t0) })
  local scpu = server and server.cpu and ((server.cpu.user or 0) + (server.cpu.system or 0)) or 0
  res.receiver_cpu_stats = R.interval(scpu * 100, span, "cpu_percent", t0)
  return res
end

function RR:collect()
  local out = {}
  for i, f in ipairs(self.flows) do out[i] = M.flow_results(f, self.clients[i], self.servers[i]) end
  return out
end

function RR:simulate(now)
  local out = {}
  for i, f in ipairs(self.flows) do
    out[i] = { flow = f, success = true, problems = {}, simulated = true,
      generator_results = R.parallel({ zero("transactions", now, f.duration) }),
      generator_cpu_stats = zero("cpu_percent", now, f.duration),
      receiver_results = R.parallel({ zero("transactions", now, f.duration) }),
      receiver_cpu_stats = zero("cpu_percent", now, f.duration) }
  end
  return out
end

local METRICS = { "generator_results", "generator_cpu_stats", "receiver_results", "receiver_cpu_stats" }

function RR.span(iteration)
  local s, e = -math.huge, math.huge
  for _, r in ipairs(iteration) do
    s = math.max(s, r.generator_results:start_timestamp())
    e = math.min(e, r.generator_results:end_timestamp())
  end
  return s, e
end

-- The client's samples are the flow's own window; slicing them to the CPU
-- monitor's span changes nothing, so the results stay as measured.
function RR.slice(iteration) return iteration end

function RR.aggregate(agg, iteration)
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

function M.describe_results(a)
  local lines = { "Flow: " .. M.describe(a.flow) }
  local function line(label, m)
    local r = a[m]
    lines[#lines + 1] = string.format("%s (%s): %s +-%s (%.2f%%)", label, m, units.rate(r:average(), r.unit),
      units.rate(r:std_deviation(), r.unit), r:deviation_percentage())
  end
  line("Generator measured transactions", "generator_results")
  line("Generator process CPU data", "generator_cpu_stats")
  line("Receiver measured transactions", "receiver_results")
  line("Receiver process CPU data", "receiver_cpu_stats")
  for _, p in ipairs(a.problems) do lines[#lines + 1] = "Problem: " .. p end
  return table.concat(lines, "\n")
end

function RR.report(_, add, agg, conf)
  local items = {}
  for i, a in ipairs(agg) do
    local role = #agg > 1 and ("flow " .. i) or "flow"
    local f = a.flow
    local data = { flow = { type = f.type, generator = f.generator.name, generator_bind = f.generator_bind,
      receiver = f.receiver.name, receiver_bind = f.receiver_bind, receiver_port = f.receiver_port,
      msg_size = f.msg_size, duration = f.duration }, configuration = conf.name, role = role }
    for _, m in ipairs(METRICS) do data[m] = R.summary(a[m], 1) end
    add { type = "measurement", measurement_type = "flow", result = a.success and "PASS" or "FAIL",
      description = M.describe_results(a), data = data, configuration = conf.name, role = role }
    items[#items + 1] = { role = role, agg = a, label = M.describe(f) }
  end
  return items
end

return M
