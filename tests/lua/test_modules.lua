-- Unit tests for lnst.modules (module specs, shipping by hash, reports)
-- and lnst.sha256. Run from the repo root: luajit tests/lua/test_modules.lua
package.path = "lua/?.lua;lua/?/init.lua;tests/lua/?.lua;" .. package.path
local T = require "testlib"
local sha256 = require "lnst.sha256"
local modules = require "lnst.modules"

local tests = modules.tests

-- ---------------------------------------------------------------- sha256

T.test("sha256: FIPS 180-4 examples", function()
  T.eq(sha256.hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
  T.eq(sha256.hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
  T.eq(sha256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
end)

T.test("sha256: lengths around the padding boundary", function()
  -- 55, 56 and 64 bytes need one, two and two blocks
  T.eq(sha256.hex(("a"):rep(55)), "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318")
  T.eq(sha256.hex(("a"):rep(56)), "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a")
  T.eq(sha256.hex(("a"):rep(64)), "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb")
end)

-- ---------------------------------------------------------------- specs

T.test("specs: defaults, fixed params and upstream's repr", function()
  local s = tests.ping { dst = "198.51.100.2/24", count = 3 }
  T.eq(s.params, { dst = "198.51.100.2", count = 3, interval = 1.0 })
  T.eq(s.repr, "Ping(count=3, dst=198.51.100.2/24)")
  T.eq(tostring(s), s.repr)
  T.eq(s.tools, { "ping" })
  T.eq(s.timeout, 3 * 1.0 + 20)
  T.ok(modules.is_spec(s), "is_spec")
  local c = tests.iperf_client { server = "198.51.100.2", duration = 5, warmup_duration = 1, mptcp = true }
  T.eq(c.params.role, "client")
  T.eq(c.tools, { "iperf3", "mptcpize" })
  T.eq(c.timeout, 5 + 2 + 5 + 20)
  T.eq(tests.iperf_server { bind = "2001:db8::2" }.ready, true)
end)

T.test("specs: bad parameters name the module and every problem", function()
  T.raises_with(function() tests.ping { count = 0 } end,
    "lnst.tests.ping: parameter 'count': expected an integer >= 1, got 0; parameter 'dst' is mandatory (str)")
  T.raises_with(function() tests.ping { dst = "x", colour = "red" } end, "unknown parameter 'colour'")
  T.raises_with(function() tests.iperf_client { server = "a", udp = true, sctp = true } end,
    "lnst.tests.iperf_client: udp, sctp and mptcp exclude each other")
  T.raises_with(function() tests.rr_client { server = "a", workload = "tcp_stream" } end,
    "parameter 'workload': expected one of \"tcp_rr\", \"tcp_crr\", \"udp_rr\"")
  T.raises_with(function() modules.spec("nosuch", {}) end, "lnst.tests: no test module 'nosuch'")
end)

T.test("specs: errors point at the recipe's line", function()
  T.raises_at(function() tests.ping { dst = "x", count = -1 } end,
    "lnst.tests.ping: parameter 'count': expected an integer >= 1, got -1", "test_modules.lua")
end)

T.test("specs: a device proxy stands for its name", function()
  local dev = setmetatable({ host = {}, ifindex = 3 }, { __index = function(_, k)
    if k == "name" then return "eth0" end
  end })
  T.eq(tests.packet_assert { interface = dev }.params.interface, "eth0")
end)

T.test("specs: from_file reads a recipe's own module", function()
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write("return { run = function() return {}, true end }\n")
  f:close()
  local s = tests.from_file(path, { x = 1 }, { tools = { "tc" }, ready = true })
  os.remove(path)
  T.eq(s.source.sha, sha256.hex("return { run = function() return {}, true end }\n"))
  T.eq(s.params, { x = 1 })
  T.eq(s.tools, { "tc" })
  T.raises_with(function() tests.from_file("/nonexistent/x.lua") end, "cannot read /nonexistent/x.lua")
end)

T.test("sources: every library module is found and hashed", function()
  for _, file in ipairs(modules.LIBRARY) do
    local s = modules.source(file)
    local f = assert(io.open("lua/lnst/tests/" .. file .. ".lua", "rb"))
    T.eq(s.sha, sha256.hex(f:read("*a")), file)
    f:close()
    T.eq(s.file, "lnst/tests/" .. file .. ".lua")
  end
  -- every definition's file and deps are in the library list
  local lib = {}
  for _, f in ipairs(modules.LIBRARY) do lib[f] = true end
  for name, def in pairs(modules.DEFS) do
    T.ok(lib[def.file], name .. " file in LIBRARY")
    for _, d in ipairs(def.deps or {}) do T.ok(lib[d], name .. " dep " .. d) end
  end
end)

-- ---------------------------------------------------------------- shipping

-- A host whose agent holds `cached` hashes; it logs every request.
local function fake_host(cached, tools)
  local h = { name = "host1", log = {}, cached = cached or {}, capabilities = { tools = tools or {} } }
  local pending, next_id = {}, 0
  local function handle(method, params)
    h.log[#h.log + 1] = method
    if method == "module.missing" then
      local missing = {}
      for _, sha in ipairs(params.sha256s) do
        if not h.cached[sha] then missing[#missing + 1] = sha end
      end
      return { missing = missing }
    elseif method == "module.put" then
      T.eq(sha256.hex(params.source), params.sha256, "put carries the source of its hash")
      h.cached[params.sha256] = true
      return {}
    end
  end
  function h.call(_, method, params) return handle(method, params) end
  function h.has_tool(_, t)
    for _, x in ipairs(h.capabilities.tools) do if x == t then return true end end
    return false
  end
  h.conn = {
    send = function(_, method, params)
      next_id = next_id + 1
      pending[next_id] = handle(method, params)
      return next_id
    end,
    wait = function(_, id) return true, pending[id] end,
  }
  return h
end

T.test("shipping: one module.missing per host, only what is missing is put", function()
  local h = fake_host({}, { "ping", "iperf3" })
  local params, desc, skip = modules.prepare(h, tests.ping { dst = "198.51.100.2" })
  T.eq(skip, nil)
  T.eq(desc, "Ping(dst=198.51.100.2)")
  T.eq(params.module.name, "ping")
  T.eq(params.module.sha256, modules.source("ping").sha)
  T.eq(params.module.file, "lnst/tests/ping.lua")
  T.eq(h.log, { "module.missing", "module.put" })
  modules.prepare(h, tests.ping { dst = "198.51.100.3" })
  modules.prepare(h, tests.iperf_client { server = "198.51.100.2" })
  T.eq(h.log, { "module.missing", "module.put", "module.put" })
  -- a library module with a dependency: both go, and the job names the dep
  local p2 = modules.prepare(h, tests.rr_client { server = "198.51.100.2" })
  T.eq(p2.module.deps, { { name = "lnst.tests.sock", sha256 = modules.source("sock").sha,
    file = "lnst/tests/sock.lua" } })
  T.eq(h.log, { "module.missing", "module.put", "module.put", "module.put", "module.put" })
end)

T.test("shipping: an agent that has everything gets no source", function()
  local all = {}
  for _, f in ipairs(modules.LIBRARY) do all[modules.source(f).sha] = true end
  local h = fake_host(all, { "ping" })
  modules.prepare(h, tests.ping { dst = "198.51.100.2" })
  modules.prepare(h, tests.cpu_stat_monitor {})
  T.eq(h.log, { "module.missing" })
end)

T.test("shipping: a missing tool is a skip with the reason, nothing is sent", function()
  local h = fake_host({}, { "ping" })
  local params, desc, skip = modules.prepare(h, tests.iperf_client { server = "198.51.100.2", mptcp = true })
  T.eq(params, nil)
  T.eq(desc, "IperfClient(mptcp=true, server=198.51.100.2)")
  T.eq(skip, "test module iperf_client needs iperf3, which is not installed on host host1")
  T.eq(h.log, {})
end)

-- ---------------------------------------------------------------- reports

local function report(fields, job)
  job = job or {}
  job.module = job.module or tests.ping { dst = "198.51.100.2" }
  modules.apply_report(job, fields)
  return job
end

T.test("reports: verdict, result, error, skip", function()
  local ok = report { result = { rate = 100 }, passed = true, rusage = { user = 0.1, system = 0 } }
  T.eq({ ok.passed, ok.verdict, ok.result, ok.cpu }, { true, true, { rate = 100 }, { user = 0.1, system = 0 } })
  local bad = report { result = { msg = "x" }, passed = false }
  T.eq(bad.passed, false)
  local err = report { error = { message = "lnst/tests/ping.lua:3: boom", traceback = "\t...", host = "h" } }
  T.eq({ err.passed, err.result, err.error.message }, { false, {}, "lnst/tests/ping.lua:3: boom" })
  local skip = report { skip = "no SCTP" }
  T.eq({ skip.passed, skip.skipped }, { false, "no SCTP" })
  local timed = report({ result = { x = 1 }, passed = true }, { timed_out = true })
  T.eq({ timed.passed, timed.error.message }, { false, "the module timed out and was killed" })
end)

T.test("reports: expect = false passes a failing module, never a skip", function()
  T.eq(report({ passed = false }, { expect = false }).passed, true)
  T.eq(report({ passed = true }, { expect = false }).passed, false)
  T.eq(report({ skip = "x" }, { expect = false }).passed, false)
end)

T.test("reports: records say which module on which host and why", function()
  local recs = {}
  local host = { name = "host2", record = function(_, r) recs[#recs + 1] = r end }
  local function finish(job)
    job.id, job.desc, job.level, job.stderr = 4, job.module.repr, 1, ""
    modules.record_finish(host, job)
    return recs[#recs]
  end
  local e = finish(report { error = { message = "lnst/tests/ping.lua:3: boom", traceback = "tb" } })
  T.eq(e.result, "FAIL")
  T.eq(e.description, "Job finished: Ping(dst=198.51.100.2) (module ping on host host2 failed: "
    .. "lnst/tests/ping.lua:3: boom)")
  T.eq(e.data, { error = "lnst/tests/ping.lua:3: boom", traceback = "tb" })
  T.eq(e.module, "ping")
  local s = finish(report { skip = "no tool" })
  T.eq({ s.result, s.skipped }, { "WARNING", true })
  local f = finish(report { result = { msg = "ping failed (exit code 2): x" }, passed = false })
  T.eq(f.description, "Job finished: Ping(dst=198.51.100.2) (module ping on host host2 failed: "
    .. "ping failed (exit code 2): x)")
  local t = finish(report({}, { timed_out = true, duration = 25 }))
  T.eq(t.description, "Job finished: Ping(dst=198.51.100.2) (module ping on host host2 timed out after 25 s)")
end)

T.test("notices: early ones are kept for their job", function()
  local host = {}
  local j = { id = 7, module = { ready = false } }
  modules.notice(host, { job = { id = 7 }, notice = { ready = true } }, {})
  T.eq(j.ready, nil)
  modules.started(host, j)
  T.eq(j.ready, true)
  T.eq(j.notices, { { ready = true } })
  local j2 = { id = 8 }
  modules.notice(host, { job = { id = 8 }, notice = { step = 1 } }, { [8] = j2 })
  T.eq({ j2.notices, j2.ready }, { { { step = 1 } }, nil })
end)

T.run()
