-- cpu_stat_monitor: LNST's CPUStatMonitor, run on the agent
-- (docs/test-modules.md). Reads the cpu lines of /proc/stat every
-- `interval` milliseconds until SIGINT (a background module).
-- Result: { data = { { cpu = {user=..., ...}, cpu0 = {...}, duration = s,
-- timestamp = wall clock at the interval's start }, ... } } with the
-- counters as differences over each interval, in USER_HZ ticks.
local M = {}

M.FIELDS = { "user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal", "guest", "guest_nice" }

-- The cpu lines of /proc/stat: { cpu = {user=, ...}, cpu0 = {...} }.
function M.parse(text)
  local out = {}
  for name, rest in text:gmatch("\n?(cpu%d*) +([%d ]+)") do
    local vals, i = {}, 0
    for n in rest:gmatch("%d+") do
      i = i + 1
      if M.FIELDS[i] then vals[M.FIELDS[i]] = tonumber(n) end
    end
    out[name] = vals
  end
  return out
end

-- The difference of two parsed samples.
function M.delta(a, b)
  local out = {}
  for cpu, vals in pairs(b) do
    if a[cpu] then
      local d = {}
      for k, v in pairs(vals) do d[k] = v - (a[cpu][k] or 0) end
      out[cpu] = d
    end
  end
  return out
end

function M.run(p, api)
  local interval = (p.interval or 1000) / 1000
  local function sample()
    local text, why = api.read_file("/proc/stat")
    if not text then error("cannot read /proc/stat on host " .. api.host .. ": " .. why, 0) end
    return M.parse(text)
  end
  local data = {}
  local prev, prev_t, prev_wall = sample(), api.monotonic(), api.time()
  api.ready() -- the first sample is taken: load started now is measured
  local next_t = prev_t + interval
  while true do
    local stopped = api.sleep(next_t - api.monotonic())
    local now = api.monotonic()
    if not stopped or now - prev_t > 0.05 then
      local cur = sample()
      local entry = M.delta(prev, cur)
      entry.duration, entry.timestamp = now - prev_t, prev_wall
      data[#data + 1] = entry
      prev, prev_t, prev_wall = cur, now, prev_wall + (now - prev_t)
    end
    if stopped then break end
    next_t = next_t + interval
    if next_t < now then next_t = now + interval end
  end
  return { data = data }, true
end

return M
