-- lnst.format: turns a run (lnst.results) into text for people and tools.
--
-- format.human renders the run summary printed at the end of `lnst run`, in
-- the layout of upstream LNST's human-readable summary: header, description,
-- pool match, one line per shown result (with its data tree), the exception
-- that ended the run, and the overall result. format.json is upstream's
-- JsonRunSummaryFormatter (one object per result, its field names, so
-- dashboards that read LNST's JSON read ours); format.junit is JUnit XML for
-- CI systems (one test case per result). docs/results.md describes all three.
-- Output is deterministic: table keys are sorted and nothing depends on
-- addresses or hash order.
--
-- Pure functions of the run; the caller decides where the text goes and
-- whether colours are wanted (a tty and no NO_COLOR).

local R = require "lnst.results"
local json = require "lnst.json"

local M = {}

local INDENT = "    "

local COLOURS = { PASS = "\27[1;32m", FAIL = "\27[1;31m", WARNING = "\27[1;33m", SKIPPED = "\27[1;36m" }
local RESET = "\27[0m"

-- Upstream shows the source of its Result family as "TestResult:", with the
-- colon; job and device records show their source bare.
local COLON_TYPES = { result = true, measurement = true, description = true, exception = true }

local function fmt_number(n)
  if n ~= n then return "nan" end
  if n == math.huge then return "inf" end
  if n == -math.huge then return "-inf" end
  if n == math.floor(n) and math.abs(n) < 2 ^ 53 then return string.format("%d", n) end
  return string.format("%.14g", n)
end

local function split_lines(s)
  local lines = {}
  for l in (s .. "\n"):gmatch("(.-)\n") do lines[#lines + 1] = l end
  return lines
end

local function indented(depth, text)
  if text == "" then return "" end
  return INDENT:rep(depth) .. text
end

-- ------------------------------------------------------------ data tree

-- Text of a non-table value, or of a table shown through __tostring.
local function scalar_text(v)
  local t = type(v)
  if t == "number" then return fmt_number(v) end
  if t == "string" then return v end
  if t == "boolean" or t == "nil" then return tostring(v) end
  local mt = getmetatable(v)
  if (t == "table" or t == "userdata") and type(mt) == "table" and mt.__tostring then
    return tostring(v)
  end
  if t == "table" then return nil end
  return "<" .. t .. ">"
end

local TYPE_RANK = { number = 1, string = 2, boolean = 3 }

local function key_less(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then return (TYPE_RANK[ta] or 4) < (TYPE_RANK[tb] or 4) end
  if ta == "number" or ta == "string" then return a < b end
  if ta == "boolean" then return not a and b end
  return tostring(a) < tostring(b)
end

-- Number of items when t is a non-empty sequence 1..n, else nil.
local function array_length(t)
  local n = 0
  for _ in next, t do n = n + 1 end
  if n == 0 then return nil end
  for i = 1, n do
    if t[i] == nil then return nil end
  end
  return n
end

local add_value

-- Appends `label` and v to out: on one line when v is a one-line scalar,
-- otherwise the label alone and v's lines one level deeper.
local function add_entry(out, depth, label, v, ancestors)
  local text = scalar_text(v)
  if text == nil and ancestors[v] then text = "<cycle>" end
  if text == nil and next(v) == nil then text = "{}" end
  if text ~= nil and not text:find("\n") then
    out[#out + 1] = INDENT:rep(depth) .. label .. ": " .. text
  else
    out[#out + 1] = INDENT:rep(depth) .. label .. ":"
    add_value(out, depth + 1, v, ancestors)
  end
end

function add_value(out, depth, v, ancestors)
  local text = scalar_text(v)
  if text ~= nil then
    for _, l in ipairs(split_lines(text)) do out[#out + 1] = indented(depth, l) end
    return
  end
  ancestors[v] = true
  local n = array_length(v)
  if n then
    for i = 1, n do add_entry(out, depth, "item " .. i, v[i], ancestors) end
  else
    local keys = {}
    for k in next, v do keys[#keys + 1] = k end
    table.sort(keys, key_less)
    for _, k in ipairs(keys) do
      add_entry(out, depth, scalar_text(k) or "<table>", v[k], ancestors)
    end
  end
  ancestors[v] = nil
end

-- ------------------------------------------------------------ summary

local function painter(colour)
  if not colour then return function(word) return word end end
  return function(word)
    return COLOURS[word] and (COLOURS[word] .. word .. RESET) or word
  end
end

local function add_match(out, match)
  out[#out + 1] = "Pool match description:"
  if match == nil then return end
  local hosts = {}
  for i, h in ipairs(match) do hosts[i] = h end
  table.sort(hosts, function(a, b) return tostring(a.host) < tostring(b.host) end)
  for _, h in ipairs(hosts) do
    out[#out + 1] = string.format('  host "%s" uses "%s"', tostring(h.host), tostring(h.target))
    local nics = {}
    for i, nic in ipairs(h.nics or {}) do nics[i] = nic end
    table.sort(nics, function(a, b) return tostring(a.name) < tostring(b.name) end)
    for _, nic in ipairs(nics) do
      out[#out + 1] = string.format('    interface "%s" matched to "%s"',
        tostring(nic.name), tostring(nic.target))
    end
  end
end

-- "<head>\t<text>" for one line of text, else head and the text's lines
-- indented below it.
local function add_headed(out, head, text)
  text = text:gsub("\n$", "")
  if not text:find("\n") then
    out[#out + 1] = head .. "\t" .. text
    return
  end
  out[#out + 1] = head
  for _, l in ipairs(split_lines(text)) do out[#out + 1] = indented(1, l) end
end

-- A job start record followed by the passing finish of the same job adds
-- nothing the finish line does not say.
local function collapses(rec, next_rec)
  return next_rec ~= nil and rec.type == "job" and rec.action == "start"
    and rec.result ~= R.FAIL
    and next_rec.type == "job" and next_rec.action == "finish"
    and next_rec.job_id == rec.job_id and next_rec.host == rec.host
    and next_rec.result == R.PASS
end

-- opts.level: show records up to this level (default results.IMPORTANT);
-- FAIL records are shown whatever their level. opts.colour: ANSI colours.
function M.human(run, opts)
  opts = opts or {}
  local level = opts.level or R.IMPORTANT
  if level ~= R.IMPORTANT and level ~= R.NORMAL and level ~= R.DEBUG then
    error("format.human: level must be 1, 2 or 3, got " .. tostring(level), 2)
  end
  local paint = painter(opts.colour)
  local out = { "RUN SUMMARY", "Description:" }
  if run.description and run.description ~= "" then
    for _, l in ipairs(split_lines(tostring(run.description))) do out[#out + 1] = l end
  end
  add_match(out, run.match)

  local shown = {}
  for _, rec in ipairs(run.results) do
    if rec.result == R.FAIL or rec.level <= level then shown[#shown + 1] = rec end
  end
  for i, rec in ipairs(shown) do
    if not collapses(rec, shown[i + 1]) then
      local source = tostring(rec.source) .. (COLON_TYPES[rec.type] and ":" or "")
      -- the record that skipped the run shows SKIPPED, not its WARNING
      local word = rec.skip_run and R.SKIPPED or rec.result
      add_headed(out, paint(word) .. " " .. rec.index .. "_" .. source, rec.description or "")
      if rec.data ~= nil and rec.data_level <= level then
        add_value(out, 1, rec.data, {})
      end
    end
  end

  local exc = run.exception
  if exc then
    add_headed(out, paint(R.FAIL) .. " Exception:", tostring(exc.message))
    if exc.traceback and exc.traceback ~= "" then
      for _, l in ipairs(split_lines(tostring(exc.traceback))) do
        local tabs, rest = l:match("^(\t*)(.*)$")
        out[#out + 1] = indented(1, INDENT:rep(#tabs) .. rest)
      end
    end
  end

  out[#out + 1] = "Overall result of this Run: " .. paint(run:overall())
  return table.concat(out, "\n")
end

-- One record as the summary shows it, with its data (for a paused run).
function M.human_result(rec, opts)
  opts = opts or {}
  local paint = painter(opts.colour)
  local out = {}
  local source = tostring(rec.source) .. (COLON_TYPES[rec.type] and ":" or "")
  add_headed(out, paint(rec.result) .. " " .. tostring(rec.index) .. "_" .. source, rec.description or "")
  if rec.data ~= nil then add_value(out, 1, rec.data, {}) end
  return table.concat(out, "\n")
end

-- ------------------------------------------------------------ JSON

-- Upstream's device actions: creation, method calls, attribute sets.
local function device_action(action)
  local a = tostring(action or "")
  if a:find("create", 1, true) then return "create" end
  if a == "dev.set" or a:find("attr", 1, true) then return "attr_set" end
  return "method_call"
end

-- The average of a summarised perf result, or nil.
local function avg(x)
  return type(x) == "table" and x.average or nil
end

-- Measurement data reduced as upstream's formatter reduces it.
local function measurement_data(rec)
  local d = rec.data
  if type(d) ~= "table" then return d end
  if rec.measurement_type == "ping" then
    local out = {}
    for k, v in pairs(d) do out[k] = v end
    -- upstream carries the packet counts as strings (the regex groups)
    for _, k in ipairs { "trans_pkts", "recv_pkts" } do
      if type(out[k]) == "number" then out[k] = fmt_number(out[k]) end
    end
    return out
  elseif rec.measurement_type == "cpu" then
    return { utilization = avg(d.utilization) }
  elseif rec.measurement_type == "flow" then
    return { generator_results = avg(d.generator_results), generator_cpu_stats = avg(d.generator_cpu_stats),
      receiver_results = avg(d.receiver_results), receiver_cpu_stats = avg(d.receiver_cpu_stats) }
  end
  return d
end

-- One record as upstream's JsonRunSummaryFormatter writes it, plus
-- "description" (and "host" for jobs) which upstream's readers ignore.
function M.json_record(rec)
  local o = { result = rec.result, description = rec.description }
  if rec.type == "job" then
    o.type, o.action, o.host = "job", rec.action == "start" and "start" or "end", rec.host
    if rec.module then
      o.job = { type = "module", repr = rec.command }
    else
      o.job = { type = "shell", command = rec.command }
    end
  elseif rec.type == "device_config" then
    o.type, o.host, o.netns, o.dev_id = "device_config", rec.host, rec.netns, rec.dev
    o.action = device_action(rec.action)
    o.method = rec.action
  elseif rec.type == "measurement" then
    o.type, o.measurement_type, o.data = "measurement", rec.measurement_type, measurement_data(rec)
  else
    o.type = "unknown"
  end
  return o
end

-- opts.pretty: indented output. The array ends with the exception that
-- stopped the run, if one did.
function M.json(run, opts)
  opts = opts or {}
  local out = json.array {}
  for _, rec in ipairs(run.results) do out[#out + 1] = M.json_record(rec) end
  if run.exception then
    out[#out + 1] = { result = "FAIL", type = "exception", message = tostring(run.exception.message),
      traceback = run.exception.traceback }
  end
  return json.encode(out, { indent = opts.pretty and " " or nil })
end

-- ------------------------------------------------------------ JUnit

-- XML 1.0 text: escaped, and without the control characters it cannot hold.
local function xml(s)
  s = tostring(s):gsub("[%z\1-\8\11\12\14-\31]", "?")
  return (s:gsub("[&<>\"]", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;" }))
end

local function first_line(s)
  return (tostring(s or ""):match("^[^\n]*"))
end

local function iso8601(t)
  return os.date("!%Y-%m-%dT%H:%M:%S", math.floor(t or 0))
end

-- The text of a record's data for a failure body, as the human summary
-- shows it.
local function data_text(data)
  if data == nil then return "" end
  local out = {}
  add_value(out, 0, data, {})
  return table.concat(out, "\n")
end

-- JUnit XML: one testsuite for the run, one testcase per result record
-- (FAIL: <failure>; a skipped module: <skipped>; WARNING: passing, with
-- the warning in <system-out>) and one for the exception that stopped the
-- run (<error>). Levels do not filter here: CI wants every result. Valid
-- against the JUnit schema of Jenkins (tests/junit.xsd; docs/results.md).
function M.junit(run)
  local suite = tostring(run.recipe or "recipe")
  local cases, failures, errors, skipped = {}, 0, 0, 0
  local t0 = run.timestamp or 0
  local prev = t0
  for _, rec in ipairs(run.results) do
    local name = string.format("%d_%s: %s", rec.index, tostring(rec.source), first_line(rec.description))
    local time = math.max((rec.timestamp or prev) - prev, 0)
    prev = rec.timestamp or prev
    local class = suite .. "." .. (rec.type == "measurement" and ("measurement." .. tostring(rec.measurement_type))
      or rec.type)
    local body = {}
    local detail = rec.description or ""
    local dt = data_text(rec.data)
    if dt ~= "" then detail = detail .. "\n" .. dt end
    if rec.result == R.FAIL then
      failures = failures + 1
      body[#body + 1] = string.format('      <failure type="FAIL" message="%s">%s</failure>',
        xml(first_line(rec.description)), xml(detail))
    elseif rec.skipped then
      skipped = skipped + 1
      body[#body + 1] = string.format('      <skipped message="%s"/>', xml(first_line(rec.description)))
    elseif rec.result == R.WARNING then
      body[#body + 1] = "      <system-out>WARNING: " .. xml(detail) .. "</system-out>"
    end
    local open = string.format('    <testcase name="%s" classname="%s" time="%.3f"', xml(name), xml(class), time)
    if #body == 0 then
      cases[#cases + 1] = open .. "/>"
    else
      cases[#cases + 1] = open .. ">\n" .. table.concat(body, "\n") .. "\n    </testcase>"
    end
  end
  if run.exception then
    errors = errors + 1
    cases[#cases + 1] = string.format('    <testcase name="exception" classname="%s.exception" time="0.000">\n'
      .. '      <error type="exception" message="%s">%s</error>\n    </testcase>', xml(suite),
      xml(first_line(run.exception.message)),
      xml(tostring(run.exception.message) .. "\n" .. tostring(run.exception.traceback or "")))
  end
  local total = prev - t0
  local props = {}
  local keys = {}
  for k in pairs(run.params or {}) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local v = run.params[k]
    props[#props + 1] = string.format('      <property name="param.%s" value="%s"/>', xml(k),
      xml(type(v) == "table" and json.encode(v) or scalar_text(v) or tostring(v)))
  end
  props[#props + 1] = string.format('      <property name="overall_result" value="%s"/>', run:overall())
  local n = #cases
  return table.concat({
    '<?xml version="1.0" encoding="UTF-8"?>',
    string.format('<testsuites name="lnst" tests="%d" failures="%d" errors="%d" time="%.3f">', n, failures, errors,
      total),
    string.format('  <testsuite name="%s" tests="%d" failures="%d" errors="%d" skipped="%d" time="%.3f" '
      .. 'timestamp="%s" hostname="localhost">', xml(suite), n, failures, errors, skipped, total, iso8601(t0)),
    "    <properties>", table.concat(props, "\n"), "    </properties>",
    table.concat(cases, "\n"),
    "  </testsuite>",
    "</testsuites>",
    "",
  }, "\n")
end

-- ------------------------------------------------------------ selection

-- The formatters by name (lnst run --format, FORMATTERS, lnst report).
M.FORMATTERS = {
  human = function(run, opts) return M.human(run, opts) .. "\n" end,
  json = function(run, opts) return M.json(run, opts) .. "\n" end,
  junit = function(run) return M.junit(run) end,
  -- a baseline file of the run's measurements (lnst.perf.evaluators.baseline)
  baseline = function(run)
    return json.encode(require("lnst.perf.evaluators").baseline_from_run(run), { indent = " " }) .. "\n"
  end,
}

-- format.render("json", run, opts) -> text; an unknown name raises an
-- error listing the known ones.
function M.render(name, run, opts)
  local f = M.FORMATTERS[name]
  if not f then
    local known = {}
    for k in pairs(M.FORMATTERS) do known[#known + 1] = k end
    table.sort(known)
    error(string.format("unknown format '%s' (known: %s)", tostring(name), table.concat(known, ", ")), 2)
  end
  return f(run, opts or {})
end

return M
