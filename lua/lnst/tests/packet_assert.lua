-- packet_assert: LNST's PacketAssert test module, run on the agent
-- (docs/test-modules.md). Captures with
--   tcpdump [-p] -nn -U --immediate-mode -i INTERFACE FILTER
-- until SIGINT (or `duration` seconds) and counts the lines of its output
-- that match every pattern of grep_for (Lua patterns). Announces readiness
-- (api.ready) once tcpdump is listening. Result: { p_recv, stderr }; passes
-- when tcpdump exits cleanly. --immediate-mode makes every packet reach the
-- output before tcpdump stops (without it, packets still in the capture
-- ring when SIGINT arrives are lost).
local M = {}

function M.argv(p)
  local argv = { "tcpdump" }
  if not p.promiscuous then argv[#argv + 1] = "-p" end
  for _, a in ipairs { "-nn", "-U", "--immediate-mode", "-i", p.interface } do argv[#argv + 1] = a end
  if p.p_filter and p.p_filter ~= "" then argv[#argv + 1] = p.p_filter end
  return argv
end

-- Counts the lines of out that match every pattern.
function M.count(out, patterns)
  local n = 0
  for line in out:gmatch("[^\n]+") do
    local ok = true
    for _, pat in ipairs(patterns or {}) do
      if not line:find(pat) then ok = false; break end
    end
    if ok then n = n + 1 end
  end
  return n
end

function M.run(p, api)
  for i, pat in ipairs(p.grep_for or {}) do
    local ok, err = pcall(string.find, "", pat)
    if not ok then error(string.format("grep_for item %d '%s' is not a valid Lua pattern: %s", i, pat, err), 0) end
  end
  local proc, why = api.spawn(M.argv(p))
  if not proc then return { msg = why, p_recv = 0 }, false end
  local deadline = api.monotonic() + 10
  local r
  while true do
    r = proc:wait(0.02)
    if r then break end
    local _, err = proc:output()
    if err:find("listening on", 1, true) then break end
    if api.monotonic() > deadline then break end
  end
  if not r then
    api.ready()
    local stopped
    if p.duration then stopped = api.sleep(p.duration) else stopped = api.wait_stop() end
    -- on a stop request tcpdump got the SIGINT too (same process group)
    if not stopped then proc:kill("INT") end
    r = proc:wait(1)
    if not r then proc:kill("INT"); r = proc:wait(3) end
    if not r then proc:kill("KILL"); r = proc:wait() end
  end
  local res = { p_recv = M.count(r.stdout, p.grep_for), stderr = r.stderr }
  local clean = r.exit_code == 0
  if not clean then
    res.msg = string.format("tcpdump failed (%s): %s",
      r.signal and ("SIG" .. r.signal) or ("exit code " .. tostring(r.exit_code)), (r.stderr:gsub("%s+$", "")))
  end
  return res, clean
end

return M
