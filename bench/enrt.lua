-- bench/enrt.lua (run by bench/enrt.sh): SimpleNetwork with perf_tests =
-- tcp_stream, perf_duration = 5, perf_iterations = 1, ip_versions = ipv4,
-- one offload combination (all on), other parameters at upstream's
-- defaults (100 pings at 0.2 s). Prints the wall time, the time inside
-- iperf3 and ping (the union of the intervals between those jobs' start
-- and finish records) and the difference: the framework's own overhead.
local lnst = require "lnst"
local core = require "lnst.core"
local recipe = dofile("recipes/enrt/simple_network.lua")
local c = lnst.controller { summary = false }
local t0 = core.now()
local run = c:run(recipe, { perf_tests = { "tcp_stream" }, perf_duration = 5, perf_iterations = 1,
  ip_versions = { "ipv4" }, offload_combinations = { { gro = "on", gso = "on", tso = "on", tx = "on", rx = "on" } } })
local wall = core.now() - t0
local open, iv = {}, {}
for _, rec in ipairs(run.results) do
  if rec.type == "job" and rec.job_id then
    local key = tostring(rec.host) .. "/" .. rec.job_id
    if rec.action == "start" then
      open[key] = rec.timestamp
    elseif rec.action == "finish" and open[key] and tostring(rec.command):match("^[PI][a-z]+[A-Z]?[a-z]*%(")
        and (tostring(rec.command):match("^Ping") or tostring(rec.command):match("^Iperf")) then
      iv[#iv + 1] = { open[key], rec.timestamp }
    end
  end
end
table.sort(iv, function(a, b) return a[1] < b[1] end)
local tools, s, e = 0, nil, nil
for _, i in ipairs(iv) do
  if not s or i[1] > e then
    if s then tools = tools + (e - s) end
    s, e = i[1], i[2]
  else
    e = math.max(e, i[2])
  end
end
if s then tools = tools + (e - s) end
print(string.format("lnst: overall %s, wall %.3f s, in iperf3/ping %.3f s (%d jobs), overhead %.3f s",
  run:overall(), wall, tools, #iv, wall - tools))
return run:overall() == "PASS" and 0 or 1
