-- xdp_bench: LNST's XDPBench and XDPBenchRedirectCpu, run on the agent
-- (docs/test-modules.md).
--   xdp-bench COMMAND [--xdp-mode MODE] [-p OP] [--load-mode L]
--             [--remote-action A] [--qsize Q] [-c CPU ...] [-e] -i INTERVAL
--             IFNAME [IFNAME2]
-- (line-buffered through stdbuf) runs for `duration` seconds (or until
-- SIGINT), then gets SIGINT, which
-- makes it detach its XDP program and exit. Its per-interval lines are
-- timestamped as they arrive and parsed into samples:
--   role "bench":        { rx, err, timestamp, duration } per "Summary" line
--   role "redirect_cpu": { received, forwarded_per_cpu = { ["cpu"] = pkt/s },
--                          remote = { pass, drop, redir } or nil,
--                          timestamp, duration } per "IF->..." block
-- (timestamp: the interval's start, i.e. the previous line's arrival).
-- Before running, `xdp-bench COMMAND --help` is read: an option or value
-- this xdp-bench does not have (xdp-tools 1.3.1 has no --load-mode and no
-- parse-ip) skips the module with that reason instead of failing later.
-- Afterwards the device must have no XDP program left (ip -j link): one
-- left behind is removed and fails the module.
local M = {}

-- Each option: the params field, the long names it has had across
-- xdp-tools versions, whether it takes a value.
M.OPTIONS = {
  { field = "xdp_mode", names = { "xdp-mode", "mode" } },
  { field = "packet_operation", names = { "packet-operation", "program-mode" } },
  { field = "program", names = { "program-mode" } },
  { field = "load_mode", names = { "load-mode" } },
  { field = "remote_action", names = { "remote-action" } },
  { field = "redirect_device", names = { "redirect-device" } },
  { field = "qsize", names = { "qsize" } },
}

