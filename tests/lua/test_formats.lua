-- Unit tests for the machine-readable formats (lnst.format json/junit),
-- saved runs (lnst.runfile) and output selection (lnst.report).
-- Run from the repo root: luajit tests/lua/test_formats.lua
package.path = "lua/?.lua;lua/?/init.lua;tests/lua/?.lua;" .. package.path
local T = require "testlib"
local R = require "lnst.results"
local format = require "lnst.format"
local json = require "lnst.json"
local runfile = require "lnst.runfile"
local report = require "lnst.report"

local t = 100
R.clock = function() t = t + 0.5; return t end

-- The synthetic run of shared/reference/lnst-recipes.md §1.5, plus a job
-- of a test module, a device change, a skip and the exception.
local function reference_run(with_exception)
  t = 100
  local run = R.new_run { recipe = "SimpleNetworkRecipe", params = { perf_duration = 60 },
    match = { { host = "host1", target = "agent-a", nics = { { name = "eth0", target = "eth1" } } } } }
  run:add { result = R.PASS, type = "description",
    description = "Summary of used Recipe parameters:\n{'perf_duration': 60}" }
  run:add { result = R.PASS, type = "job", action = "start", host = "host1", job_id = 3,
    command = "ping 192.168.101.2 -c 100", description = "Job started: ping 192.168.101.2 -c 100" }
  run:add { result = R.PASS, type = "measurement", measurement_type = "ping",
    description = "Ping result --- From: <host1 (192.168.101.1/24)> To: <host2 (192.168.101.2/24)>",
    data = { trans_pkts = 100, recv_pkts = 100, rate = 100, rtt_min = 0.03, rtt_max = 0.1, rtt_avg = 0.05,
      rtt_mdev = 0.01 } }
  run:add { result = R.PASS, type = "measurement", measurement_type = "cpu",
    description = "host host1 cpu 'cpu' utilization: 45.40 +-0.00 time units per second",
    data = { host = "host1", cpu = "cpu", utilization = { average = 45.4, std_deviation = 0 } } }
  run:add { result = R.PASS, type = "measurement", measurement_type = "flow", description = "Flow: ...",
    data = { generator_results = { average = 9.4e9 }, generator_cpu_stats = { average = 50 },
      receiver_results = { average = 9.3e9 }, receiver_cpu_stats = { average = 40 } } }
  run:add { result = R.FAIL,
    description = "Nonzero evaluation of flow:\nFAIL: receiver_results reported zero throughput" }
  run:add { result = R.PASS, type = "job", action = "finish", host = "host2", job_id = 1, module = "iperf_server",
    command = "IperfServer(bind=198.51.100.2)", description = "Job finished: IperfServer(bind=198.51.100.2) (passed)" }
  run:add { result = R.PASS, type = "device_config", action = "dev.ip_add", host = "host1", dev = "eth0",
    description = "host1.eth0: ip_add 198.51.100.1/24" }
  run:add { result = R.WARNING, type = "job", action = "finish", host = "host1", job_id = 0, module = "iperf_client",
    skipped = true, command = "IperfClient(sctp=true)", description = "SKIP IperfClient(sctp=true): no <SCTP> & co" }
  if with_exception then run:set_exception("recipe.lua:9: boom", "\trecipe.lua:9: in function 'test'") end
  return run
end

