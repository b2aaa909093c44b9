-- Unit tests for lnst.format. Run from the repo root: luajit tests/lua/test_format.lua
package.path = "lua/?.lua;lua/?/init.lua;tests/lua/?.lua;" .. package.path
local T = require "testlib"
local R = require "lnst.results"
local format = require "lnst.format"

R.clock = function() return 0 end

local function lines(t) return table.concat(t, "\n") end

-- The synthetic run behind the upstream output quoted in
-- shared/reference/lnst-recipes.md §1.5.
local function upstream_run()
  local run = R.new_run {
    recipe = "SimpleNetworkRecipe",
    match = {
      { host = "host2", target = "agent-b", nics = { { name = "eth0", target = "eth1" } } },
      { host = "host1", target = "agent-a", nics = { { name = "eth0", target = "eth1" } } },
    },
  }
  run:add { result = R.PASS, type = "description",
    description = "Summary of used Recipe parameters:\n{'perf_duration': 60}" }
  run:add { result = R.PASS, type = "job", action = "start", host = "host1", job_id = 3,
    description = "Job started: (ping 192.168.101.2 -c 100)" }
  run:add { result = R.PASS, type = "job", action = "finish", host = "host1", job_id = 3,
    description = "Job finished: (ping 192.168.101.2 -c 100)", data = { stdout = "..." } }
  run:add { result = R.PASS, type = "measurement", measurement_type = "ping",
    description = "Ping result --- From: <host1 (192.168.101.1/24)> To: <host2 (192.168.101.2/24)>",
    data = { rate = 100 } }
  run:add { result = R.PASS, description = "measured rate 100 is more than min_rate(50)" }
  run:add { result = R.PASS, type = "measurement", measurement_type = "cpu",
    description = "host host1 cpu 'cpu' utilization: 45.40 +-0.00 time units per second" }
  run:add { result = R.FAIL,
    description = "Nonzero evaluation of flow:\nFAIL: receiver_results reported zero throughput" }
  return run
end

T.test("reproduces upstream's summary of the reference run", function()
  T.eq(format.human(upstream_run()), lines {
    "RUN SUMMARY",
    "Description:",
    "Pool match description:",
    '  host "host1" uses "agent-a"',
    '    interface "eth0" matched to "eth1"',
    '  host "host2" uses "agent-b"',
    '    interface "eth0" matched to "eth1"',
    "PASS 0_TestResult:",
    "    Summary of used Recipe parameters:",
    "    {'perf_duration': 60}",
    "PASS 2_Host host1 job 3\tJob finished: (ping 192.168.101.2 -c 100)",
    "PASS 3_TestResult:\tPing result --- From: <host1 (192.168.101.1/24)> To: <host2 (192.168.101.2/24)>",
    "PASS 4_TestResult:\tmeasured rate 100 is more than min_rate(50)",
    "PASS 5_TestResult:\thost host1 cpu 'cpu' utilization: 45.40 +-0.00 time units per second",
    "FAIL 6_TestResult:",
    "    Nonzero evaluation of flow:",
    "    FAIL: receiver_results reported zero throughput",
    "Overall result of this Run: FAIL",
  })
end)

local device = setmetatable({}, { __tostring = function() return "Device(host1.eth0)" end })

