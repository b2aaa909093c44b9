-- lnst.perf.units: how perf values read in descriptions and progress lines.
local M = {}

local PREFIXES = { { 1e12, "T" }, { 1e9, "G" }, { 1e6, "M" }, { 1e3, "k" } }

-- 9.41e9 -> "9.41 Gbit/s" (a rate of bits per second).
function M.bits(v)
  for _, p in ipairs(PREFIXES) do
    if math.abs(v) >= p[1] then return string.format("%.2f %sbit/s", v / p[1], p[2]) end
  end
  return string.format("%.2f bit/s", v)
end

function M.percent(v) return string.format("%.2f %%", v) end

-- Anything else: the number with its unit per second.
function M.rate(v, unit)
  if unit == "bits" then return M.bits(v) end
  if unit == "cpu_percent" then return M.percent(v) end
  return string.format("%.2f %s/s", v, unit or "units")
end

return M
