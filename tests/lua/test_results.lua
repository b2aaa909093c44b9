-- Unit tests for lnst.results. Run from the repo root: luajit tests/lua/test_results.lua
package.path = "lua/?.lua;lua/?/init.lua;tests/lua/?.lua;" .. package.path
local T = require "testlib"
local R = require "lnst.results"

local real_clock = R.clock

-- A fake clock: 100.25, 100.5, 100.75, ...
local function fake_clock()
  local t = 100
  R.clock = function() t = t + 0.25; return t end
end

T.test("constants", function()
  T.eq({ R.PASS, R.FAIL, R.WARNING }, { "PASS", "FAIL", "WARNING" })
  T.eq({ R.IMPORTANT, R.NORMAL, R.DEBUG }, { 1, 2, 3 })
end)

T.test("worst ranks FAIL > WARNING > PASS", function()
  T.eq(R.worst(R.PASS, R.PASS), R.PASS)
  T.eq(R.worst(R.PASS, R.WARNING), R.WARNING)
  T.eq(R.worst(R.WARNING, R.PASS), R.WARNING)
  T.eq(R.worst(R.WARNING, R.FAIL), R.FAIL)
  T.eq(R.worst(R.FAIL, R.WARNING), R.FAIL)
  T.eq(R.worst(R.FAIL, R.PASS), R.FAIL)
  T.eq(R.worst(true, true), R.PASS)
  T.eq(R.worst(true, false), R.FAIL)
  T.raises_with(function() R.worst("pass", R.PASS) end,
    'results.worst: result must be PASS, FAIL, WARNING or a boolean, got "pass"')
  T.raises_with(function() R.worst(R.PASS, nil) end, "got nil")
end)

T.test("the default clock gives seconds with a fraction", function()
  local before = os.time()
  local now = real_clock()
  T.ok(type(now) == "number", "a number")
  T.ok(now >= before - 1 and now <= os.time() + 1, "close to os.time()")
end)

T.test("new_run keeps its fields and starts empty", function()
  fake_clock()
  local match = { { host = "host1", target = "netns host1 (pid 42)", nics = { { name = "eth0", target = "eth0" } } } }
  local run = R.new_run { recipe = "HelloWorld", description = "says hello", params = { count = 5 }, match = match }
  T.eq(run.recipe, "HelloWorld")
  T.eq(run.description, "says hello")
  T.eq(run.params, { count = 5 })
  T.ok(run.match == match, "match kept")
  T.eq(run.results, {})
  T.eq(run.exception, nil)
  T.eq(run.timestamp, 100.25)
  T.eq(R.new_run().results, {}, "all fields optional")
end)

T.test("add fills index, timestamp and result defaults", function()
  fake_clock()
  local run = R.new_run {}
  local fields = { result = R.PASS, description = "ping rate", data = { rate = 100 } }
  local r0 = run:add(fields)
  local r1 = run:add { result = R.FAIL }
  T.ok(run.results[1] == r0 and run.results[2] == r1, "records returned and stored in order")
  T.eq(r0, { result = "PASS", description = "ping rate", data = { rate = 100 }, type = "result",
    level = R.IMPORTANT, data_level = R.NORMAL, source = "TestResult", index = 0, timestamp = 100.5 })
  T.eq(r1.index, 1)
  T.eq(r1.timestamp, 100.75)
  T.eq(r1.description, "")
  T.eq(fields, { result = R.PASS, description = "ping rate", data = { rate = 100 } }, "input untouched")
  T.ok(r0.data == fields.data, "data kept by reference")
end)

T.test("add converts booleans", function()
  local run = R.new_run {}
  T.eq(run:add({ result = true }).result, R.PASS)
  T.eq(run:add({ result = false }).result, R.FAIL)
  T.eq(run:add({ result = R.WARNING }).result, R.WARNING)
end)

T.test("add keeps explicit levels and extra fields", function()
  local run = R.new_run {}
  local r = run:add { result = R.PASS, level = R.DEBUG, data_level = R.IMPORTANT, host = "host1",
    dev = "eth0", action = "method_call", source = "Custom" }
  T.eq({ r.level, r.data_level, r.host, r.dev, r.action, r.source },
    { R.DEBUG, R.IMPORTANT, "host1", "eth0", "method_call", "Custom" })
end)

