-- lnst.perf.evaluators: turn measured results into PASS/FAIL results
-- (LNST's NonzeroFlowEvaluator, BaselineEvaluator, BaselineCPUAverage-
-- Evaluator, RatePingEvaluator, ZeroPassPingEvaluator, MaxTimeTakenEvaluator).
--
-- An evaluator is a table with evaluate(self, ctx). For perf measurements
-- ctx = { add = function(record), recipe = name, conf = perf conf,
-- measurement = m, items = what m:report returned ({ role, label, agg,
-- cpu? }), times = { seconds each iteration took } }. For ping, ctx =
-- { add, ping = the ping module's result, description = "..." }. Each
-- evaluator adds its results through ctx.add and returns nothing.
--
-- Baseline files are JSON (docs/results.md):
--   { "format": "lnst-baseline", "version": 1, "threshold": 5,
--     "entries": [ { "recipe": "...", "configuration": "...", "role": "flow",
--                    "metric": "generator_results", "value": 9.4e9,
--                    "threshold": 5 }, ... ] }
-- Entries are keyed by recipe, configuration and role (recipe host names such
-- as host1, never the machine a run happened to be mapped to).
local json = require "lnst.json"
local units = require "lnst.perf.units"

local M = {}

local function result(add, ok, description, data)
  add { type = "result", result = ok and "PASS" or "FAIL", description = description, data = data,
    source = "TestResult" }
end

-- ---------------------------------------------------------------- nonzero flow

-- FAIL when a metric's average is zero or infinite, or any iteration
-- measured zero; one result per flow.
function M.nonzero_flow(opts)
  opts = opts or {}
  local metrics = opts.metrics or { "generator_results", "receiver_results" }
  return { name = "nonzero_flow", evaluate = function(_, ctx)
    for _, item in ipairs(ctx.items) do
      local lines, ok = { "Nonzero evaluation of flow: " .. item.label }, true
      for _, m in ipairs(metrics) do
        local r = item.agg[m]
        local avg = r and r:average() or 0
        local zero_iteration
        for i, it in ipairs(r or {}) do
          if it.value == 0 then zero_iteration = i; break end
        end
        if avg == 0 or avg == math.huge or avg ~= avg then
          ok = false
          lines[#lines + 1] = string.format("FAIL: %s reported zero throughput", m)
        elseif zero_iteration then
          ok = false
          lines[#lines + 1] = string.format("FAIL: %s reported zero throughput in iteration %d", m, zero_iteration)
        else
          lines[#lines + 1] = string.format("PASS: %s reported non-zero throughput", m)
        end
      end
      result(ctx.add, ok, table.concat(lines, "\n"))
    end
  end }
end

-- ---------------------------------------------------------------- baseline

local function key(recipe, configuration, role, metric)
  return table.concat({ tostring(recipe), tostring(configuration), tostring(role), tostring(metric) }, "\0")
end

-- Reads a baseline file: { lookup = {key -> entry}, threshold = default }.
function M.load_baseline(path)
  local f, err = io.open(path, "rb")
  if not f then error("baseline file " .. tostring(err), 0) end
  local text = f:read("*a")
  f:close()
  local doc, why = json.decode(text)
  if type(doc) ~= "table" or doc.format ~= "lnst-baseline" or type(doc.entries) ~= "table" then
    error(string.format("baseline file %s: not an lnst baseline (%s)", path,
      why and tostring(why) or "expected {\"format\": \"lnst-baseline\", \"entries\": [...]}"), 0)
  end
  local b = { lookup = {}, threshold = doc.threshold, path = path }
  for i, e in ipairs(doc.entries) do
    if type(e) ~= "table" or type(e.value) ~= "number" or not e.metric or not e.role then
      error(string.format("baseline file %s: entry %d needs recipe, configuration, role, metric and a numeric value",
        path, i), 0)
    end
    b.lookup[key(e.recipe, e.configuration, e.role, e.metric)] = e
  end
  return b
end

-- The metrics of a report item: flows have generator/receiver results and
-- CPU stats; a CPU item is its CPU line's utilization.
local function item_metrics(item, wanted)
  local out = {}
  if item.cpu then
    if not wanted or wanted[item.cpu] or wanted.utilization then out[#out + 1] = { item.cpu, item.agg } end
    return out
  end
  for _, m in ipairs { "generator_results", "generator_cpu_stats", "receiver_results", "receiver_cpu_stats" } do
    if item.agg[m] and (not wanted or wanted[m]) then out[#out + 1] = { m, item.agg[m] } end
  end
  return out
end

-- opts: file (path) or baseline (a loaded baseline), metrics (list; default
-- generator_results and receiver_results for flows, every CPU line for
-- CPU items), threshold (percent: an entry's own threshold wins, then this,
-- then the file's default),
-- recipe (name to look up; default the running recipe's), hosts ({ host1 =
-- {"cpu", "cpu0"} }: CPU lines to evaluate per host; default all).
-- A metric passes when |average/baseline·100 − 100| <= threshold. No
-- baseline or no threshold is a FAIL, as upstream. One result per item,
-- as bad as its worst metric.
function M.baseline(opts)
  opts = opts or {}
  local wanted
  if opts.metrics then
    wanted = {}
    for _, m in ipairs(opts.metrics) do wanted[m] = true end
  end
  local flow_default = { generator_results = true, receiver_results = true }
  -- CPU items: only the lines opts.hosts picks, when it is given
  local function selected(item)
    if not item.cpu or not opts.hosts then return true end
    for _, c in ipairs(opts.hosts[item.role:match("^cpu (.*)$")] or {}) do
      if c == item.cpu then return true end
    end
    return false
  end
  return { name = "baseline", evaluate = function(_, ctx)
    local b = opts.baseline
    if not b and opts.file then
      local ok, loaded = pcall(M.load_baseline, opts.file)
      if not ok then
        result(ctx.add, false, "Baseline evaluation: " .. tostring(loaded))
        return
      end
      b = loaded
    end
    b = b or { lookup = {} }
    local recipe = opts.recipe or ctx.recipe
    for _, item in ipairs(ctx.items) do
      local role = item.role
      if selected(item) then
        local lines, ok, comparisons = { "Baseline evaluation of " .. item.label .. ":" }, true, {}
        for _, mr in ipairs(item_metrics(item, wanted or (not item.cpu and flow_default) or nil)) do
          local metric, r = mr[1], mr[2]
          local e = b.lookup[key(recipe, ctx.conf.name, role, metric)]
          local cmp = { metric = metric, value = r:average() }
          local fmt = function(v) return units.rate(v, r.unit) end
          if not e then
            ok, cmp.result = false, "FAIL"
            lines[#lines + 1] = string.format("FAIL %s: no baseline found (recipe %s, configuration %s, role %s)",
              metric, recipe, ctx.conf.name, role)
          else
            local threshold = e.threshold or opts.threshold or b.threshold
            cmp.baseline, cmp.threshold = e.value, threshold
            if not threshold then
              ok, cmp.result = false, "FAIL"
              lines[#lines + 1] = string.format("FAIL %s: no threshold found", metric)
            else
              local diff = e.value == 0 and (cmp.value == 0 and 0 or math.huge) or (cmp.value / e.value * 100 - 100)
              cmp.difference = diff ~= math.huge and diff or nil
              cmp.result = math.abs(diff) <= threshold and "PASS" or "FAIL"
              ok = ok and cmp.result == "PASS"
              lines[#lines + 1] = string.format("%s %s: %s is %+.2f%% from the baseline %s (threshold %g%%)",
                cmp.result, metric, fmt(cmp.value), diff, fmt(e.value), threshold)
            end
          end
          comparisons[#comparisons + 1] = cmp
        end
        if #comparisons > 0 then
          result(ctx.add, ok, table.concat(lines, "\n"), { comparisons = comparisons })
        end
      end
    end
  end }
end

-- LNST's BaselineCPUAverageEvaluator: the baseline evaluator on CPU items,
-- opts.hosts = { host1 = {"cpu"} } to pick CPU lines.
function M.cpu_baseline(opts)
  return M.baseline(opts)
end

-- A baseline file (as a Lua table; json.encode it) from a run's measurement
-- records: every flow metric and CPU line, at its average.
function M.baseline_from_run(run, opts)
  opts = opts or {}
  local entries = {}
  for _, rec in ipairs(run.results or {}) do
    local d = rec.data
    if rec.type == "measurement" and type(d) == "table" and d.configuration and d.role then
      if rec.measurement_type == "flow" then
        for _, m in ipairs { "generator_results", "generator_cpu_stats", "receiver_results", "receiver_cpu_stats" } do
          if d[m] then
            entries[#entries + 1] = { recipe = run.recipe, configuration = d.configuration, role = d.role,
              metric = m, value = d[m].average }
          end
        end
      elseif rec.measurement_type == "cpu" and d.utilization then
        entries[#entries + 1] = { recipe = run.recipe, configuration = d.configuration, role = d.role,
          metric = d.cpu, value = d.utilization.average }
      end
    end
  end
  return { format = "lnst-baseline", version = 1, threshold = opts.threshold or 5, entries = json.array(entries) }
end

-- ---------------------------------------------------------------- time

-- PASS when every iteration of the measurement took at most max_time seconds.
function M.max_time_taken(opts)
  local max = assert(opts and opts.max_time, "max_time_taken needs { max_time = seconds }")
  return { name = "max_time_taken", evaluate = function(_, ctx)
    local worst = 0
    for _, t in ipairs(ctx.times or {}) do worst = math.max(worst, t) end
    result(ctx.add, worst <= max, string.format("%s: the longest iteration took %.3f s, %s the maximum %g s",
      ctx.measurement:description(), worst, worst <= max and "within" or "over", max), { times = ctx.times })
  end }
end

-- ---------------------------------------------------------------- ping

-- RatePingEvaluator: PASS when min_rate <= rate <= max_rate (each when
-- given) and rate == `rate` when given.
function M.rate_ping(opts)
  opts = opts or {}
  return { name = "rate_ping", evaluate = function(_, ctx)
    local rate = ctx.ping and ctx.ping.rate
    if type(rate) ~= "number" then
      result(ctx.add, false, "ping rate evaluation: the ping gave no rate")
      return
    end
    local msgs, ok = {}, true
    if opts.min_rate then
      local good = rate >= opts.min_rate
      ok = ok and good
      msgs[#msgs + 1] = string.format("measured rate %d is %s min_rate(%d)", rate, good and "more than" or "less than",
        opts.min_rate)
    end
    if opts.max_rate then
      local good = rate <= opts.max_rate
      ok = ok and good
      msgs[#msgs + 1] = string.format("measured rate %d is %s max_rate(%d)", rate, good and "less than" or "more than",
        opts.max_rate)
    end
    if opts.rate then
      local good = rate == opts.rate
      ok = ok and good
      msgs[#msgs + 1] = string.format("measured rate %d is %s rate(%d)", rate, good and "equal to" or "not equal to",
        opts.rate)
    end
    if #msgs == 0 then msgs[1] = string.format("measured rate %d (no limits given)", rate) end
    result(ctx.add, ok, table.concat(msgs, "; "))
  end }
end

-- ZeroPassPingEvaluator: PASS when no reply came back (an unreachable peer).
function M.zero_pass_ping()
  return { name = "zero_pass_ping", evaluate = function(_, ctx)
    local recv = ctx.ping and ctx.ping.recv_pkts
    if type(recv) ~= "number" then
      result(ctx.add, false, "zero pass ping evaluation: the ping gave no count of received packets")
      return
    end
    result(ctx.add, recv == 0, string.format("%d of %s packets received, %s", recv, tostring(ctx.ping.trans_pkts),
      recv == 0 and "as expected for an unreachable peer" or "expected none (the peer should be unreachable)"))
  end }
end

return M
