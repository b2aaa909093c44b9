-- lnst.perf: performance tests in recipes (LNST's PerfRecipe, the flow and
-- CPU measurements, the evaluators and the ping helpers).
--
--   local perf = lnst.perf
--   for _, combo in ipairs(perf.flows.generate { pairs = {{ {host = h1, nic = h1.eth0},
--                                                           {host = h2, nic = h2.eth0} }},
--                                                perf_tests = {"tcp_stream"}, duration = 5 }) do
--     local flows = perf.iperf(combo.flows)
--     local conf = perf.conf { name = combo.description, iterations = 3,
--                              measurements = { perf.stat_cpu { h1, h2 }, flows } }
--     conf:register_evaluators(flows, { perf.evaluators.nonzero_flow() })
--     perf.run(r, conf)
--   end
--
-- perf.run does LNST's perf_test and perf_report_and_evaluate: per
-- iteration it starts every measurement in order, finishes them in reverse
-- order, collects, aligns them in time (the flows' window after warm-up, or
-- the span every measurement covers), aggregates across iterations, then
-- adds one measurement record per result and runs the evaluators. A
-- configuration with simulate = true (perf_test_simulation) runs no jobs
-- and yields zeros: a dry run of the recipe's flow, never a measurement.
local R = require "lnst.perf.results"
local flow = require "lnst.perf.flow"
local cpu = require "lnst.perf.cpu"
local evaluators = require "lnst.perf.evaluators"
local progress = require "lnst.perf.progress"
local units = require "lnst.perf.units"

local M = {}

M.results, M.flows, M.cpu, M.evaluators, M.progress = R, flow, cpu, evaluators, progress

function M.iperf(flows, opts) return flow.measurement(flows, opts) end
function M.stat_cpu(hosts, opts) return cpu.measurement(hosts, opts) end

-- ---------------------------------------------------------------- configuration

local Conf = {}
Conf.__index = Conf

-- opts: name (the configuration, also its key in baseline files),
-- measurements (list, started in this order), iterations (default 1),
-- simulate, evaluators ({ {measurement, {evaluator, ...}}, ... }), tweak
-- and iteration_tweak ({ apply = fn(r), remove = fn(r), describe = fn() ->
-- text }), index and total (for the progress line).
function M.conf(opts)
  opts = opts or {}
  if type(opts.measurements) ~= "table" or #opts.measurements == 0 then
    error("perf.conf: needs measurements = { ... }", 2)
  end
  local c = setmetatable({ name = opts.name or "perf", measurements = opts.measurements,
    iterations = opts.iterations or 1, simulate = opts.simulate or false, evaluators = {},
    tweak = opts.tweak, iteration_tweak = opts.iteration_tweak, index = opts.index, total = opts.total }, Conf)
  for _, pair in ipairs(opts.evaluators or {}) do c:register_evaluators(pair[1], pair[2]) end
  return c
end

function Conf:register_evaluators(measurement, list)
  local known = false
  for _, m in ipairs(self.measurements) do known = known or m == measurement end
  if not known then error("perf conf " .. self.name .. ": evaluators for a measurement it does not have", 2) end
  self.evaluators[measurement] = self.evaluators[measurement] or {}
  for _, e in ipairs(list) do table.insert(self.evaluators[measurement], e) end
end

-- ---------------------------------------------------------------- running

local bars = setmetatable({}, { __mode = "k" }) -- run -> progress line (elapsed counts from its first perf test)

local function bar(r)
  local p = bars[r.run]
  if not p then
    p = progress.new()
    bars[r.run] = p
  end
  return p
end

-- Cuts an iteration's results to the common window: the flows' window
-- after warm-up when they had one, else the span all of them cover.
local function align(conf, results)
  local s, e
  for _, m in ipairs(conf.measurements) do
    if m.window then
      local ws, we = m.window(results[m])
      if ws then s, e = math.max(s or -math.huge, ws), math.min(e or math.huge, we) end
    end
  end
  if not s then
    s, e = -math.huge, math.huge
    for _, m in ipairs(conf.measurements) do
      local ms, me = m.span(results[m])
      s, e = math.max(s, ms), math.min(e, me)
    end
  end
  if s >= e then return results end
  local out = {}
  for _, m in ipairs(conf.measurements) do
    local ok, sliced = pcall(m.slice, results[m], s, e)
    if not ok and sliced ~= R.EMPTY_SLICE then error(sliced, 0) end
    out[m] = ok and sliced or results[m]
  end
  return out
end

local function last_value(conf, results)
  for _, m in ipairs(conf.measurements) do
    if m.kind == "flow" and results[m][1] then
      local g = results[m][1].generator_results
      return units.rate(g:average(), g.unit)
    end
  end
end

