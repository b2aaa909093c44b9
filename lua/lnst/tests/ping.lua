-- ping: LNST's Ping test module, run on the agent (docs/test-modules.md).
--   ping DST [-6] -c COUNT -i INTERVAL [-I IFACE|ADDR] [-s SIZE]
-- Result: trans_pkts, recv_pkts, rate (integer percent), and rtt_min,
-- rtt_avg, rtt_max, rtt_mdev (ms) when any reply came back. Fails when ping
-- exits with a code above 1 (an error, not just lost replies) or prints no
-- summary.
local M = {}

-- Parses ping's output; returns the result table or nil, why.
function M.parse(out)
  local sent, recv = out:match("(%d+) packets transmitted, (%d+) received")
  if not sent then return nil, "no 'N packets transmitted, M received' line in ping's output" end
  local res = { trans_pkts = tonumber(sent), recv_pkts = tonumber(recv) }
  res.rate = res.trans_pkts > 0 and math.floor(100 * res.recv_pkts / res.trans_pkts) or 0
  local errors = out:match("received, %+(%d+) errors")
  if errors then res.errors = tonumber(errors) end
  local mn, avg, mx, mdev = out:match("rtt min/avg/max/mdev = ([%d.]+)/([%d.]+)/([%d.]+)/([%d.]+) ms")
  if mn and res.recv_pkts > 0 then
    res.rtt_min, res.rtt_avg, res.rtt_max, res.rtt_mdev = tonumber(mn), tonumber(avg), tonumber(mx), tonumber(mdev)
  end
  return res
end

function M.argv(p)
  local argv = { "ping", p.dst }
  if p.dst:find(":", 1, true) then argv[#argv + 1] = "-6" end
  for _, a in ipairs { "-c", p.count, "-i", string.format("%f", p.interval) } do argv[#argv + 1] = a end
  if p.interface then argv[#argv + 1] = "-I"; argv[#argv + 1] = p.interface end
  if p.size then argv[#argv + 1] = "-s"; argv[#argv + 1] = p.size end
  return argv
end

function M.run(p, api)
  local argv = M.argv(p)
  local r, why = api.run(argv, { timeout = p.count * p.interval + 10 })
  if not r then return { msg = why }, false end
  local res, perr = M.parse(r.stdout)
  if not res then
    -- ping's own reason ("connect: Network is unreachable") is on stderr
    local first = r.stderr:match("^%s*([^\n]*%S)")
    if first then perr = string.format("%s (exit code %s: %s)", perr, tostring(r.exit_code), first) end
    return { msg = perr, exit_code = r.exit_code, stdout = r.stdout, stderr = r.stderr }, false
  end
  if r.timed_out then res.msg = "ping did not finish in time and was killed" end
  if r.exit_code == nil or r.exit_code > 1 then
    res.msg = string.format("ping failed (%s): %s",
      r.signal and ("SIG" .. r.signal) or ("exit code " .. tostring(r.exit_code)), (r.stderr:gsub("%s+$", "")))
    return res, false
  end
  return res, not r.timed_out
end

return M