T.test("per-type defaults: levels and sources", function()
  local run = R.new_run {}
  local job = run:add { type = "job", result = R.PASS, host = "host1", job_id = 3, action = "start" }
  T.eq({ job.level, job.data_level, job.source }, { R.IMPORTANT, R.NORMAL, "Host host1 job 3" })
  local dbg = run:add { type = "job", result = R.PASS, level = R.NORMAL }
  T.eq({ dbg.level, dbg.data_level, dbg.source }, { R.NORMAL, R.DEBUG, "Job" })
  local deepest = run:add { type = "job", result = R.PASS, level = R.DEBUG }
  T.eq(deepest.data_level, R.DEBUG, "capped at DEBUG")
  local dev = run:add { type = "device_config", result = R.PASS, host = "host2", dev = "br0" }
  T.eq({ dev.level, dev.data_level, dev.source }, { R.NORMAL, R.NORMAL, "Host host2 device br0" })
  T.eq(run:add({ type = "device_config", result = R.PASS }).source, "DeviceConfig")
  local m = run:add { type = "measurement", result = R.PASS, measurement_type = "ping" }
  T.eq({ m.level, m.data_level, m.source, m.measurement_type },
    { R.IMPORTANT, R.NORMAL, "TestResult", "ping" })
  T.eq(run:add({ type = "description", result = R.PASS }).source, "TestResult")
  T.eq(run:add({ type = "exception", result = R.FAIL }).level, R.IMPORTANT)
end)

T.test("add rejects bad fields", function()
  local run = R.new_run {}
  T.raises_with(function() run:add { result = "ok" } end,
    'run:add: result must be PASS, FAIL, WARNING or a boolean, got "ok"')
  T.raises_with(function() run:add { description = "no result" } end,
    "run:add: result must be PASS, FAIL, WARNING or a boolean, got nil")
  T.raises_with(function() run:add { result = R.PASS, type = "jobs" } end,
    'run:add: unknown type "jobs" (known: description, device_config, exception, job, measurement, result)')
  T.raises_with(function() run:add { result = R.PASS, level = 4 } end,
    "run:add: level must be results.IMPORTANT (1), NORMAL (2) or DEBUG (3), got 4")
  T.raises_with(function() run:add { result = R.PASS, data_level = "high" } end,
    "run:add: data_level must be results.IMPORTANT (1), NORMAL (2) or DEBUG (3), got high")
  T.raises_with(function() run:add { result = R.PASS, description = 5 } end,
    "run:add: description must be a string, got a number")
  T.raises_with(function() run:add "PASS" end, "run:add: expected a table of fields")
  T.eq(#run.results, 0, "nothing added by failed calls")
end)

T.test("add errors point at the caller", function()
  local run = R.new_run {}
  T.raises_at(function() run:add { result = "ok" } end,
    'run:add: result must be PASS, FAIL, WARNING or a boolean, got "ok"', "test_results.lua")
  T.raises_at(function() run:add { result = R.PASS, level = 0 } end,
    "run:add: level must be results.IMPORTANT (1), NORMAL (2) or DEBUG (3), got 0", "test_results.lua")
end)

T.test("overall result rules", function()
  local function overall(...)
    local run = R.new_run {}
    for _, res in ipairs { ... } do run:add { result = res } end
    return run:overall()
  end
  T.eq(overall(), R.PASS, "empty run")
  T.eq(overall(R.PASS, R.PASS), R.PASS)
  T.eq(overall(R.PASS, R.WARNING, R.PASS), R.WARNING)
  T.eq(overall(R.WARNING, R.FAIL, R.WARNING), R.FAIL)
  T.eq(overall(R.FAIL, R.PASS), R.FAIL)
  T.eq(overall(true, false), R.FAIL)
end)

T.test("an exception fails the run", function()
  local run = R.new_run {}
  run:set_exception("boom", "stack traceback:\n\trecipe.lua:3: in function 'test'")
  T.eq(run.exception, { message = "boom", traceback = "stack traceback:\n\trecipe.lua:3: in function 'test'" })
  T.eq(run:overall(), R.FAIL, "no results, exception")
  local run2 = R.new_run {}
  run2:add { result = R.PASS }
  run2:add { result = R.WARNING }
  run2:set_exception(setmetatable({}, { __tostring = function() return "host1: no such device" end }))
  T.eq(run2.exception, { message = "host1: no such device" }, "message through tostring, no traceback")
  T.eq(run2:overall(), R.FAIL)
end)

T.test("a run prints as its result and the lines the summary shows (the REPL)", function()
  local inspect = require "lnst.inspect"
  local run = R.new_run { recipe = "R1" }
  run:add { result = R.PASS, description = "one", source = "TestResult" }
  run:add { result = R.PASS, description = "device op", level = R.NORMAL, source = "Host h1 device eth0" }
  run:add { result = R.FAIL, description = "two", level = R.DEBUG, source = "TestResult" }
  run:set_exception("boom")
  T.eq(inspect(run), "<run R1: FAIL, 3 results\n  PASS 0_TestResult:\tone\n  FAIL 2_TestResult:\ttwo\n"
    .. "  exception: boom>")
  T.eq(inspect(R.new_run {}), "<run ?: PASS, 0 results>")
end)

T.run()