local function run_iteration(r, conf, p)
  local core = require "lnst.core"
  local results, t0 = {}, core.now()
  if conf.simulate then
    for _, m in ipairs(conf.measurements) do results[m] = m:simulate(core.time()) end
    return results, core.now() - t0
  end
  local started = {}
  local ok, err = pcall(function()
    for _, m in ipairs(conf.measurements) do
      m:start(r)
      started[#started + 1] = m
    end
  end)
  for i = #started, 1, -1 do started[i]:finish(function() p:tick() end) end
  if not ok then error(err, 0) end
  for _, m in ipairs(conf.measurements) do results[m] = m:collect() end
  return results, core.now() - t0
end

local function tweak(t, what, r)
  if t and t[what] then t[what](r) end
end

-- Runs the configuration and reports it; returns the aggregated results
-- ({ [measurement] = aggregate }).
function M.run(r, conf)
  if getmetatable(conf) ~= Conf then error("perf.run: the second argument must be a perf.conf{...}", 2) end
  local add = function(rec) return r.run:add(rec) end
  local p = bar(r)
  local desc = { "Perf test configuration: " .. conf.name,
    string.format("iterations: %d%s", conf.iterations, conf.simulate and " (simulated: no measurement)" or "") }
  for _, m in ipairs(conf.measurements) do desc[#desc + 1] = "measurement: " .. m:description() end
  if conf.tweak and conf.tweak.describe then desc[#desc + 1] = conf.tweak.describe() end
  add { type = "description", result = "PASS", level = 2, description = table.concat(desc, "\n") }
  local agg, times = {}, {}
  local ok, err = pcall(function()
    tweak(conf.tweak, "apply", r)
    for it = 1, conf.iterations do
      p:set { conf = conf.name, conf_index = conf.index, conf_total = conf.total, iteration = it,
        iterations = conf.iterations }
      tweak(conf.iteration_tweak, "apply", r)
      local results, took = run_iteration(r, conf, p)
      tweak(conf.iteration_tweak, "remove", r)
      results = align(conf, results)
      times[#times + 1] = took
      for _, m in ipairs(conf.measurements) do agg[m] = m.aggregate(agg[m], results[m]) end
      p:set { last = last_value(conf, results) }
    end
  end)
  local rok, rerr = pcall(tweak, conf.tweak, "remove", r)
  p:clear()
  if not ok then error(err, 0) end
  if not rok then error(rerr, 0) end
  local reported = 0
  for _, m in ipairs(conf.measurements) do
    if agg[m] then
      local items = m:report(add, agg[m], conf)
      reported = reported + #items
      for _, ev in ipairs(conf.evaluators[m] or {}) do
        ev:evaluate { add = add, recipe = r.recipe and r.recipe.name, conf = conf, measurement = m,
          items = items, times = times }
      end
    end
  end
  if reported == 0 then
    add { type = "result", result = "FAIL", description = "Perf test " .. conf.name .. ": no results to report" }
  end
  return agg
end

-- ---------------------------------------------------------------- ping

-- LNST's PingTestAndEvaluate. confs: { { client = host, client_bind = addr
-- (the -I source), destination = host, destination_address = addr, count,
-- interval, size, reachable (default true), evaluators = {...} (default
-- rate_ping{min_rate = 50}, or zero_pass_ping for unreachable pairs) } }.
-- All pings run at the same time; each gets a "ping" measurement record
-- and its evaluations. Returns { { conf = c, job = j }, ... }.
function M.ping(r, confs)
  local T = require("lnst.modules").tests
  local runs = {}
  for i, c in ipairs(confs) do
    local spec = T.ping { dst = c.destination_address, interface = c.client_bind, count = c.count or 10,
      interval = c.interval or 1.0, size = c.size }
    runs[i] = { conf = c, job = c.client:run(spec, { bg = true, level = 2 }) }
  end
  for _, it in ipairs(runs) do
    local c = it.conf
    local count, interval = c.count or 10, c.interval or 1.0
    local limit = c.reachable == false and (2 * count + 10) or (count * interval + 10)
    local ok = pcall(it.job.wait, it.job, limit)
    if not ok then it.job:kill("KILL"); pcall(it.job.wait, it.job, 5) end
  end
  local add = function(rec) return r.run:add(rec) end
  for _, it in ipairs(runs) do
    local c, j = it.conf, it.job
    local function ends(h, a) return string.format("<%s (%s)>", h and h.name or "?", tostring(a)) end
    local desc = "Ping result --- From: " .. ends(c.client, c.client_bind or "default") .. " To: "
      .. ends(c.destination, c.destination_address)
    if not j.passed then
      desc = desc .. "\n" .. (j.skipped and ("skipped: " .. j.skipped)
        or (j.error and j.error.message) or tostring(j.result and j.result.msg or "ping failed"))
    end
    add { type = "measurement", measurement_type = "ping", result = j.passed and "PASS" or "FAIL",
      description = desc, data = j.result }
    local evs = c.evaluators or { c.reachable == false and evaluators.zero_pass_ping()
      or evaluators.rate_ping { min_rate = 50 } }
    if j.passed then
      for _, ev in ipairs(evs) do ev:evaluate { add = add, ping = j.result, description = desc } end
    end
  end
  return runs
end

return M
