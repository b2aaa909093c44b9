-- lnst.perf.results: the perf data model (LNST's Perf/Results.py).
--
-- An interval is a measured value over a duration: `value` units (bits,
-- transactions, cpu_percent·seconds, jiffies) during `duration` seconds from
-- `timestamp` (wall clock); its average is value / duration. A sequential
-- result is a list of results one after the other (value and duration are
-- sums); a parallel result is a list of results at the same time (value is
-- a sum, duration the span from the earliest start to the latest end).
-- Both report the standard deviation of their children's averages. Any
-- result can be cut to a time window (time_slice), proportionally, which is
-- how warm-up and warm-down are removed and iterations aligned.
--
-- Pure Lua; lnst.perf.measurements and lnst.perf.evaluators build on it.
local M = {}

-- The error raised when a slice falls outside a result.
M.EMPTY_SLICE = "lnst.perf: empty slice"

local Interval = {}
Interval.__index = Interval

local Sequential, Parallel = {}, {}
Sequential.__index, Parallel.__index = Sequential, Parallel

function M.interval(value, duration, unit, timestamp)
  if type(value) ~= "number" or type(duration) ~= "number" or duration < 0 then
    error(string.format("perf interval: value and duration (>= 0) must be numbers, got %s and %s",
      tostring(value), tostring(duration)), 2)
  end
  return setmetatable({ value = value, duration = duration, unit = unit, timestamp = timestamp or 0 }, Interval)
end

function M.sequential(list, unit)
  local r = setmetatable({ unit = unit }, Sequential)
  for i, x in ipairs(list or {}) do r[i] = x end
  if not r.unit and r[1] then r.unit = r[1].unit end
  return r
end

function M.parallel(list, unit)
  local r = setmetatable({ unit = unit }, Parallel)
  for i, x in ipairs(list or {}) do r[i] = x end
  if not r.unit and r[1] then r.unit = r[1].unit end
  return r
end

function M.is_result(x)
  local mt = getmetatable(x)
  return mt == Interval or mt == Sequential or mt == Parallel
end

-- ---------------------------------------------------------------- interval

function Interval:average()
  if self.duration == 0 then return 0 end
  return self.value / self.duration
end

function Interval:start_timestamp() return self.timestamp end
function Interval:end_timestamp() return self.timestamp + self.duration end
function Interval.std_deviation() return 0 end
function Interval.deviation_percentage() return 0 end

function Interval:time_slice(s, e)
  local a, b = math.max(s, self.timestamp), math.min(e, self:end_timestamp())
  if b <= a then error(M.EMPTY_SLICE, 0) end
  local share = self.duration > 0 and (b - a) / self.duration or 0
  return M.interval(self.value * share, b - a, self.unit, a)
end

-- ---------------------------------------------------------------- lists

local function children_stats(list)
  local n = #list
  if n == 0 then return 0 end
  local sum = 0
  for _, x in ipairs(list) do sum = sum + x:average() end
  local mean = sum / n
  local sq = 0
  for _, x in ipairs(list) do sq = sq + (x:average() - mean) ^ 2 end
  return math.sqrt(sq / n), mean
end

local function list_start(list)
  local s = math.huge
  for _, x in ipairs(list) do s = math.min(s, x:start_timestamp()) end
  return s == math.huge and 0 or s
end

local function list_end(list)
  local e = -math.huge
  for _, x in ipairs(list) do e = math.max(e, x:end_timestamp()) end
  return e == -math.huge and 0 or e
end

local function list_value(list)
  local v = 0
  for _, x in ipairs(list) do v = v + x:value_of() end
  return v
end

function Interval:value_of() return self.value end
function Interval:duration_of() return self.duration end

for _, C in ipairs { Sequential, Parallel } do
  C.value_of = list_value
  C.start_timestamp = list_start
  C.end_timestamp = list_end
  function C:std_deviation() return (children_stats(self)) end
  function C:deviation_percentage()
    local avg = self:average()
    if avg == 0 then return 0 end
    return math.abs(self:std_deviation() / avg * 100)
  end
  function C:average()
    local d = self:duration_of()
    if d == 0 then return 0 end
    return self:value_of() / d
  end
  -- Children cut to [s, e]; children outside it are dropped. Raises
  -- EMPTY_SLICE when nothing is left.
  function C:time_slice(s, e)
    local out = {}
    for _, x in ipairs(self) do
      local ok, part = pcall(x.time_slice, x, s, e)
      if ok then out[#out + 1] = part
      elseif part ~= M.EMPTY_SLICE then error(part, 0) end
    end
    if #out == 0 then error(M.EMPTY_SLICE, 0) end
    return setmetatable(out, getmetatable(self)):with_unit(self.unit)
  end
  function C:with_unit(u) self.unit = u; return self end
end

function Sequential:duration_of()
  local d = 0
  for _, x in ipairs(self) do d = d + x:duration_of() end
  return d
end

function Parallel:duration_of()
  if #self == 0 then return 0 end
  return list_end(self) - list_start(self)
end

-- The same accessors as fields, for uniform use: r.value, r.duration.
for _, C in ipairs { Sequential, Parallel } do
  local index = C
  C.__index = function(t, k)
    if k == "value" then return t:value_of() end
    if k == "duration" then return t:duration_of() end
    if k == "timestamp" then return t:start_timestamp() end
    return index[k]
  end
end

-- Percent difference of a's average from b's: a/b·100 − 100.
function M.averages_difference(a, b)
  local bavg = b:average()
  if bavg == 0 then return a:average() == 0 and 0 or math.huge end
  return a:average() / bavg * 100 - 100
end

-- A plain summary of a result for records and files:
-- { average, std_deviation, deviation_percentage, unit, value, duration,
--   start, ["end"], items = { summary of each child } (depth-limited) }.
function M.summary(r, depth)
  depth = depth or 2
  local s = {
    average = r:average(), std_deviation = r:std_deviation(), deviation_percentage = r:deviation_percentage(),
    unit = r.unit, value = r.value, duration = r.duration, start = r:start_timestamp(), ["end"] = r:end_timestamp(),
  }
  if getmetatable(r) ~= Interval and depth > 0 then
    s.kind = getmetatable(r) == Sequential and "sequential" or "parallel"
    s.items = {}
    for i, x in ipairs(r) do s.items[i] = M.summary(x, depth - 1) end
  end
  return s
end

return M