-- `xdp-bench COMMAND --help` -> { [long name] = { short =, values = {..} or nil } }.
function M.parse_help(text)
  local opts = {}
  for line in text:gmatch("[^\n]+") do
    local short, long = line:match("^%s*%-(%a), %-%-([%w-]+)")
    if not long then long = line:match("^%s+%-%-([%w-]+)") end
    if long then
      local o = { short = short }
      local vals = line:match("%(valid values: ([^)]*)%)")
      if vals then
        o.values = {}
        for v in vals:gmatch("[^,%s]+") do o.values[#o.values + 1] = v end
      end
      opts[long] = o
    end
  end
  return opts
end

-- The argv for params p given the options this xdp-bench has, or nil, why.
function M.argv(p, help, version)
  local argv = { "xdp-bench", p.command }
  local what = string.format("xdp-bench %s (%s)", p.command, version or "unknown version")
  for _, o in ipairs(M.OPTIONS) do
    local v = p[o.field]
    if v ~= nil and v ~= "" then
      local name
      for _, n in ipairs(o.names) do
        if help[n] then name = n; break end
      end
      if not name then
        return nil, string.format("%s has no --%s option (%s=%s)", what, o.names[1], o.field, tostring(v))
      end
      local vals = help[name].values
      if vals then
        local found = false
        for _, x in ipairs(vals) do found = found or x == tostring(v) end
        if not found then
          return nil, string.format("%s: --%s takes %s, not %s (%s)", what, name, table.concat(vals, ", "),
            tostring(v), o.field)
        end
      end
      argv[#argv + 1] = "--" .. name
      argv[#argv + 1] = tostring(v)
    end
  end
  for _, cpu in ipairs(p.cpus or {}) do
    argv[#argv + 1] = "--cpu"
    argv[#argv + 1] = tostring(cpu)
  end
  if p.extended then argv[#argv + 1] = "--extended" end
  argv[#argv + 1] = "--interval"
  argv[#argv + 1] = tostring(p.interval or 1)
  argv[#argv + 1] = p.interface
  if p.interface2 then argv[#argv + 1] = p.interface2 end
  return argv
end

local function num(s) return tonumber((s:gsub(",", ""))) end

-- A "Summary N rx/s M err/s" (or err,drop/s) line -> rx, err.
function M.parse_summary(line)
  local rx, err = line:match("^Summary%s+([%d,]+) rx/s%s+([%d,]+) err")
  if rx then return num(rx), num(err) end
end

-- Lines with their arrival times ({ { time, line }, ... }) and the time
-- capturing started -> samples of role "bench".
function M.samples(lines, t0)
  local out, prev = {}, t0
  for _, l in ipairs(lines) do
    local rx, err = M.parse_summary(l[2])
    if rx then
      out[#out + 1] = { rx = rx, err = err, timestamp = prev, duration = l[1] - prev }
      prev = l[1]
    end
  end
  return out
end

-- redirect-cpu: blocks start with "IFNAME->..." lines; in each, the
-- received total ("receive total N pkt/s", else the header's "N rx/s") and
-- the per-CPU kthread lines ("cpu:N  X pkt/s" after "kthread total"), and
-- what the remote CPUs' program did ("xdp_stats N pass/s N drop/s N
-- redir/s": xdp-tools 1.3.1 prints only this sum, no per-CPU lines).
function M.redirect_cpu_samples(lines, t0)
  local blocks = {}
  for _, l in ipairs(lines) do
    if l[2]:match("^%S+%->") then
      blocks[#blocks + 1] = { time = l[1], lines = { l[2] } }
    elseif blocks[#blocks] then
      table.insert(blocks[#blocks].lines, l[2])
    end
  end
  local out, prev = {}, t0
  for _, b in ipairs(blocks) do
    local header_rx = b.lines[1]:match("^%S+%->%S*%s+([%d,]+) rx/s")
    local received, per, in_kthread, remote = nil, {}, false, nil
    for _, line in ipairs(b.lines) do
      local pass, drop, redir = line:match("^%s+xdp_stats%s+([%d,]+) pass/s%s+([%d,]+) drop/s%s+([%d,]+) redir/s")
      if pass then remote = { pass = num(pass), drop = num(drop), redir = num(redir) } end
      local total = line:match("receive total%s+([%d,]+) pkt/s")
      if total and not received then received = num(total) end
      if line:match("kthread total%s+[%d,]+ pkt/s") then
        in_kthread = true
      elseif in_kthread then
        local cpu, pkts = line:match("^%s+cpu:(%d+)%s+([%d,]+) pkt/s")
        if cpu then per[cpu] = num(pkts) else in_kthread = false end
      end
    end
    received = received or (header_rx and num(header_rx))
    if received then
      out[#out + 1] = { received = received, forwarded_per_cpu = per, remote = remote, timestamp = prev,
        duration = b.time - prev }
      prev = b.time
    end
  end
  return out
end

-- Whether an XDP program is attached to the device (ip -j link's "xdp").
local function attached(api, ifname)
  local r = api.run({ "ip", "-j", "link", "show", "dev", ifname }, { timeout = 10 })
  if not r or r.exit_code ~= 0 then return false end
  return r.stdout:find('"xdp"', 1, true) ~= nil
end

function M.run(p, api)
  local h, why = api.run({ "xdp-bench", p.command, "--help" }, { timeout = 10 })
  if not h then error(string.format("host %s: %s", api.host, why), 0) end
  local help = M.parse_help(h.stdout .. "\n" .. h.stderr)
  local v = api.run({ "xdp-bench", p.command, "--version" }, { timeout = 10 })
  local version = v and (v.stdout .. v.stderr):match("version ([%d.]+)")
  local argv, bad = M.argv(p, help, version and ("xdp-tools " .. version))
  if not argv then return api.skip(bad) end
  -- xdp-bench's stdout is a file here: without stdbuf its lines would come
  -- in 4 KiB blocks and could not be timestamped as they are printed
  local run_argv = argv
  if api.which("stdbuf") then
    run_argv = { "stdbuf", "-oL" }
    for _, a in ipairs(argv) do run_argv[#run_argv + 1] = a end
  end
  local proc, serr = api.spawn(run_argv)
  if not proc then error(string.format("host %s: %s", api.host, serr), 0) end
  local t0, lines, seen = api.time(), {}, 0
  local ready = false
  local function poll()
    local out = proc:output()
    while true do
      local nl = out:find("\n", seen + 1, true)
      if not nl then break end
      local line = out:sub(seen + 1, nl - 1)
      seen = nl
      lines[#lines + 1] = { api.time(), line }
      if not ready and (M.parse_summary(line) or line:match("^%S+%->")) then
        ready = true
        api.ready()
      end
    end
  end
  local deadline = api.monotonic() + p.duration
  while proc:running() and api.monotonic() < deadline do
    local stopped = api.sleep(math.min(0.1, deadline - api.monotonic()))
    poll()
    if stopped then break end
  end
  if proc:running() then proc:kill("INT") end
  local res = proc:wait(10)
  local killed = false
  if not res then
    proc:kill("KILL")
    res = proc:wait(5)
    killed = true
  end
  poll()
  local samples = p.role == "redirect_cpu" and M.redirect_cpu_samples(lines, t0) or M.samples(lines, t0)
  local out = { samples = samples, command = table.concat(argv, " "), version = version }
  local problems = {}
  if killed then problems[#problems + 1] = "xdp-bench did not exit within 10 s of SIGINT and was killed" end
  if res and res.exit_code ~= 0 and not killed then
    problems[#problems + 1] = string.format("xdp-bench exited with %s: %s",
      res.signal and ("SIG" .. res.signal) or ("code " .. tostring(res.exit_code)),
      (res.stderr:gsub("%s*libxdp: [^\n]*bpffs[^\n]*\n?", " "):gsub("%s+", " ")))
  end
  for _, dev in ipairs { p.interface, p.interface2 } do
    if attached(api, dev) then
      api.run({ "ip", "link", "set", "dev", dev, "xdp", "off" }, { timeout = 10 })
      api.run({ "ip", "link", "set", "dev", dev, "xdpgeneric", "off" }, { timeout = 10 })
      problems[#problems + 1] = string.format("an XDP program was left on %s (removed with ip link set xdp off)", dev)
    end
  end
  if #samples == 0 and #problems == 0 then
    problems[1] = "no per-interval lines in xdp-bench's output: " .. (res and res.stdout or ""):sub(1, 400)
  end
  if #problems > 0 then
    out.msg = string.format("host %s: %s", api.host, table.concat(problems, "; "))
    return out, false
  end
  return out, true
end

return M
