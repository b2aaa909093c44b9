-- lnst.modules: test modules as the controller sees them (lnst.tests.*).
--
--   local ping = h1:run(lnst.tests.ping { dst = "198.51.100.2", count = 3 })
--   r:check(ping.passed and ping.result.rate >= 50, "ping rate")
--
-- A module spec names an agent-side Lua module (lua/lnst/tests/*.lua) and
-- its parameters, checked here with lnst.param exactly as upstream LNST's
-- BaseTestModule checks its Params. host:run(spec, opts) (lnst.host) asks
-- this module to prepare the job: tools the module needs must be in the
-- agent's hello capabilities (else the job is skipped with the reason,
-- recorded as a WARNING), and the module's source and its dependencies are
-- shipped by SHA-256: the first module run on a host asks `module.missing`
-- once for every library module, then only what the agent lacks is sent
-- with `module.put`. The agent runs the module in a forked child and its
-- report (result table, verdict, error with traceback, skip) comes back in
-- job.finished; apply_report and record_finish turn it into the job's
-- fields and the run's result record. docs/test-modules.md is the reference.
local param = require "lnst.param"
local sha256 = require "lnst.sha256"

local M = {}

local p = param

-- ---------------------------------------------------------------- definitions

-- Each definition: file (lua/lnst/tests/<file>.lua), class (upstream's name,
-- used in descriptions and the JSON "repr"), params, fixed params added for
-- the agent, deps (library modules it requires), tools (agent capabilities
-- it needs; a function of the params or a list), timeout (foreground
-- default, from the params), ready (the module announces readiness: a
-- background run returns once it has).
local INT_LIST = p.list { of = p.int { min = 0 } }
local PORT = p.int { min = 1, max = 65535 }

local function iperf_tools(P)
  local t = { "iperf3" }
  if P.mptcp then t[2] = "mptcpize" end
  return t
end

M.DEFS = {
  ping = {
    file = "ping", class = "Ping", tools = { "ping" },
    params = {
      dst = p.str { mandatory = true, doc = "address to ping" },
      count = p.int { default = 10, min = 1 },
      interval = p.float { default = 1.0, min = 0.0001 },
      interface = p.str { doc = "device name or source address (-I)" },
      size = p.int { min = 0, max = 65507 },
    },
    timeout = function(P) return P.count * P.interval + 20 end,
  },
  iperf_server = {
    file = "iperf", class = "IperfServer", tools = iperf_tools, fixed = { role = "server" }, ready = true,
    params = {
      bind = p.str { mandatory = true, doc = "address to listen on" },
      port = PORT, cpu_bind = INT_LIST, opts = p.str {},
      oneoff = p.bool { default = false }, mptcp = p.bool { default = false },
    },
  },
  iperf_client = {
    file = "iperf", class = "IperfClient", tools = iperf_tools, fixed = { role = "client" },
    params = {
      server = p.str { mandatory = true },
      duration = p.int { default = 10, min = 1 },
      warmup_duration = p.int { default = 0, min = 0 },
      udp = p.bool { default = false }, sctp = p.bool { default = false }, mptcp = p.bool { default = false },
      port = PORT, client_port = PORT, blksize = p.int { min = 1 }, mss = p.int { min = 88 },
      cpu_bind = INT_LIST, parallel = p.int { min = 1, max = 128 }, opts = p.str {},
    },
    check = function(P)
      local n = (P.udp and 1 or 0) + (P.sctp and 1 or 0) + (P.mptcp and 1 or 0)
      if n > 1 then return "udp, sctp and mptcp exclude each other" end
    end,
    timeout = function(P) return P.duration + 2 * P.warmup_duration + 5 + 20 end,
  },
  packet_assert = {
    file = "packet_assert", class = "PacketAssert", tools = { "tcpdump" }, ready = true,
    params = {
      interface = p.str { mandatory = true, doc = "device (name or proxy) to capture on" },
      p_filter = p.str { default = "" },
      grep_for = p.list { of = p.str {}, default = {} },
      promiscuous = p.bool { default = false },
      duration = p.float { min = 0, doc = "stop after this many seconds instead of on SIGINT" },
    },
  },
  cpu_stat_monitor = {
    file = "cpu_stat_monitor", class = "CPUStatMonitor", ready = true,
    params = { interval = p.int { default = 1000, min = 10, doc = "milliseconds" } },
  },
  iface_stats_monitor = {
    file = "iface_stats_monitor", class = "InterfaceStatsMonitor", ready = true,
    params = {
      device = p.str { mandatory = true },
      interval = p.float { default = 1.0, min = 0.01 },
      stats = p.list { of = p.str {} },
    },
  },
  long_lived_server = {
    file = "long_lived_connections", class = "LongLivedServer", deps = { "sock" }, ready = true,
    fixed = { role = "server" },
    params = {
      server_ip = p.str { mandatory = true }, server_port = p.int { mandatory = true, min = 1, max = 65535 },
      duration = p.int { default = 0, min = 0, doc = "0: until SIGINT" },
      connections_count = p.int { default = 1, min = 1 },
    },
  },
  long_lived_client = {
    file = "long_lived_connections", class = "LongLivedClient", deps = { "sock" }, ready = true,
    fixed = { role = "client" },
    params = {
      server_ip = p.str { mandatory = true }, server_port = p.int { mandatory = true, min = 1, max = 65535 },
      client_ip = p.str { mandatory = true },
      duration = p.int { default = 0, min = 0, doc = "0: until SIGINT" },
      connections_count = p.int { default = 1, min = 1 },
    },
    timeout = function(P) return P.duration > 0 and P.duration + 60 or nil end,
  },
}

local function rr_params(role)
  local t = {
    workload = p.choice { choices = { "tcp_rr", "tcp_crr", "udp_rr" }, default = "tcp_rr" },
    port = p.int { default = 12867, min = 2, max = 65535 },
    request_size = p.int { default = 1, min = 1 }, response_size = p.int { default = 1, min = 1 },
    num_threads = p.int { default = 1, min = 1 }, num_flows = p.int { default = 1, min = 1 },
    cpu_bind = p.int { min = 0 },
    implementation = p.choice { choices = { "auto", "luajit", "neper" }, default = "auto" },
  }
  if role == "server" then
    t.bind = p.str { mandatory = true }
  else
    t.server = p.str { mandatory = true }
    t.test_length = p.int { default = 10, min = 1 }
  end
  return t
end

M.DEFS.rr_server = { file = "rr_workload", class = "NeperServer", deps = { "sock", "iperf" }, ready = true,
  fixed = { role = "server" }, params = rr_params("server") }
M.DEFS.rr_client = { file = "rr_workload", class = "NeperClient", deps = { "sock" },
  fixed = { role = "client" }, params = rr_params("client"),
  timeout = function(P) return P.test_length + 40 end }

-- pktgen (upstream PktgenController): one entry of `config` per pktgen
-- device; each entry is checked here against PKTGEN_DEVICE (and replaced by
-- its resolved form, device proxies by their names).
M.PKTGEN_DEVICE = {
  cpu = p.int { mandatory = true, min = 0, doc = "pktgen thread (kpktgend_CPU)" },
  src_if = p.str { mandatory = true, doc = "device that sends" },
  dst_mac = p.str { mandatory = true }, src_mac = p.str { doc = "default: src_if's address" },
  src_ip = p.ip { mandatory = true }, dst_ip = p.ip { mandatory = true },
  src_port = PORT, dst_port = PORT,
  count = p.int { default = 0, min = 0, doc = "0: no limit" },
  pkt_size = p.int { default = 60, min = 14 },
  burst = p.int { default = 8, min = 1 },
  duration = p.int { default = 60, min = 1 },
  ratep = p.int { default = -1, doc = "packets/s, -1: unlimited" },
  flags = p.list { of = p.str {}, default = { "NO_TIMESTAMP", "QUEUE_MAP_CPU" } },
  vlan_id = p.int { default = 0, min = 0, max = 4095 },
}

local function pktgen_check(P)
  local errs, cpus = {}, {}
  for i, d in ipairs(P.config) do
    local given = {}
    for k, v in pairs(d) do
      given[k] = type(v) == "table" and rawget(v, "ifindex") and rawget(v, "host") and v.name or v
    end
    local ok, r = pcall(param.resolve, M.PKTGEN_DEVICE, given)
    if ok then
      r.src_ip, r.dst_ip = tostring(r.src_ip):gsub("/%d+$", ""), tostring(r.dst_ip):gsub("/%d+$", "")
      if (r.src_ip:find(":", 1, true) ~= nil) ~= (r.dst_ip:find(":", 1, true) ~= nil) then
        errs[#errs + 1] = string.format("config[%d]: src_ip and dst_ip are of different IP versions", i)
      elseif not r.dst_mac:lower():match("^%x%x:%x%x:%x%x:%x%x:%x%x:%x%x$") then
        errs[#errs + 1] = string.format("config[%d]: dst_mac '%s' is not a MAC address", i, r.dst_mac)
      elseif cpus[r.cpu .. "/" .. r.src_if] then
        errs[#errs + 1] = string.format("config[%d]: a second pktgen device %s@%d", i, r.src_if, r.cpu)
      end
      cpus[r.cpu .. "/" .. r.src_if] = true
      P.config[i] = r
    else
      errs[#errs + 1] = string.format("config[%d]: %s", i, (tostring(r):gsub("\n", ", ")))
    end
  end
  if #P.config == 0 then errs[#errs + 1] = "config is empty" end
  if #errs > 0 then return table.concat(errs, "; ") end
end

local function pktgen_duration(P)
  local d = 0
  for _, c in ipairs(P.config) do d = math.max(d, c.duration) end
  return d
end

M.DEFS.pktgen = { file = "pktgen", class = "PktgenController",
  params = { config = p.list { of = p.dict {}, mandatory = true, doc = "one table per pktgen device" } },
  check = pktgen_check, timeout = function(P) return pktgen_duration(P) + 30 end }

-- xdp-bench (upstream XDPBench, XDPBenchRedirectCpu): one module file.
local XDP_MODE = p.choice { choices = { "native", "skb" }, default = "native" }
M.DEFS.xdp_bench = { file = "xdp_bench", class = "XDPBench", tools = { "xdp-bench" }, ready = true,
  fixed = { role = "bench" },
  params = {
    command = p.choice { mandatory = true,
      choices = { "pass", "drop", "tx", "redirect", "redirect-map", "redirect-multi" } },
    interface = p.str { mandatory = true }, interface2 = p.str { doc = "redirect target" },
    interval = p.int { default = 1, min = 1 }, duration = p.int { default = 60, min = 1 },
    xdp_mode = XDP_MODE,
    load_mode = p.choice { choices = { "dpa", "load-bytes" } },
    packet_operation = p.choice { choices = { "no-touch", "read-data", "parse-ip", "swap-macs" } },
    remote_action = p.choice { choices = { "disabled", "drop", "pass", "redirect" } },
    redirect_device = p.str {}, qsize = p.int { min = 1 },
  },
  timeout = function(P) return P.duration + 30 end }
M.DEFS.xdp_bench_redirect_cpu = { file = "xdp_bench", class = "XDPBenchRedirectCpu", tools = { "xdp-bench" },
  ready = true, fixed = { role = "redirect_cpu", command = "redirect-cpu", extended = true },
  params = {
    interface = p.str { mandatory = true },
    cpus = p.list { of = p.int { min = 0 }, mandatory = true, doc = "cpumap CPUs (-c)" },
    program = p.str { default = "l4-dport", doc = "-p" }, remote_action = p.str { default = "drop", doc = "-r" },
    qsize = p.int { default = 512, min = 1 }, xdp_mode = XDP_MODE,
    interval = p.int { default = 1, min = 1 }, duration = p.int { default = 60, min = 1 },
  },
  check = function(P) if #P.cpus == 0 then return "cpus is empty" end end,
  timeout = function(P) return P.duration + 30 end }

-- Every library module file, asked about in one module.missing per host.
M.LIBRARY = { "cpu_stat_monitor", "iface_stats_monitor", "iperf", "long_lived_connections", "packet_assert",
  "ping", "pktgen", "rr_workload", "sock", "xdp_bench" }

-- ---------------------------------------------------------------- sources

local sources = {} -- file -> { text, sha, file, name }

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("*a")
  f:close()
  return text
end

-- The source of lua/lnst/tests/<file>.lua: from LNST_LUA_PATH in
-- development, else embedded in the binary (lnst.modsrc.<file>), else from
-- package.path (plain luajit, as the unit tests run).
function M.source(file)
  local s = sources[file]
  if s then return s end
  local text
  local dev = os.getenv("LNST_LUA_PATH")
  if dev and dev ~= "" then text = read(dev .. "/lnst/tests/" .. file .. ".lua") end
  if not text then
    local ok, embedded = pcall(require, "lnst.modsrc." .. file)
    if ok and type(embedded) == "string" then text = embedded end
  end
  if not text then
    local path = package.searchpath("lnst.tests." .. file, package.path)
    text = path and read(path)
  end
  if not text then error("test module source lnst/tests/" .. file .. ".lua not found", 0) end
  s = { text = text, sha = sha256.hex(text), file = "lnst/tests/" .. file .. ".lua",
    name = "lnst.tests." .. file }
  sources[file] = s
  return s
end

-- ---------------------------------------------------------------- specs

local Spec = {}
Spec.__index = Spec

function Spec.__tostring(s) return s.repr end

function M.is_spec(x)
  return getmetatable(x) == Spec
end

local function show(v, depth)
  depth = depth or 0
  if type(v) == "string" then return v end
  if type(v) == "table" and rawget(v, "ifindex") and rawget(v, "host") then return tostring(v.name) end
  if type(v) == "table" and depth < 4 then
    local parts = {}
    for i, x in ipairs(v) do parts[i] = show(x, depth + 1) end
    if #parts == 0 and next(v) ~= nil then -- a dict (pktgen's config entries)
      for k, x in pairs(v) do parts[#parts + 1] = tostring(k) .. "=" .. show(x, depth + 1) end
      table.sort(parts)
      return "{" .. table.concat(parts, ", ") .. "}"
    end
    return "[" .. table.concat(parts, ", ") .. "]"
  end
  return tostring(v)
end

-- A device proxy stands for its name; an address may carry a /prefix.
local function coerce(given)
  local out = {}
  for k, v in pairs(given) do
    if type(v) == "table" and rawget(v, "ifindex") and rawget(v, "host") then v = v.name end
    out[k] = v
  end
  return out
end

local ADDRESS_PARAMS = { dst = true, bind = true, server = true, server_ip = true, client_ip = true }

local function repr(class, given)
  local keys = {}
  for k in pairs(given) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = k .. "=" .. show(given[k]) end
  return class .. "(" .. table.concat(parts, ", ") .. ")"
end

-- Builds the spec of module `name` from the given parameters; errors name
-- the module and every bad parameter.
function M.spec(name, given, level)
  local def = M.DEFS[name]
  if not def then error("lnst.tests: no test module '" .. tostring(name) .. "'", (level or 1) + 1) end
  if given ~= nil and type(given) ~= "table" then
    error(string.format("lnst.tests.%s takes a table of parameters", name), (level or 1) + 1)
  end
  given = coerce(given or {})
  local ok, P = pcall(param.resolve, def.params, given)
  if not ok then
    error(string.format("lnst.tests.%s: %s", name, tostring(P):gsub("\n", "; ")), (level or 1) + 1)
  end
  for k in pairs(ADDRESS_PARAMS) do
    if type(P[k]) == "string" then P[k] = P[k]:gsub("/%d+$", "") end
  end
  local bad = def.check and def.check(P)
  if bad then error(string.format("lnst.tests.%s: %s", name, bad), (level or 1) + 1) end
  for k, v in pairs(def.fixed or {}) do P[k] = v end
  local tools = type(def.tools) == "function" and def.tools(P) or def.tools or {}
  return setmetatable({
    name = name, class = def.class, file = def.file, deps = def.deps or {}, params = P,
    given = given, repr = repr(def.class, given), tools = tools,
    timeout = def.timeout and def.timeout(P) or nil, ready = def.ready or false,
  }, Spec)
end

-- lnst.tests.<name> { params } for every definition, and
-- lnst.tests.from_file(path, params, opts) for a module of your own.
M.tests = {}
for name in pairs(M.DEFS) do
  M.tests[name] = function(given)
    local spec = M.spec(name, given, 2) -- not a tail call: errors point at the caller's line
    return spec
  end
end

-- A module from a file of the recipe's own: opts.tools (capabilities it
-- needs), opts.deps (library modules it requires, e.g. {"sock"}),
-- opts.timeout (foreground default), opts.ready (it calls api.ready()).
-- Its params are sent as given (they must be JSON data).
function M.tests.from_file(path, params, opts)
  opts = opts or {}
  local text = read(path)
  if not text then error("lnst.tests.from_file: cannot read " .. tostring(path), 2) end
  local base = path:match("([^/]+)%.lua$") or path:match("([^/]+)$")
  local name = base:gsub("[^%w_.-]", "_")
  local src = { text = text, sha = sha256.hex(text), file = path, name = name }
  return setmetatable({
    name = name, class = name, source = src, deps = opts.deps or {}, params = params or {},
    given = params or {}, repr = repr(name, params or {}), tools = opts.tools or {},
    timeout = opts.timeout, ready = opts.ready or false,
  }, Spec)
end

-- ---------------------------------------------------------------- shipping

local state = setmetatable({}, { __mode = "k" }) -- host -> { known = {sha = cached?} }

-- Makes sure the agent of `host` has every source in srcs: one
-- module.missing for what was never asked on this host (the whole library
-- the first time), then module.put for each missing one, pipelined.
function M.ship(host, srcs)
  local st = state[host]
  if not st then
    st = { known = {} }
    state[host] = st
    for _, file in ipairs(M.LIBRARY) do
      local s = M.source(file)
      st.known[s.sha] = false
    end
    st.unasked = true
  end
  local ask = {}
  if st.unasked then
    for sha in pairs(st.known) do ask[#ask + 1] = sha end
    st.unasked = false
  end
  for _, s in ipairs(srcs) do
    if st.known[s.sha] == nil then
      st.known[s.sha] = false
      ask[#ask + 1] = s.sha
    end
  end
  if #ask > 0 then
    table.sort(ask)
    local res = host:call("module.missing", { sha256s = ask })
    local missing = {}
    for _, sha in ipairs(res.missing or {}) do missing[sha] = true end
    for _, sha in ipairs(ask) do st.known[sha] = not missing[sha] end
  end
  local ids = {}
  for _, s in ipairs(srcs) do
    if not st.known[s.sha] then
      ids[#ids + 1] = { s, host.conn:send("module.put", { sha256 = s.sha, source = s.text }) }
      st.known[s.sha] = true
    end
  end
  for _, it in ipairs(ids) do
    local ok, res, msg = host.conn:wait(it[2], 30)
    if not ok then
      st.known[it[1].sha] = false
      error(string.format("host %s: cannot send test module %s: %s (%s)", host.name, it[1].file, msg, res), 0)
    end
  end
end

-- What host:run needs for a spec: the job.start params and description, or
-- a skip reason when the host lacks a tool the module needs.
function M.prepare(host, spec)
  for _, tool in ipairs(spec.tools) do
    if not host:has_tool(tool) then
      return nil, spec.repr, string.format("test module %s needs %s, which is not installed on host %s",
        spec.name, tool, host.name)
    end
  end
  local main = spec.source or M.source(spec.file)
  local srcs, deps = { main }, {}
  for _, d in ipairs(spec.deps) do
    local s = M.source(d)
    srcs[#srcs + 1] = s
    deps[#deps + 1] = { name = s.name, sha256 = s.sha, file = s.file }
  end
  M.ship(host, srcs)
  local mod = { name = spec.name, sha256 = main.sha, file = main.file, params = spec.params }
  if #deps > 0 then mod.deps = deps end
  return { module = mod }, spec.repr
end

-- ---------------------------------------------------------------- results

local function level_of(opts) return opts.level or 1 end

-- A job that never ran because the module was skipped (a WARNING result).
function M.skipped(host, spec, reason, opts)
  opts = opts or {}
  local j = require("lnst.job").new(host, { id = 0, desc = spec.repr, module = spec, bg = opts.bg,
    level = level_of(opts) })
  j:_finish { exit_code = nil, stdout = "", stderr = "", skip = reason }
  host:record { type = "job", action = "finish", host = host.name, job_id = 0, command = spec.repr,
    module = spec.name, result = "WARNING", skipped = true, level = level_of(opts),
    source = "Host " .. host.name, description = "SKIP " .. spec.repr .. ": " .. reason }
  return j
end

-- Fills a module job's fields from its job.finished report (lnst.job calls
-- this from _finish): result (the module's table), verdict (the module's),
-- passed (the verdict; its opposite with expect = false, for negative
-- tests), error ({message, traceback, host}), skipped (the reason), cpu
-- (the module process's own CPU seconds).
function M.apply_report(j, report)
  j.result = report.result or {}
  j.error = report.error
  j.skipped = report.skip
  j.cpu = report.rusage
  if j.timed_out and not j.error then
    j.error = { message = "the module timed out and was killed" }
  end
  j.verdict = report.passed == true and not j.timed_out
  j.passed = j.verdict
  if j.expect == false and not j.skipped then j.passed = not j.verdict end
end

-- The result record of a finished module job.
function M.record_finish(host, j)
  local spec = j.module
  local what, result = "passed", j.passed and "PASS" or "FAIL"
  local data = j.result
  if j.skipped then
    what, result = "skipped: " .. j.skipped, "WARNING"
  elseif j.expect == false and j.passed then
    what = "failed as expected"
    if j.error then data = { error = j.error.message, traceback = j.error.traceback } end
  elseif j.expect == false then
    what = string.format("module %s on host %s passed, but was expected to fail", spec.name, host.name)
  elseif j.timed_out then
    what = string.format("module %s on host %s timed out after %g s", spec.name, host.name, j.duration or 0)
  elseif j.error then
    what = string.format("module %s on host %s failed: %s", spec.name, host.name, tostring(j.error.message))
    if j.error.process then what = what .. " (" .. j.error.process .. ")" end
    data = { error = j.error.message, traceback = j.error.traceback, stderr = j.stderr ~= "" and j.stderr or nil }
  elseif not j.passed then
    what = string.format("module %s on host %s failed", spec.name, host.name)
    if type(j.result) == "table" and j.result.msg then what = what .. ": " .. tostring(j.result.msg) end
  end
  host:record { type = "job", action = "finish", host = host.name, job_id = j.id, command = j.desc,
    module = spec.name, result = result, skipped = j.skipped ~= nil or nil,
    level = j.level, data_level = math.min(j.level + 1, 3),
    source = string.format("Host %s job %d", host.name, j.id),
    description = string.format("Job finished: %s (%s)", j.desc, what), data = data }
end

-- ---------------------------------------------------------------- notices

local early = setmetatable({}, { __mode = "k" }) -- host -> { [job id] = { notice, ... } }

-- A job.notice event (api.notice / api.ready on the agent).
function M.notice(host, ev, jobs)
  local id = ev.job and ev.job.id
  local j = jobs[id]
  if not j then
    -- before job.start's reply was handled: keep it for the job
    early[host] = early[host] or {}
    local q = early[host][id] or {}
    q[#q + 1] = ev.notice
    early[host][id] = q
    return
  end
  M.add_notice(j, ev.notice)
end

function M.add_notice(j, notice)
  j.notices = j.notices or {}
  j.notices[#j.notices + 1] = notice
  if type(notice) == "table" and notice.ready then j.ready = true end
end

-- After a background module job started: takes its early notices and, when
-- the module announces readiness, waits for it (or for the job to end).
function M.started(host, j, timeout)
  local q = early[host] and early[host][j.id]
  if q then
    early[host][j.id] = nil
    for _, n in ipairs(q) do M.add_notice(j, n) end
  end
  if not j.module.ready then return end
  local core = require "lnst.core"
  local deadline = core.now() + (timeout or 30)
  while not j.ready and not j.finished do
    if host.conn:lost() then
      error(string.format("host %s: agent connection lost while %s was starting", host.name, j.desc), 0)
    end
    if core.now() > deadline then
      error(string.format("host %s: %s did not get ready within %g s", host.name, j.desc, timeout or 30), 0)
    end
    core.poll(0.05)
  end
end

return M
