-- rr_workload: request/response transactions per second, like neper's
-- tcp_rr (persistent connections) and tcp_crr (a new connection for every
-- transaction), run on the agent (docs/test-modules.md). params.role is
-- "server" or "client".
--
-- Written in LuaJIT (sockets and epoll through FFI, lnst.tests.sock), so it
-- needs no extra tool; when neper's binary for the workload is installed
-- (on PATH or in /root/neper) and implementation is "auto" or "neper",
-- neper runs instead and its output is parsed.
--
-- Client result: { data = { num_transactions, throughput (per second),
-- latency_min/mean/max/p50/p90/p99 (seconds), num_flows, workload,
-- implementation }, samples = { { time = wall clock, transactions =
-- cumulative, utime, stime }, ... one per second }, start_time }.
-- Server result: { data = { num_transactions = served, ... } }.
-- The server announces readiness (api.ready) and runs until SIGINT.
local bit = require "bit"

local M = {}

-- ---------------------------------------------------------------- neper

-- neper prints key=value lines; returns them as a table (numbers converted).
function M.parse_neper(out)
  local data = {}
  for k, v in out:gmatch("([%w_]+)=([^\n]*)") do
    data[k] = tonumber(v) or v
  end
  return data
end

-- neper's --all-samples CSV: per-flow cumulative transactions and rusage at
-- each sample time. Returns { { time, transactions, utime, stime }, ... }
-- summed over flows at each distinct time, in time order.
function M.parse_neper_samples(csv)
  local header, rows = nil, {}
  for line in csv:gmatch("[^\n]+") do
    local cols = {}
    for c in (line .. ","):gmatch("([^,]*),") do cols[#cols + 1] = c end
    if not header then
      header = {}
      for i, name in ipairs(cols) do header[name] = i end
    else
      rows[#rows + 1] = cols
    end
  end
  if not header or not header.time or not header.transactions then return {} end
  local latest, by_time, times = {}, {}, {}
  for _, r in ipairs(rows) do
    local flow = r[header.tid] .. "/" .. r[header.flow_id]
    latest[flow] = tonumber(r[header.transactions]) or 0
    local t = tonumber(r[header.time])
    local total = 0
    for _, v in pairs(latest) do total = total + v end
    if not by_time[t] then times[#times + 1] = t end
    by_time[t] = { time = t, transactions = total,
      utime = tonumber(r[header.utime]) or 0, stime = tonumber(r[header.stime]) or 0 }
  end
  table.sort(times)
  local out = {}
  for i, t in ipairs(times) do out[i] = by_time[t] end
  return out
end

local function neper_path(api, workload)
  return api.which(workload) or api.which("/root/neper/" .. workload)
end

-- neper's stderr with runs of one line (a client retrying its connect
-- prints "connect: Connection refused" each time) said once with a count.
function M.squeeze(text)
  local out, prev, n = {}, nil, 0
  local function flush()
    if prev then out[#out + 1] = n > 1 and string.format("%s (%d times)", prev, n) or prev end
  end
  for line in text:gmatch("[^\n]+") do
    if line == prev then n = n + 1 else flush(); prev, n = line, 1 end
  end
  flush()
  return table.concat(out, "\n")
end

local function run_neper(p, api, bin)
  local samples_file = os.tmpname()
  local argv = {}
  if p.cpu_bind then
    if not api.which("taskset") then api.skip("cpu_bind needs taskset, not installed on host " .. api.host) end
    for _, a in ipairs { "taskset", "-c", p.cpu_bind } do argv[#argv + 1] = a end
  end
  -- --nolog: no log file in the agent's working directory (its errors
  -- still reach stderr)
  for _, a in ipairs { bin, "--nolog", "--all-samples=" .. samples_file, "-P", p.port, "-C", p.port - 1,
    "-T", p.num_threads, "-F", p.num_flows, "-Q", p.request_size, "-R", p.response_size } do
    argv[#argv + 1] = a
  end
  if p.role == "client" then
    -- -p: the latency percentiles the LuaJIT client reports too
    for _, a in ipairs { "-c", "-H", p.server, "-l", p.test_length, "-p", "50,90,99" } do argv[#argv + 1] = a end
  else
    for _, a in ipairs { "-H", p.bind } do argv[#argv + 1] = a end
  end
  local proc, why = api.spawn(argv)
  if not proc then os.remove(samples_file); return { msg = why }, false end
  local start_time = api.time()
  local r
  if p.role == "client" then
    r = proc:wait(p.test_length + 30)
  else
    -- ready once neper's control port listens (a client started earlier
    -- would be refused); a server that exits first fails below
    local listening = require("lnst.tests.iperf").listening
    local deadline = api.monotonic() + 10
    repeat
      r = proc:wait(0.02)
    until r or api.monotonic() > deadline
      or listening({ api.read_file("/proc/net/tcp") or "", api.read_file("/proc/net/tcp6") or "" }, p.port - 1)
    if not r and api.monotonic() > deadline then
      proc:kill("KILL")
      r = proc:wait()
      os.remove(samples_file)
      return { msg = string.format("%s did not listen on port %d within 10 s: %s", bin, p.port - 1,
        M.squeeze(r.stderr)) }, false
    end
    if not r then api.ready() end
    while not r and not api.stop_requested() do r = proc:wait(0.2) end
    r = r or proc:wait(2)
  end
  if not r then proc:kill("KILL"); r = proc:wait() end
  local csv = api.read_file(samples_file) or ""
  os.remove(samples_file)
  local data = M.parse_neper(r.stdout)
  data.workload, data.implementation = p.workload, "neper"
  local res = { data = data, samples = M.parse_neper_samples(csv), start_time = start_time }
  if r.exit_code ~= 0 and not (p.role == "server" and r.signal) then
    res.msg = string.format("%s failed (%s): %s", bin,
      r.signal and ("SIG" .. r.signal) or ("exit code " .. tostring(r.exit_code)), M.squeeze(r.stderr))
    return res, false
  end
  return res, true
end

-- ---------------------------------------------------------------- latency

-- A log-scale histogram of latencies: 16 buckets per power of two of
-- microseconds (under 5 % error), plus exact min, max and sum.
local function histogram()
  local H = { count = 0, sum = 0, min = math.huge, max = 0, b = {} }
  function H.add(s)
    H.count, H.sum = H.count + 1, H.sum + s
    if s < H.min then H.min = s end
    if s > H.max then H.max = s end
    local us = s * 1e6
    local k = us < 1 and 0 or math.floor(math.log(us) / math.log(2) * 16) + 1
    H.b[k] = (H.b[k] or 0) + 1
  end
  function H.percentile(q)
    if H.count == 0 then return 0 end
    local want, seen = math.ceil(H.count * q), 0
    local keys = {}
    for k in pairs(H.b) do keys[#keys + 1] = k end
    table.sort(keys)
    for _, k in ipairs(keys) do
      seen = seen + H.b[k]
      if seen >= want then
        local v = k == 0 and 0 or 2 ^ ((k - 0.5) / 16) / 1e6
        return math.min(math.max(v, H.min), H.max)
      end
    end
    return H.max
  end
  return H
end
M.histogram = histogram

-- ---------------------------------------------------------------- LuaJIT

local function pin(cpu)
  local ffi = require "ffi"
  pcall(ffi.cdef, "int sched_setaffinity(int pid, unsigned long size, const unsigned char *mask);")
  local mask = ffi.new("unsigned char[128]")
  mask[math.floor(cpu / 8)] = bit.lshift(1, cpu % 8)
  if ffi.C.sched_setaffinity(0, 128, mask) ~= 0 then
    error(string.format("cannot pin to CPU %d: %s", cpu, require("lnst.tests.sock").strerror()), 0)
  end
end

local function run_server(p, api, S)
  local ffi = require "ffi"
  S.raise_nofile(65536)
  local lfd, why = S.listen(p.bind, p.port)
  if not lfd then error(string.format("host %s: %s", api.host, why), 0) end
  local ep = assert(S.epoll(1024))
  ep.add(lfd, S.EPOLLIN)
  local crr = p.workload == "tcp_crr"
  local rbuf = ffi.new("uint8_t[?]", 65536)
  local wbuf = ffi.new("uint8_t[?]", math.max(p.response_size, 1))
  ffi.fill(wbuf, p.response_size, 120)
  local conns, served, errors, first_err = {}, 0, 0, nil
  local function drop(fd)
    ep.del(fd)
    S.close(fd)
    conns[fd] = nil
  end
  -- writes what the connection owes; true when it is all out
  local function flush(fd, c)
    while c.owed > 0 do
      local n = S.write(fd, wbuf, math.min(c.owed, p.response_size))
      if not n then
        if not c.waiting then ep.mod(fd, S.EPOLLIN + S.EPOLLOUT); c.waiting = true end
        return false
      end
      c.owed = c.owed - n
    end
    if c.waiting then ep.mod(fd, S.EPOLLIN); c.waiting = false end
    return true
  end
  api.ready()
  while not api.stop_requested() do
    local n, evs = ep.wait(100)
    for i = 0, (n or 0) - 1 do
      local fd, events = tonumber(evs[i].data), evs[i].events
      if fd == lfd then
        while true do
          local c = S.accept(lfd)
          if not c then break end
          ep.add(c, S.EPOLLIN)
          conns[c] = { got = 0, owed = 0 }
        end
      elseif conns[fd] then
        local c = conns[fd]
        if bit.band(events, S.EPOLLOUT) ~= 0 and flush(fd, c) and crr and c.done then drop(fd) end
        if conns[fd] and bit.band(events, S.EPOLLIN + S.EPOLLHUP + S.EPOLLERR) ~= 0 then
          local r, rerr = S.read(fd, rbuf, 65536)
          if r == 0 or rerr then
            if rerr then errors = errors + 1; first_err = first_err or rerr end
            drop(fd)
          elseif r then
            c.got = c.got + r
            while c.got >= p.request_size do
              c.got = c.got - p.request_size
              c.owed = c.owed + p.response_size
              served = served + 1
              c.done = crr
            end
            if c.owed > 0 and flush(fd, c) and crr and c.done then drop(fd) end
          end
        end
      end
    end
  end
  for fd in pairs(conns) do S.close(fd) end
  S.close(lfd)
  local res = { data = { num_transactions = served, workload = p.workload, implementation = "luajit",
    errors = errors } }
  if first_err then res.msg = first_err end
  return res, true
end

local function run_client(p, api, S)
  local ffi = require "ffi"
  S.raise_nofile(p.num_flows + 64)
  local crr = p.workload == "tcp_crr"
  local ep = assert(S.epoll(1024))
  local req = ffi.new("uint8_t[?]", math.max(p.request_size, 1))
  ffi.fill(req, p.request_size, 113)
  local rbuf = ffi.new("uint8_t[?]", 65536)
  local hist = histogram()
  local total, errors, first_err = 0, 0, nil
  local flows = {}
  local now = api.monotonic

  local function fail_flow(why)
    errors = errors + 1
    first_err = first_err or why
  end
  -- opens the connection of a flow; the request goes once it is writable
  local function open(f)
    local fd, why = S.connect(p.server, p.port)
    if not fd then fail_flow(why); return false end
    f.fd, f.state, f.sent, f.got, f.t0 = fd, "connecting", 0, 0, now()
    flows[fd] = f
    ep.add(fd, S.EPOLLOUT)
    return true
  end
  local function close(f)
    ep.del(f.fd)
    S.close(f.fd)
    flows[f.fd] = nil
  end
  local function send(f)
    while f.sent < p.request_size do
      local n, why = S.write(f.fd, req + f.sent, p.request_size - f.sent)
      if not n then
        if why then fail_flow(why); close(f); return false end
        if f.state ~= "sending" then ep.mod(f.fd, S.EPOLLOUT) end
        f.state = "sending"
        return true
      end
      f.sent = f.sent + n
    end
    if f.state ~= "receiving" then ep.mod(f.fd, S.EPOLLIN) end
    f.state = "receiving"
    return true
  end

  local start_mono, start_time = now(), api.time()
  local samples = {}
  local function sample(t)
    local u, s = api.cpu_times()
    samples[#samples + 1] = { time = start_time + (t - start_mono), transactions = total, utime = u, stime = s }
  end
  sample(start_mono)
  local all = {}
  for i = 1, p.num_flows do
    all[i] = {}
    if not open(all[i]) then
      return { msg = first_err, data = { num_transactions = 0 } }, false
    end
  end
  local stop_at, next_sample = start_mono + p.test_length, start_mono + 1
  while not api.stop_requested() do
    local t = now()
    if t >= next_sample then
      sample(next_sample)
      next_sample = next_sample + 1
    end
    if t >= stop_at then break end
    local n, evs = ep.wait(math.max(1, math.min(100, math.floor((next_sample - t) * 1000))))
    for i = 0, (n or 0) - 1 do
      local f = flows[tonumber(evs[i].data)]
      local events = evs[i].events
      if f and f.state == "connecting" then
        local e = S.connect_error(f.fd)
        if e ~= 0 then
          fail_flow(string.format("connect to %s port %d: %s", p.server, p.port, S.strerror(e)))
          close(f)
          if crr then open(f) end
        else
          send(f)
        end
      elseif f and f.state == "sending" then
        send(f)
      elseif f and bit.band(events, S.EPOLLIN + S.EPOLLHUP + S.EPOLLERR) ~= 0 then
        local r, why = S.read(f.fd, rbuf, 65536)
        if r == 0 or why then
          if f.state == "draining" then
            close(f)
            open(f)
          else
            fail_flow(why or "the server closed the connection in the middle of a transaction")
            close(f)
            if crr then open(f) end
          end
        elseif r then
          f.got = f.got + r
          if f.state == "receiving" and f.got >= p.response_size then
            local done = now()
            hist.add(done - f.t0)
            total = total + 1
            if crr then
              f.state = "draining" -- wait for the server's FIN: no TIME_WAIT here
            else
              f.got, f.sent, f.t0 = f.got - p.response_size, 0, done
              send(f)
            end
          end
        end
      end
    end
  end
  local ended = now()
  if samples[#samples].time < start_time + (ended - start_mono) - 0.01 then sample(ended) end
  local connecting = 0
  for _, f in pairs(flows) do
    if f.state == "connecting" then connecting = connecting + 1 end
    S.close(f.fd)
  end
  if total == 0 and not first_err and connecting > 0 then
    -- an unreachable peer: the connects neither succeeded nor failed in time
    first_err = string.format("connect to %s port %d: %d of %d connections not established within %.1f s",
      p.server, p.port, connecting, p.num_flows, ended - start_mono)
  end
  local elapsed = ended - start_mono
  local data = {
    num_transactions = total, throughput = elapsed > 0 and total / elapsed or 0,
    latency_min = hist.count > 0 and hist.min or 0, latency_max = hist.max,
    latency_mean = hist.count > 0 and hist.sum / hist.count or 0,
    latency_p50 = hist.percentile(0.5), latency_p90 = hist.percentile(0.9), latency_p99 = hist.percentile(0.99),
    num_flows = p.num_flows, workload = p.workload, implementation = "luajit", errors = errors,
    elapsed = elapsed,
  }
  local res = { data = data, samples = samples, start_time = start_time }
  if first_err then res.msg = first_err end
  return res, total > 0 and errors == 0
end

function M.run(p, api)
  local bin = p.implementation ~= "luajit" and neper_path(api, p.workload)
  if p.implementation == "neper" and not bin then
    api.skip(string.format("neper's %s is not installed on host %s (PATH or /root/neper)", p.workload, api.host))
  end
  if bin then return run_neper(p, api, bin) end
  if p.workload ~= "tcp_rr" and p.workload ~= "tcp_crr" then
    api.skip(string.format("%s needs neper, which is not installed on host %s", p.workload, api.host))
  end
  if p.num_threads > 1 then
    error(string.format("num_threads = %d needs neper (the LuaJIT %s runs its flows in one thread)",
      p.num_threads, p.workload), 0)
  end
  if p.cpu_bind then pin(p.cpu_bind) end
  local S = require "lnst.tests.sock"
  if p.role == "server" then return run_server(p, api, S) end
  return run_client(p, api, S)
end

return M