local function synthetic_run()
  local run = R.new_run {
    recipe = "Synthetic",
    description = "Checks the formatter.\nSecond line.",
    match = {
      { host = "host1", target = "netns host1 (pid 42)",
        nics = { { name = "eth1", target = "veth3" }, { name = "eth0", target = "veth1" } } },
    },
  }
  -- 0: a normal-level device change, hidden at IMPORTANT
  run:add { result = R.PASS, type = "device_config", host = "host1", dev = "eth0",
    action = "method_call", description = "ip_add 192.0.2.1/24" }
  -- 1, 2: job start and passing finish: collapsed into the finish line
  run:add { result = R.PASS, type = "job", action = "start", host = "host1", job_id = 1,
    description = "Job started: ping -c 3 192.0.2.2" }
  run:add { result = R.PASS, type = "job", action = "finish", host = "host1", job_id = 1,
    description = "Job finished: ping -c 3 192.0.2.2",
    data = { exit_code = 0, stdout = "3 packets transmitted\n3 received" } }
  -- 3, 4: start and failing finish: both shown
  run:add { result = R.PASS, type = "job", action = "start", host = "host1", job_id = 2,
    description = "Job started: false" }
  run:add { result = R.FAIL, type = "job", action = "finish", host = "host1", job_id = 2,
    description = "Job finished: false", data = { exit_code = 1 } }
  -- 5, 6: start of job 3 followed by the finish of another host's job 3: no collapse
  run:add { result = R.PASS, type = "job", action = "start", host = "host1", job_id = 3,
    description = "Job started: sleep 1" }
  run:add { result = R.PASS, type = "job", action = "finish", host = "host2", job_id = 3,
    description = "Job finished: sleep 2" }
  -- 7: result with a data tree shown at IMPORTANT because data_level is IMPORTANT
  run:add { result = R.WARNING, description = "flow measurement", data_level = R.IMPORTANT,
    data = {
      rate = 940.5, unit = "Mbit/s", ok = true,
      samples = { 1, 2.5, { at = 3 } },
      streams = { { id = 1, bytes = 10 }, { id = 2, bytes = 20 } },
      device = device, empty = {}, note = "line one\nline two",
      [2] = "numeric key",
    } }
  -- 8: a DEBUG-level FAIL: shown anyway, its data (data_level DEBUG) is not
  run:add { result = R.FAIL, level = R.DEBUG, data_level = R.DEBUG,
    description = "debug check", data = { hidden = true } }
  -- 9: a DEBUG-level PASS: hidden below DEBUG
  run:add { result = R.PASS, level = R.DEBUG, description = "debug detail", data = "raw text" }
  run:set_exception("recipe.lua:12: host1: no such device 'eth9'",
    "stack traceback:\n\t[C]: in function 'error'\n\trecipe.lua:12: in function 'test'")
  return run
end

local FLOW_DATA = {
  "    device: Device(host1.eth0)",
  "    empty: {}",
  "    note:",
  "        line one",
  "        line two",
  "    ok: true",
  "    rate: 940.5",
  "    samples:",
  "        item 1: 1",
  "        item 2: 2.5",
  "        item 3:",
  "            at: 3",
  "    streams:",
  "        item 1:",
  "            bytes: 10",
  "            id: 1",
  "        item 2:",
  "            bytes: 20",
  "            id: 2",
  "    unit: Mbit/s",
}

local HEAD = {
  "RUN SUMMARY",
  "Description:",
  "Checks the formatter.",
  "Second line.",
  "Pool match description:",
  '  host "host1" uses "netns host1 (pid 42)"',
  '    interface "eth0" matched to "veth1"',
  '    interface "eth1" matched to "veth3"',
}

local TAIL = {
  "FAIL Exception:\trecipe.lua:12: host1: no such device 'eth9'",
  "    stack traceback:",
  "        [C]: in function 'error'",
  "        recipe.lua:12: in function 'test'",
  "Overall result of this Run: FAIL",
}