T.test("json: upstream's field names for every kind of result", function()
  local out = json.decode(format.json(reference_run(true)))
  T.eq(#out, 10)
  T.eq(out[1], { result = "PASS", type = "unknown",
    description = "Summary of used Recipe parameters:\n{'perf_duration': 60}" })
  T.eq(out[2].job, { type = "shell", command = "ping 192.168.101.2 -c 100" })
  T.eq({ out[2].type, out[2].action, out[2].host }, { "job", "start", "host1" })
  T.eq(out[3].data, { trans_pkts = "100", recv_pkts = "100", rate = 100, rtt_min = 0.03, rtt_max = 0.1,
    rtt_avg = 0.05, rtt_mdev = 0.01 })
  T.eq({ out[3].type, out[3].measurement_type }, { "measurement", "ping" })
  T.eq(out[4].data, { utilization = 45.4 })
  T.eq(out[5].data, { generator_results = 9.4e9, generator_cpu_stats = 50, receiver_results = 9.3e9,
    receiver_cpu_stats = 40 })
  T.eq({ out[6].result, out[6].type }, { "FAIL", "unknown" })
  T.eq({ out[7].action, out[7].job }, { "end", { type = "module", repr = "IperfServer(bind=198.51.100.2)" } })
  T.eq({ out[8].type, out[8].host, out[8].dev_id, out[8].action }, { "device_config", "host1", "eth0", "method_call" })
  T.eq(out[10], { result = "FAIL", type = "exception", message = "recipe.lua:9: boom",
    traceback = "\trecipe.lua:9: in function 'test'" })
end)

T.test("json: pretty output is the same data", function()
  local run = reference_run(false)
  T.eq(json.decode(format.json(run, { pretty = true })), json.decode(format.json(run)))
  T.ok(format.json(run, { pretty = true }):find("\n", 1, true), "indented")
end)

T.test("junit: one testcase per result, failures, skips, the exception", function()
  local x = format.junit(reference_run(true))
  T.ok(x:find('<testsuites name="lnst" tests="10" failures="1" errors="1" time="4.500">', 1, true), x)
  T.ok(x:find('<testsuite name="SimpleNetworkRecipe" tests="10" failures="1" errors="1" skipped="1" '
    .. 'time="4.500" timestamp="1970-01-01T00:01:40" hostname="localhost">', 1, true), x)
  T.ok(x:find('<property name="param.perf_duration" value="60"/>', 1, true), "param property")
  T.ok(x:find('<testcase name="5_TestResult: Nonzero evaluation of flow:" classname="SimpleNetworkRecipe.result"'
    .. ' time="0.500">\n      <failure type="FAIL" message="Nonzero evaluation of flow:">Nonzero evaluation of '
    .. 'flow:\nFAIL: receiver_results reported zero throughput</failure>', 1, true), x)
  T.ok(x:find('<skipped message="SKIP IperfClient(sctp=true): no &lt;SCTP&gt; &amp; co"/>', 1, true), "skip")
  T.ok(x:find('<testcase name="exception" classname="SimpleNetworkRecipe.exception" time="0.000">\n'
    .. '      <error type="exception" message="recipe.lua:9: boom">recipe.lua:9: boom\n'
    .. "\trecipe.lua:9: in function 'test'</error>", 1, true), x)
  local _, cases = x:gsub("<testcase ", "")
  T.eq(cases, 10)
end)

T.test("junit: text XML cannot hold is replaced", function()
  local run = R.new_run { recipe = "R" }
  run:add { result = R.FAIL, description = "bad \1 byte \"quoted\"" }
  local x = format.junit(run)
  T.ok(x:find('message="bad ? byte &quot;quoted&quot;"', 1, true), x)
end)

T.test("runfile: a saved run renders the same in every format", function()
  local run = reference_run(true)
  local path = os.tmpname()
  T.eq(runfile.save(run, path), true)
  local back = assert(runfile.load(path))
  os.remove(path)
  for _, level in ipairs { 1, 2, 3 } do
    T.eq(format.human(back, { level = level }), format.human(run, { level = level }), "human level " .. level)
  end
  T.eq(format.json(back), format.json(run))
  T.eq(format.junit(back), format.junit(run))
  T.eq(back:overall(), "FAIL")
end)

T.test("runfile: wrong files say what is wrong", function()
  T.eq({ runfile.decode("not json", "x.json") }, { nil, "x.json: not JSON (unexpected character 'n' at byte 1)" })
  T.eq({ runfile.decode('{"format":"other"}', "x.json") },
    { nil, 'x.json: not an lnst run file (format is "other", expected "lnst-run")' })
  T.eq({ runfile.decode('{"format":"lnst-run","version":9,"results":[]}', "x.json") },
    { nil, "x.json: run file version 9, this lnst reads version 1" })
  T.eq({ runfile.decode('{"format":"lnst-run","version":1,"results":[{"x":1}]}', "x.json") },
    { nil, "x.json: result 1 is not a result record" })
  local _, why = runfile.load("/nonexistent/run.json")
  T.ok(why:find("cannot read the run file: /nonexistent/run.json", 1, true), why)
end)

T.test("report: format selections, FORMATTERS and upstream class names", function()
  T.eq(report.parse("json"), { name = "json" })
  T.eq(report.parse("junit:out/report.xml"), { name = "junit", file = "out/report.xml" })
  T.eq(report.parse("JsonRunSummaryFormatter"), { name = "json" })
  T.eq({ report.parse("yaml") }, { nil, "unknown format 'yaml' (known: baseline, human, json, junit)" })
  T.eq(report.selections({ "human" }, "json"), { { name = "human" } })
  T.eq(report.selections({}, "HumanReadableRunSummaryFormatter,json:x.json"),
    { { name = "human" }, { name = "json", file = "x.json" } })
  T.eq(report.selections(nil, nil), {})
end)

T.test("report: emit writes files and the output", function()
  local out = { text = "" }
  function out.write(_, s) out.text = out.text .. s end
  function out.flush() end
  local path = os.tmpname()
  local run = reference_run(false)
  local problems = report.emit(run, { formats = { { name = "json", file = path }, { name = "human" } }, output = out })
  T.eq(problems, {})
  local f = assert(io.open(path))
  T.eq(f:read("*a"), format.json(run) .. "\n")
  f:close()
  os.remove(path)
  T.eq(out.text, format.human(run) .. "\n")
  local quiet = { text = "" }
  function quiet.write(_, s) quiet.text = quiet.text .. s end
  report.emit(run, { summary = false, output = quiet })
  T.eq(quiet.text, "")
end)

T.run()
