-- lnst.perf.xdp: LNST's XDPBenchMeasurement and XDPRedirectCPUMeasurement.
-- A pktgen flood from the generator's NIC to the receiver's MAC and address,
-- counted on the receiver by `xdp-bench COMMAND` (or `xdp-bench
-- redirect-cpu`). Per iteration: xdp-bench starts first (in the background,
-- returning once it printed its first interval, i.e. its program is
-- attached), then pktgen (one pktgen device per flow, on the flow's CPU) for
-- duration + 2·warm-up; when pktgen is done xdp-bench gets SIGINT. Results
-- (packets per interval):
--   generator_results  parallel over the pktgen devices
--   receiver_results   xdp-bench's rx per interval (XDPBench), or per
--                      cpumap CPU (redirect-cpu; the remote CPUs' total
--                      when xdp-bench prints no per-CPU lines, as 1.3.1)
--   forwarded_results  redirect-cpu only: packets received on the IRQ CPU
-- One measurement record per configuration: PASS when both jobs passed and
-- every metric has a positive duration (upstream's rule), FAIL otherwise,
-- WARNING (and no evaluation) when a job was skipped (no pktgen in the
-- kernel, no xdp-bench, an option this xdp-bench lacks).
local R = require "lnst.perf.results"
local units = require "lnst.perf.units"

local M = {}

local Xdp = {}
Xdp.__index = Xdp
Xdp.kind = "xdp"

local function strip(a) return (tostring(a):gsub("/%d+$", "")) end

-- The flow combinations of an XDP recipe (pure): per IP version and
-- message size (pktgen's pkt_size), parallel_processes flows, each one
-- pktgen device on its CPU: cpupin[i] (round-robin) or i-1 without one.
-- opts: generator, receiver (devices), ips(dev, ipver), ip_versions,
-- msg_sizes, parallel_processes, duration, warmup_duration, cpupin.
function M.plan(opts)
  local out = {}
  local g, rcv = opts.generator, opts.receiver
  for _, ipv in ipairs(opts.ip_versions) do
    local src, dst = opts.ips(g, ipv)[1], opts.ips(rcv, ipv)[1]
    if src and dst then
      for _, size in ipairs(opts.msg_sizes) do
        local flows = {}
        for i = 1, opts.parallel_processes or 1 do
          local pin = opts.cpupin and #opts.cpupin > 0 and opts.cpupin[(i - 1) % #opts.cpupin + 1] or (i - 1)
          flows[i] = { type = "pktgen", generator = g.host, generator_nic = g.name, generator_bind = strip(src),
            receiver = rcv.host, receiver_nic = rcv.name, receiver_bind = strip(dst), msg_size = size,
            duration = opts.duration, warmup_duration = opts.warmup_duration or 0, cpu = pin,
            generator_port = 12000 + i - 1, receiver_port = 12000 + i - 1, ipver = ipv }
        end
        local desc = string.format("%s pktgen %s.%s -> %s.%s pkt_size %d", ipv, g.host.name, g.name,
          rcv.host.name, rcv.name, size)
        if #flows > 1 then desc = desc .. " processes " .. #flows end
        out[#out + 1] = { flows = flows, description = desc }
      end
    end
  end
  return out
end

-- flows: one combination's flows; o: command (xdp-bench command, or
-- "redirect-cpu"), xdp_mode, load_mode, packet_operation, remote_action,
-- and for redirect-cpu cpus, program, qsize; ratep, burst (pktgen);
-- receiver_mac; level; tests (lnst.tests, for unit tests).
function M.measurement(flows, o)
  if type(flows) ~= "table" or #flows == 0 then error("perf xdp measurement: needs a list of flows", 2) end
  return setmetatable({ flows = flows, o = o, level = o.level or 2, tests = o.tests }, Xdp)
end

function Xdp:redirect_cpu() return self.o.command == "redirect-cpu" end

function Xdp:description()
  local f = self.flows[1]
  local cpus = {}
  for i, x in ipairs(self.flows) do cpus[i] = x.cpu end
  local o = self.o
  local bench = self:redirect_cpu()
    and string.format("xdp-bench redirect-cpu -c %s -p %s -r %s -q %d", table.concat(o.cpus, ","), o.program,
      o.remote_action, o.qsize)
    or ("xdp-bench " .. o.command)
  return string.format("pktgen on %s.%s (%s -> %s, pkt_size %d, CPU %s, %d s + 2x%d s warm-up) -> %s -m %s on %s.%s",
    f.generator.name, f.generator_nic, f.generator_bind, f.receiver_bind, f.msg_size, table.concat(cpus, ","),
    f.duration, f.warmup_duration, bench, o.xdp_mode, f.receiver.name, f.receiver_nic)
end

local function total(f) return f.duration + 2 * f.warmup_duration end

-- The pktgen job's config (one device per flow).
function Xdp:pktgen_config()
  local config = {}
  for i, f in ipairs(self.flows) do
    local ratep = self.o.ratep
    if ratep and ratep >= 0 and self.o.burst then ratep = math.floor(ratep / self.o.burst) end
    config[i] = { cpu = f.cpu, src_if = f.generator_nic, dst_mac = self.o.receiver_mac, src_ip = f.generator_bind,
      dst_ip = f.receiver_bind, pkt_size = f.msg_size, duration = total(f), ratep = ratep, burst = self.o.burst,
      src_port = self:redirect_cpu() and f.generator_port or nil,
      dst_port = self:redirect_cpu() and f.receiver_port or nil }
  end
  return config
end

function Xdp:bench_spec()
  local T = self.tests or require("lnst.modules").tests
  local f, o = self.flows[1], self.o
  local limit = total(f) + 30 -- stopped with SIGINT once pktgen is done
  if self:redirect_cpu() then
    return T.xdp_bench_redirect_cpu { interface = f.receiver_nic, cpus = o.cpus, program = o.program,
      remote_action = o.remote_action, qsize = o.qsize, xdp_mode = o.xdp_mode, duration = limit }
  end
  return T.xdp_bench { command = o.command, interface = f.receiver_nic, xdp_mode = o.xdp_mode,
    load_mode = o.load_mode, packet_operation = o.packet_operation, remote_action = o.remote_action,
    duration = limit }
end

function Xdp:start()
  local T = self.tests or require("lnst.modules").tests
  local f = self.flows[1]
  self.gen, self.start_error = nil, nil
  local ok, job = pcall(f.receiver.run, f.receiver, self:bench_spec(), { bg = true, level = self.level })
  if not ok then
    self.bench, self.start_error = nil, tostring(job)
    return
  end
  self.bench = job
  if not self.bench.finished then
    self.gen = f.generator:run(T.pktgen { config = self:pktgen_config() }, { bg = true, level = self.level })
  end
end

local wait = require("lnst.perf.flow").wait_job

function Xdp:finish(tick)
  local f = self.flows[1]
  if self.gen then
    wait(self.gen, total(f) + 30, tick)
    if not self.gen.passed and not self.gen.skipped and not f.generator.conn:lost() then
      -- the module could not clean up after itself (killed): remove its devices
      f.generator:run({ "sh", "-c", "test ! -e /proc/net/pktgen/pgctrl || echo reset > /proc/net/pktgen/pgctrl" },
        { level = 3, timeout = 20, desc = "pktgen reset after a failed pktgen job" })
    end
  end
  if not self.bench then return end
  if not self.bench.finished then self.bench:kill("INT") end
  wait(self.bench, 20, tick)
end

local function problem(job, role)
  if not job then return role .. " was not started (xdp-bench ended first)" end
  if job.passed then return nil end
  if job.skipped then return nil, role .. " skipped: " .. job.skipped end
  if job.error then return role .. " failed: " .. tostring(job.error.message) end
  local msg = type(job.result) == "table" and job.result.msg
  return role .. " failed" .. (msg and (": " .. tostring(msg)) or "")
end

local function zero() return R.parallel({ R.sequential({ R.interval(0, 0, "packets", 0) }, "packets") }, "packets") end

-- Results of one iteration from its two jobs' results (pure: unit-tested).
-- gen, bench: { passed, skipped, error, result } as jobs have them.
function M.results(flows, gen, bench, redirect_cpu, cpus)
  local res = { flows = flows, success = true, problems = {}, notes = {} }
  local f = flows[1]
  local gp, gskip = problem(gen, "pktgen on " .. f.generator.name)
  local bp, bskip = problem(bench, "xdp-bench on " .. f.receiver.name)
  res.skipped = gskip or bskip
  for _, p in ipairs { gp or false, bp or false } do
    if p then
      res.success = false
      res.problems[#res.problems + 1] = p
    end
  end
  if #res.problems == 0 and res.skipped then res.success = false end
  if gen and gen.passed then
    local par = {}
    for _, dev in ipairs(gen.result.devices or {}) do
      local seq = {}
      for _, s in ipairs(dev.samples or {}) do
        seq[#seq + 1] = R.interval(s.packets, s.duration, "packets", s.timestamp)
      end
      par[#par + 1] = R.sequential(seq, "packets")
    end
    res.generator_results = R.parallel(par, "packets")
    for _, n in ipairs(gen.result.notes or {}) do res.notes[#res.notes + 1] = n end
  else
    res.generator_results = zero()
  end
  local samples = bench and bench.passed and bench.result.samples or nil
  if not samples then
    res.receiver_results = zero()
    if redirect_cpu then res.forwarded_results = zero() end
    return res
  end
  if not redirect_cpu then
    local seq = {}
    for _, s in ipairs(samples) do seq[#seq + 1] = R.interval(s.rx, s.duration, "packets", s.timestamp) end
    res.receiver_results = R.parallel({ R.sequential(seq, "packets") }, "packets")
    return res
  end
  local received, per, remote, any_cpu = {}, {}, {}, false
  for i, cpu in ipairs(cpus) do per[i] = {}; per[tostring(cpu)] = i end
  for _, s in ipairs(samples) do
    received[#received + 1] = R.interval(s.received, s.duration, "packets", s.timestamp)
    for cpu, n in pairs(s.forwarded_per_cpu or {}) do
      local i = per[tostring(cpu)]
      if i then
        any_cpu = true
        table.insert(per[i], R.interval(n, s.duration, "packets", s.timestamp))
      elseif not res.unexpected_cpu then
        res.unexpected_cpu = true
        res.notes[#res.notes + 1] = "xdp-bench reported CPU " .. cpu .. ", which is not a cpumap CPU: ignored"
      end
    end
    local r = s.remote
    remote[#remote + 1] = R.interval(r and (r.pass + r.drop + r.redir) or 0, s.duration, "packets", s.timestamp)
  end
  res.forwarded_results = R.parallel({ R.sequential(received, "packets") }, "packets")
  if any_cpu then
    local par = {}
    for i = 1, #cpus do par[i] = R.sequential(per[i], "packets") end
    res.receiver_results = R.parallel(par, "packets")
  else
    res.receiver_results = R.parallel({ R.sequential(remote, "packets") }, "packets")
    res.notes[#res.notes + 1] = "this xdp-bench prints no per-CPU kthread lines: receiver_results is what the "
      .. "cpumap CPUs' program did (pass + drop + redirect) on all of them together"
  end
  return res
end

function Xdp:collect()
  local bench = self.bench or { passed = false, error = { message = self.start_error } }
  return { M.results(self.flows, self.gen, bench, self:redirect_cpu(), self.o.cpus or {}) }
end

function Xdp:metrics()
  return self:redirect_cpu() and { "generator_results", "receiver_results", "forwarded_results" }
    or { "generator_results", "receiver_results" }
end

function Xdp:simulate(now)
  local f = self.flows[1]
  local function z() return R.parallel({ R.sequential({ R.interval(0, total(f), "packets", now) }, "packets") },
    "packets") end
  local res = { flows = self.flows, success = true, problems = {}, notes = {}, simulated = true,
    generator_results = z(), receiver_results = z() }
  if self:redirect_cpu() then res.forwarded_results = z() end
  return { res }
end

-- After warm-up and before warm-down of the generator, when there is one.
function Xdp.window(iteration)
  local r = iteration[1]
  local w = r.flows[1].warmup_duration
  if w <= 0 or r.skipped or not r.success then return nil end
  local g = r.generator_results
  return g:start_timestamp() + w, g:end_timestamp() - w
end

function Xdp.span(iteration)
  local g = iteration[1].generator_results
  return g:start_timestamp(), g:end_timestamp()
end

function Xdp.slice(iteration, s, e)
  local r = iteration[1]
  local c = {}
  for k, v in pairs(r) do c[k] = v end
  for _, m in ipairs { "generator_results", "receiver_results", "forwarded_results" } do
    if r[m] then
      local ok, sliced = pcall(r[m].time_slice, r[m], s, e)
      if ok then c[m] = sliced elseif sliced ~= R.EMPTY_SLICE then error(sliced, 0) end
    end
  end
  return { c }
end

function Xdp.aggregate(agg, iteration)
  local r = iteration[1]
  local a = agg and agg[1]
  if not a then
    a = { flows = r.flows, success = true, problems = {}, notes = {}, individual = {} }
    agg = { a }
  end
  a.individual[#a.individual + 1] = r
  for _, m in ipairs { "generator_results", "receiver_results", "forwarded_results" } do
    if r[m] then
      a[m] = a[m] or R.sequential({}, "packets")
      a[m][#a[m] + 1] = r[m]
    end
  end
  a.success = a.success and r.success
  a.skipped = a.skipped or r.skipped
  local seen = {}
  for _, n in ipairs(a.notes) do seen[n] = true end
  for _, p in ipairs(r.problems) do a.problems[#a.problems + 1] = p end
  for _, n in ipairs(r.notes or {}) do
    if not seen[n] then a.notes[#a.notes + 1] = n; seen[n] = true end
  end
  return agg
end

local LABELS = {
  generator_results = "Generator generated",
  receiver_results = "Receiver received",
  forwarded_results = "IRQ CPU received",
}

-- The record's description (upstream's describe(), in packets/s).
function M.describe(a, metrics, head)
  local lines = { head }
  for _, m in ipairs(metrics) do
    local r = a[m]
    lines[#lines + 1] = string.format("%s (%s): %s +-%s (%.2f%%)", LABELS[m], m, units.rate(r:average(), "packets"),
      units.rate(r:std_deviation(), "packets"), r:deviation_percentage())
    if r:duration_of() <= 0 then lines[#lines + 1] = string.format("%s has invalid duration!", LABELS[m]) end
  end
  for _, n in ipairs(a.notes) do lines[#lines + 1] = "Note: " .. n end
  for _, p in ipairs(a.problems) do lines[#lines + 1] = "Problem: " .. p end
  return table.concat(lines, "\n")
end

function Xdp:report(add, agg, conf)
  local a = agg[1]
  local mtype = self:redirect_cpu() and "xdp-redirect-cpu" or "xdp-bench"
  if a.skipped then
    add { type = "measurement", measurement_type = mtype, result = "WARNING", configuration = conf.name,
      description = string.format("XDP measurement %s not run: %s", conf.name, a.skipped) }
    return {}
  end
  local metrics = self:metrics()
  local valid = true
  for _, m in ipairs(metrics) do valid = valid and a[m]:duration_of() > 0 end
  local data = { configuration = conf.name, role = "flow", command = self.o.command, xdp_mode = self.o.xdp_mode }
  for _, m in ipairs(metrics) do data[m] = R.summary(a[m], 1) end
  add { type = "measurement", measurement_type = mtype, result = (a.success and valid) and "PASS" or "FAIL",
    description = M.describe(a, metrics, "Flow: " .. self:description()), data = data, configuration = conf.name,
    role = "flow" }
  return { { role = "flow", agg = a, label = conf.name } }
end

return M
