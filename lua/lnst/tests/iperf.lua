-- iperf: LNST's IperfServer and IperfClient test modules, run on the agent
-- (docs/test-modules.md). params.role is "server" or "client".
--   server: [taskset -c CPUS] [mptcpize run] iperf3 -s -B BIND -J [-p PORT] [-1] [OPTS]
--   client: [taskset -c CPUS] [mptcpize run] iperf3 -c SERVER -b 0/1000 -J
--           -t DURATION+2*WARMUP [--udp|--sctp] [-M MSS] [-l BLKSIZE] [-P N]
--           [-p PORT] [--cport PORT] [OPTS]
-- Result: { data = <iperf3's JSON> } when iperf3 produced a complete test
-- (start, end, intervals, end.streams), else { msg, stderr } and a FAIL.
-- The server announces readiness (api.ready) once its port listens, and
-- stops on SIGINT. SCTP and MPTCP are skipped, with the reason, where the
-- kernel lacks them.
local M = {}

local function push(t, ...)
  for _, v in ipairs { ... } do t[#t + 1] = v end
end

local function words(s)
  local out = {}
  for w in tostring(s):gmatch("%S+") do out[#out + 1] = w end
  return out
end

-- The command line for params p (role included).
function M.argv(p)
  local argv = {}
  if p.cpu_bind and #p.cpu_bind > 0 then
    local cpus = {}
    for i, c in ipairs(p.cpu_bind) do cpus[i] = tostring(c) end
    push(argv, "taskset", "-c", table.concat(cpus, ","))
  end
  if p.mptcp then push(argv, "mptcpize", "run") end
  if p.role == "server" then
    push(argv, "iperf3", "-s", "-B", p.bind, "-J")
    if p.port then push(argv, "-p", p.port) end
    if p.oneoff then push(argv, "-1") end
  else
    local warmup = p.warmup_duration or 0
    push(argv, "iperf3", "-c", p.server, "-b", "0/1000", "-J", "-t", p.duration + 2 * warmup)
    if p.udp then push(argv, "--udp") end
    if p.sctp then push(argv, "--sctp") end
    if p.mss then push(argv, "-M", p.mss) end
    if p.blksize then push(argv, "-l", p.blksize) end
    if p.parallel then push(argv, "-P", p.parallel) end
    if p.port then push(argv, "-p", p.port) end
    if p.client_port then push(argv, "--cport", p.client_port) end
  end
  for _, w in ipairs(words(p.opts or "")) do argv[#argv + 1] = w end
  for i, a in ipairs(argv) do argv[i] = tostring(a) end
  return argv
end

local function complete(doc)
  return type(doc) == "table" and type(doc.start) == "table" and type(doc["end"]) == "table"
    and type(doc.intervals) == "table" and type(doc["end"].streams) == "table"
    and #doc["end"].streams > 0
end

-- Parses iperf3 -J output, which holds one JSON document per test (a server
-- that is not one-off prints several, and one more when interrupted).
-- decode(text, init) -> value, next | nil, why. Returns the first complete
-- test, or nil and the reason (iperf3's own "error" when it gave one).
function M.parse(text, decode)
  local pos, err = 1, nil
  while true do
    local s = text:find("{", pos, true)
    if not s then break end
    local doc, nxt = decode(text, s)
    if doc == nil then
      return nil, err or ("iperf3 printed no valid JSON (" .. tostring(nxt) .. ")")
    end
    if complete(doc) then return doc end
    if type(doc) == "table" and doc.error then err = err or ("iperf3: " .. tostring(doc.error)) end
    pos = nxt
  end
  return nil, err or "iperf3 printed no JSON with a complete test (start, end, intervals, end.streams)"
end

local function kernel_has(api, p)
  if p.sctp then
    local protos = api.read_file("/proc/net/protocols") or ""
    if not protos:find("\nSCTP ", 1, true) and not protos:find("\nSCTPv6 ", 1, true) then
      api.skip("SCTP is not supported by the kernel of host " .. api.host .. " (no SCTP in /proc/net/protocols)")
    end
  end
  if p.mptcp then
    local enabled = (api.read_file("/proc/sys/net/mptcp/enabled") or ""):match("%d")
    if enabled ~= "1" then
      api.skip("MPTCP is not enabled in the kernel of host " .. api.host
        .. " (/proc/sys/net/mptcp/enabled is " .. tostring(enabled or "missing") .. ")")
    end
  end
  if p.cpu_bind and #p.cpu_bind > 0 and not api.which("taskset") then
    api.skip("cpu_bind needs taskset, which is not installed on host " .. api.host)
  end
end

-- Whether a TCP socket listens on `port` (IPv4 or IPv6) in this namespace.
function M.listening(tables, port)
  local hex = string.format(":%04X ", port)
  for _, t in ipairs(tables) do
    for line in t:gmatch("[^\n]+") do
      local loc, st = line:match("^%s*%d+: (%x+:%x+) %x+:%x+ (%x%x)")
      if loc and st == "0A" and (loc .. " "):find(hex, 1, true) then return true end
    end
  end
  return false
end

-- A failed run: the reason, with iperf3's first stderr line when it gave
-- no reason of its own in JSON.
local function failure(msg, r)
  local first = r and r.stderr:match("^%s*([^\n]+)")
  if first and not msg:find("iperf3: ", 1, true) then msg = msg .. " (" .. first .. ")" end
  return { msg = msg, stderr = r and r.stderr or "", exit_code = r and r.exit_code }, false
end

local function run_server(p, api)
  local proc, why = api.spawn(M.argv(p))
  if not proc then return failure(why) end
  local port = p.port or 5201
  local deadline = api.monotonic() + 10
  local ready = false
  while not ready and api.monotonic() < deadline do
    local r = proc:wait(0.02)
    if r then
      local doc, perr = M.parse(r.stdout, api.json_decode)
      if doc then return { data = doc }, true end
      return failure("iperf3 server exited before listening: " .. perr, r)
    end
    ready = M.listening({ api.read_file("/proc/net/tcp") or "", api.read_file("/proc/net/tcp6") or "" }, port)
  end
  if not ready then
    proc:kill("KILL")
    return failure(string.format("iperf3 server did not listen on port %d within 10 s", port), proc:wait())
  end
  api.ready()
  local r
  repeat
    r = proc:wait(0.2)
  until r or api.stop_requested()
  local stopped = api.stop_requested()
  if not r then
    -- SIGINT reached iperf3 with the process group; give it time to print
    r = proc:wait(2)
    if not r then proc:kill("INT"); r = proc:wait(3) end
    if not r then proc:kill("KILL"); r = proc:wait() end
  end
  local doc, perr = M.parse(r.stdout, api.json_decode)
  if not doc then
    -- told to stop before any client came: it did what it was asked (the
    -- client, which did not come, is the one that reports why)
    if stopped and not r.stdout:find('"connected":%s*%[%s*{') then
      return { msg = "stopped before any client connected", tests = 0 }, true
    end
    return failure(perr, r)
  end
  return { data = doc, tests = 1 }, true
end

-- A client's verdict on its complete test: iperf3 still prints the
-- seconds it measured when the test was cut short ("the server has
-- terminated"), with its "error" beside them. That fails, keeping the data,
-- unless this client was told to stop (a background client stopped early
-- reports what it measured).
function M.client_result(doc, stopped)
  if doc.error and not stopped then
    return { data = doc, msg = "iperf3: " .. tostring(doc.error) }, false
  end
  return { data = doc }, true
end

local function run_client(p, api)
  local estimate = p.duration + 2 * (p.warmup_duration or 0) + 5
  local r, why = api.run(M.argv(p), { timeout = estimate + 10 })
  if not r then return failure(why) end
  if r.timed_out then return failure(string.format("iperf3 client did not finish within %g s", estimate + 10), r) end
  local doc, perr = M.parse(r.stdout, api.json_decode)
  if not doc then
    if p.sctp and perr:find("Protocol not supported", 1, true) then
      api.skip("SCTP is not supported on the server side: " .. perr)
    end
    return failure(perr, r)
  end
  return M.client_result(doc, api.stop_requested())
end

function M.run(p, api)
  kernel_has(api, p)
  if p.role == "server" then return run_server(p, api) end
  return run_client(p, api)
end

return M
