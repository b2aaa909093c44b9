-- lnst.perf.cpu: CPU use of hosts during a perf test (LNST's
-- StatCPUMeasurement). A cpu_stat_monitor module runs in the background on
-- every host (by name) for the whole iteration and is stopped with SIGINT;
-- each /proc/stat line (cpu, cpu0, ...) becomes a sequential result of
-- per-interval utilisation: user + nice + system + irq + softirq + steal
-- ticks over the interval's seconds ("time units" per second, as upstream).
local R = require "lnst.perf.results"

local M = {}

M.BUSY = { "user", "nice", "system", "irq", "softirq", "steal" }

local Cpu = {}
Cpu.__index = Cpu
Cpu.kind = "cpu"

-- hosts: a list of hosts; opts.interval (ms, default 1000), opts.level.
function M.measurement(hosts, opts)
  opts = opts or {}
  local list = {}
  for _, h in ipairs(hosts or {}) do list[#list + 1] = h end
  table.sort(list, function(a, b) return a.name < b.name end)
  return setmetatable({ hosts = list, interval = opts.interval or 1000, level = opts.level or 2,
    tests = opts.tests }, Cpu)
end

function Cpu:description()
  local names = {}
  for i, h in ipairs(self.hosts) do names[i] = h.name end
  return "CPU utilisation of " .. table.concat(names, ", ")
end

function Cpu:start()
  local T = self.tests or require("lnst.modules").tests
  self.jobs = {}
  for i, h in ipairs(self.hosts) do
    self.jobs[i] = h:run(T.cpu_stat_monitor { interval = self.interval }, { bg = true, level = self.level })
  end
end

function Cpu:finish()
  for _, j in ipairs(self.jobs) do
    if not j.finished then j:kill("INT") end
  end
  for _, j in ipairs(self.jobs) do
    if not j.finished then
      local ok = pcall(j.wait, j, 10)
      if not ok then j:kill("KILL"); pcall(j.wait, j, 5) end
    end
  end
end

-- The monitor's samples -> { cpu = sequential, cpu0 = ... }.
function M.parse(samples)
  local per = {}
  for _, s in ipairs(samples or {}) do
    for name, v in pairs(s) do
      if type(v) == "table" then
        local busy = 0
        for _, f in ipairs(M.BUSY) do busy = busy + (v[f] or 0) end
        per[name] = per[name] or {}
        per[name][#per[name] + 1] = R.interval(busy, s.duration, "time units", s.timestamp)
      end
    end
  end
  local out = {}
  for name, list in pairs(per) do out[name] = R.sequential(list, "time units") end
  return out
end

function Cpu:collect()
  local out = {}
  for i, h in ipairs(self.hosts) do
    local j = self.jobs[i]
    local r = { host = h, success = j.passed == true, cpus = {} }
    if j.passed then
      r.cpus = M.parse(j.result.data)
    else
      r.problem = string.format("cpu_stat_monitor on %s: %s", h.name,
        j.skipped or (j.error and j.error.message) or "failed")
      r.cpus.cpu = R.sequential({ R.interval(0, 0, "time units", 0) }, "time units")
    end
    out[i] = r
  end
  return out
end

function Cpu:simulate(now)
  local out = {}
  for i, h in ipairs(self.hosts) do
    out[i] = { host = h, success = true, simulated = true,
      cpus = { cpu = R.sequential({ R.interval(0, 1, "time units", now) }, "time units") } }
  end
  return out
end

function Cpu.span(iteration)
  local s, e = -math.huge, math.huge
  for _, r in ipairs(iteration) do
    for _, seq in pairs(r.cpus) do
      if #seq > 0 then
        s = math.max(s, seq:start_timestamp())
        e = math.min(e, seq:end_timestamp())
      end
    end
  end
  return s, e
end

function Cpu.slice(iteration, s, e)
  local out = {}
  for i, r in ipairs(iteration) do
    local c = { host = r.host, success = r.success, problem = r.problem, cpus = {} }
    for name, seq in pairs(r.cpus) do c.cpus[name] = seq:time_slice(s, e) end
    out[i] = c
  end
  return out
end

function Cpu.aggregate(agg, iteration)
  agg = agg or {}
  for i, r in ipairs(iteration) do
    local a = agg[i] or { host = r.host, cpus = {}, success = true, problems = {} }
    agg[i] = a
    for name, seq in pairs(r.cpus) do
      a.cpus[name] = a.cpus[name] or R.sequential({}, "time units")
      a.cpus[name][#a.cpus[name] + 1] = seq
    end
    a.success = a.success and r.success
    if r.problem then a.problems[#a.problems + 1] = r.problem end
  end
  return agg
end

local function cpu_names(cpus)
  local names = {}
  for name in pairs(cpus) do names[#names + 1] = name end
  table.sort(names, function(a, b) -- cpu, cpu0, cpu1, ..., cpu10
    local na, nb = tonumber(a:match("%d+$")) or -1, tonumber(b:match("%d+$")) or -1
    if na ~= nb then return na < nb end
    return a < b
  end)
  return names
end

-- One measurement record per host and CPU line: the total ("cpu") at
-- IMPORTANT level, each CPU at NORMAL.
function Cpu.report(_, add, agg, conf)
  local items = {}
  for _, a in ipairs(agg) do
    for _, name in ipairs(cpu_names(a.cpus)) do
      local seq = a.cpus[name]
      local desc = string.format("host %s cpu '%s' utilization: %.2f +-%.2f time units per second",
        a.host.name, name, seq:average(), seq:std_deviation())
      if #a.problems > 0 then desc = desc .. "\n" .. table.concat(a.problems, "\n") end
      local role = "cpu " .. a.host.name
      add { type = "measurement", measurement_type = "cpu", result = a.success and "PASS" or "FAIL",
        level = name == "cpu" and 1 or 2, description = desc, configuration = conf.name, role = role,
        data = { host = a.host.name, cpu = name, configuration = conf.name, role = role,
          utilization = R.summary(seq, 1) } }
      items[#items + 1] = { role = role, cpu = name, agg = seq, label = a.host.name .. " " .. name }
    end
  end
  return items
end

return M