local function concat(...)
  local out = {}
  for _, part in ipairs { ... } do
    for _, l in ipairs(part) do out[#out + 1] = l end
  end
  return lines(out)
end

local function with_numeric_key(data_lines)
  local out = { "    2: numeric key" }
  for _, l in ipairs(data_lines) do out[#out + 1] = l end
  return out
end

T.test("level IMPORTANT: filters, collapses, data tree, FAILs and exception", function()
  T.eq(format.human(synthetic_run()), concat(HEAD, {
    "PASS 2_Host host1 job 1\tJob finished: ping -c 3 192.0.2.2",
    "PASS 3_Host host1 job 2\tJob started: false",
    "FAIL 4_Host host1 job 2\tJob finished: false",
    "PASS 5_Host host1 job 3\tJob started: sleep 1",
    "PASS 6_Host host2 job 3\tJob finished: sleep 2",
    "WARNING 7_TestResult:\tflow measurement",
  }, with_numeric_key(FLOW_DATA), {
    "FAIL 8_TestResult:\tdebug check",
  }, TAIL))
end)

T.test("level NORMAL: device records and job data appear", function()
  T.eq(format.human(synthetic_run(), { level = R.NORMAL }), concat(HEAD, {
    "PASS 0_Host host1 device eth0\tip_add 192.0.2.1/24",
    "PASS 2_Host host1 job 1\tJob finished: ping -c 3 192.0.2.2",
    "    exit_code: 0",
    "    stdout:",
    "        3 packets transmitted",
    "        3 received",
    "PASS 3_Host host1 job 2\tJob started: false",
    "FAIL 4_Host host1 job 2\tJob finished: false",
    "    exit_code: 1",
    "PASS 5_Host host1 job 3\tJob started: sleep 1",
    "PASS 6_Host host2 job 3\tJob finished: sleep 2",
    "WARNING 7_TestResult:\tflow measurement",
  }, with_numeric_key(FLOW_DATA), {
    "FAIL 8_TestResult:\tdebug check",
  }, TAIL))
end)

T.test("level DEBUG: everything, with data", function()
  local out = format.human(synthetic_run(), { level = R.DEBUG })
  T.ok(out:find("FAIL 8_TestResult:\tdebug check\n    hidden: true\n", 1, true), "DEBUG data shown")
  T.ok(out:find("PASS 9_TestResult:\tdebug detail\n    raw text\n", 1, true), "scalar data shown")
end)

T.test("collapse needs the finish right after the start in the shown list", function()
  local run = R.new_run {}
  run:add { result = R.PASS, type = "job", action = "start", host = "h", job_id = 1, description = "start" }
  run:add { result = R.PASS, level = R.DEBUG, description = "hidden in between" }
  run:add { result = R.PASS, type = "job", action = "finish", host = "h", job_id = 1, description = "finish" }
  run:add { result = R.PASS, type = "job", action = "start", host = "h", job_id = 2, description = "start 2" }
  run:add { result = R.PASS, description = "visible in between" }
  run:add { result = R.PASS, type = "job", action = "finish", host = "h", job_id = 2, description = "finish 2" }
  T.eq(format.human(run), lines {
    "RUN SUMMARY", "Description:", "Pool match description:",
    "PASS 2_Host h job 1\tfinish",
    "PASS 3_Host h job 2\tstart 2",
    "PASS 4_TestResult:\tvisible in between",
    "PASS 5_Host h job 2\tfinish 2",
    "Overall result of this Run: PASS",
  })
end)

T.test("an empty run passes", function()
  T.eq(format.human(R.new_run {}), lines {
    "RUN SUMMARY", "Description:", "Pool match description:", "Overall result of this Run: PASS",
  })
end)

T.test("descriptions: empty, trailing newline, blank lines", function()
  local run = R.new_run {}
  run:add { result = R.PASS }
  run:add { result = R.PASS, description = "one line\n" }
  run:add { result = R.PASS, description = "a\n\nb" }
  T.eq(format.human(run), lines {
    "RUN SUMMARY", "Description:", "Pool match description:",
    "PASS 0_TestResult:\t",
    "PASS 1_TestResult:\tone line",
    "PASS 2_TestResult:",
    "    a",
    "",
    "    b",
    "Overall result of this Run: PASS",
  })
end)

T.test("data: cycles, opaque values, top-level list, multi-line exception", function()
  local cyclic = { name = "loop" }
  cyclic.self = cyclic
  local run = R.new_run {}
  run:add { result = R.PASS, description = "cyclic", data_level = R.IMPORTANT, data = cyclic }
  run:add { result = R.PASS, description = "list", data_level = R.IMPORTANT,
    data = { "a", print, { "x", "y" } } }
  run:set_exception("first line\nsecond line")
  T.eq(format.human(run), lines {
    "RUN SUMMARY", "Description:", "Pool match description:",
    "PASS 0_TestResult:\tcyclic",
    "    name: loop",
    "    self: <cycle>",
    "PASS 1_TestResult:\tlist",
    "    item 1: a",
    "    item 2: <function>",
    "    item 3:",
    "        item 1: x",
    "        item 2: y",
    "FAIL Exception:",
    "    first line",
    "    second line",
    "Overall result of this Run: FAIL",
  })
end)

T.test("colour paints the result words only", function()
  local run = R.new_run {}
  run:add { result = R.PASS, description = "p" }
  run:add { result = R.WARNING, description = "w" }
  run:add { result = R.FAIL, description = "f" }
  T.eq(format.human(run, { colour = true }), lines {
    "RUN SUMMARY", "Description:", "Pool match description:",
    "\27[1;32mPASS\27[0m 0_TestResult:\tp",
    "\27[1;33mWARNING\27[0m 1_TestResult:\tw",
    "\27[1;31mFAIL\27[0m 2_TestResult:\tf",
    "Overall result of this Run: \27[1;31mFAIL\27[0m",
  })
  T.ok(not format.human(run, { colour = false }):find("\27", 1, true), "no escapes without colour")
end)

T.test("bad level", function()
  T.raises_with(function() format.human(R.new_run {}, { level = 0 }) end,
    "format.human: level must be 1, 2 or 3, got 0")
end)

T.run()
