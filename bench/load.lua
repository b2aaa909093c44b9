-- bench/load.lua: load on one netns host's agent (run by bench/load.sh and
-- tests/integration/test_faults_load.sh through lnst).
--   lnst bench/load.lua JOBS SECONDS RATE [MAX_GROWTH_KB]
-- 1. JOBS background jobs started one after another (each sleeps until about
--    2 s after the last start, so all run together), then waited for: start
--    time, finish time, the agent's RSS and open files at the peak.
-- 2. RPCs (ping) for 1 s as fast as pipelining allows: the reference rate.
-- 3. RATE RPCs per second for SECONDS, paced, in pipelined batches; the
--    controller's and the agent's RSS sampled every second.
-- Prints the sustained rate against the target and the reference, and the RSS
-- growth of both sides after the reference second. With MAX_GROWTH_KB it
-- returns 1 when a side grew by more, a job failed or the rate fell short of
-- half the target.
local core = require "lnst.core"
local netns = require "lnst.netns"

local JOBS, SECONDS, RATE = tonumber(arg[1]) or 1000, tonumber(arg[2]) or 60, tonumber(arg[3]) or 10000
local MAX_GROWTH = tonumber(arg[4])
local BATCH = 100

local function status(pid, field)
  local f = io.open("/proc/" .. pid .. "/status")
  if not f then return 0 end
  local text = f:read("*a")
  f:close()
  return tonumber(text:match(field .. ":%s+(%d+)")) or 0
end

local function open_files(pid)
  local n, p = 0, io.popen("ls /proc/" .. pid .. "/fd 2>/dev/null")
  for _ in p:lines() do n = n + 1 end
  p:close()
  return n
end

-- n pings pipelined in batches; errors name the failing reply
local function pings(conn, n)
  local ids = {}
  for i = 1, n do ids[i] = conn:send("ping") end
  for i = 1, n do
    local ok, _, msg = conn:wait(ids[i], 10)
    if not ok then error("ping " .. ids[i] .. " failed: " .. tostring(msg)) end
  end
end

local function jobs_part(h)
  local rss0 = status(h.pid, "VmRSS")
  local t0 = core.now()
  local jobs = {}
  for i = 1, JOBS do
    -- each sleeps until about 2 s after the last one starts: all run together
    local per = i > 50 and (core.now() - t0) / (i - 1) or 0.003
    local left = string.format("%.2f", 2 + (JOBS - i) * per)
    jobs[i] = h:run({ "sleep", left }, { bg = true, desc = "load job " .. i })
  end
  local t1 = core.now()
  local peak_files, peak_rss = open_files(h.pid), status(h.pid, "VmRSS")
  local passed = 0
  for _, j in ipairs(jobs) do
    j:wait(60)
    if j.passed then passed = passed + 1 end
  end
  local t2 = core.now()
  core.sleep(0.2)
  print(string.format("jobs: %d background jobs started in %.3f s (%.0f/s), all finished %.3f s after the first "
    .. "start (each sleeps until ~2 s after the last start); %d passed", JOBS, t1 - t0, JOBS / (t1 - t0), t2 - t0,
    passed))
  print(string.format("jobs: agent RSS %d kB before, %d kB with all running, %d kB after; %d open files at the "
    .. "peak, %d after", rss0, peak_rss, status(h.pid, "VmRSS"), peak_files, open_files(h.pid)))
  return passed == JOBS
end

local function rpc_part(h)
  local conn, me = h.conn, core.getpid()
  -- reference: unpaced for 1 s
  local t0, n = core.now(), 0
  while core.now() - t0 < 1 do pings(conn, BATCH); n = n + BATCH end
  local ref = n / (core.now() - t0)
  collectgarbage()
  local ctl0, agent0 = status(me, "VmRSS"), status(h.pid, "VmRSS")
  print(string.format("rpc: reference (unpaced, pipelined by %d): %.0f rpc/s; then %d rpc/s for %g s", BATCH, ref,
    RATE, SECONDS))
  print(string.format("%6s %10s %12s %14s", "t (s)", "rpc/s", "ctl RSS kB", "agent RSS kB"))
  print(string.format("%6d %10s %12d %14d", 0, "-", ctl0, agent0))
  local start, sent = core.now(), 0
  local next_sample, last_sent = start + 1, 0
  local ctl_max, agent_max = ctl0, agent0
  while true do
    local now = core.now()
    if now - start >= SECONDS then break end
    if math.floor((now - start) * RATE) - sent >= BATCH then
      pings(conn, BATCH)
      sent = sent + BATCH
    else
      core.sleep(0.001)
    end
    if now >= next_sample then
      local c, a = status(me, "VmRSS"), status(h.pid, "VmRSS")
      ctl_max, agent_max = math.max(ctl_max, c), math.max(agent_max, a)
      print(string.format("%6.0f %10d %12d %14d", now - start, sent - last_sent, c, a))
      next_sample, last_sent = next_sample + 1, sent
    end
  end
  local took = core.now() - start
  local rate = sent / took
  print(string.format("rpc: sustained %.0f rpc/s for %.1f s (%d calls): %.2f x the target %d rpc/s, %.2f x the "
    .. "reference %.0f rpc/s", rate, took, sent, rate / RATE, RATE, rate / ref, ref))
  print(string.format("rpc: RSS growth after the reference second: controller %+d kB (max %d kB), agent %+d kB "
    .. "(max %d kB)", ctl_max - ctl0, ctl_max, agent_max - agent0, agent_max))
  if not MAX_GROWTH then return true end
  local ok = true
  if ctl_max - ctl0 > MAX_GROWTH or agent_max - agent0 > MAX_GROWTH then
    print(string.format("rpc: FAIL: RSS grew by more than %d kB", MAX_GROWTH)); ok = false
  end
  if rate < RATE / 2 then print("rpc: FAIL: under half the target rate"); ok = false end
  return ok
end

local p = netns.new {}
local ok, res = pcall(function()
  local hosts = p:provision { h1 = { eth0 = { network = "n" } } }
  local good = jobs_part(hosts.h1)
  if not good then print("jobs: FAIL: not every job passed") end
  return rpc_part(hosts.h1) and good
end)
local problems = p:cleanup()
for _, why in ipairs(problems) do print("cleanup: " .. why) end
if not ok then error(res, 0) end
return (res and #problems == 0) and 0 or 1
