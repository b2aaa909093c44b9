-- testlib: the tiny runner shared by the pure-Lua unit tests.
--
--   local T = require "testlib"
--   T.test("int rejects 5.7", function() T.eq(p.int{}:check(5.7), nil) end)
--   T.run()   -- prints one line per failure, then "N passed, N failed";
--             -- exits 1 when anything failed
--
-- Self-contained on purpose: it must not depend on the lnst modules it tests.

local M = {}

local tests = {}

-- The content of a recorded output in tests/lua/data/.
function M.data(name)
  local f = assert(io.open("tests/lua/data/" .. name, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

function M.test(name, fn)
  tests[#tests + 1] = { name = name, fn = fn }
end

-- A compact, deterministic rendering for failure messages.
local function show(v, seen)
  local t = type(v)
  if t == "string" then return (string.format("%q", v):gsub("\\\n", "\\n")) end
  if t ~= "table" then return tostring(v) end
  seen = seen or {}
  if seen[v] then return "<cycle>" end
  seen[v] = true
  local keys = {}
  for k in next, v do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    if type(a) == type(b) and (type(a) == "number" or type(a) == "string") then return a < b end
    return type(a) < type(b)
  end)
  local parts = {}
  for _, k in ipairs(keys) do
    parts[#parts + 1] = "[" .. show(k, seen) .. "]=" .. show(v[k], seen)
  end
  seen[v] = nil
  return "{" .. table.concat(parts, ", ") .. "}"
end
M.show = show

local function deep_equal(a, b)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  for k, v in next, a do
    if not deep_equal(v, b[k]) then return false end
  end
  for k in next, b do
    if a[k] == nil then return false end
  end
  return true
end

-- level: 1 = the function calling fail, 2 = its caller (the test), ...
local function fail(msg, level)
  local info = debug.getinfo((level or 1) + 1, "Sl") or {}
  local at = (info.short_src or "?") .. ":" .. (info.currentline or "?")
  error({ testlib_failure = at .. ": " .. msg }, 0)
end

-- For multi-line strings, point at the first line that differs.
local function string_diff(actual, expected)
  local al, el = {}, {}
  for l in (actual .. "\n"):gmatch("(.-)\n") do al[#al + 1] = l end
  for l in (expected .. "\n"):gmatch("(.-)\n") do el[#el + 1] = l end
  for i = 1, math.max(#al, #el) do
    if al[i] ~= el[i] then
      return string.format("multi-line strings (%d lines expected, %d actual), first difference"
        .. " at line %d:\n  expected: %s\n    actual: %s", #el, #al,
        i, el[i] and show(el[i]) or "<no line>", al[i] and show(al[i]) or "<no line>")
    end
  end
  return ""
end

function M.eq(actual, expected, what)
  if deep_equal(actual, expected) then return end
  local msg = (what and (what .. ": ") or "") .. "values differ\n"
  if type(actual) == "string" and type(expected) == "string"
    and (actual:find("\n") or expected:find("\n")) then
    msg = msg .. string_diff(actual, expected) -- whole texts would drown the difference
  else
    msg = msg .. "  expected: " .. show(expected) .. "\n    actual: " .. show(actual)
  end
  fail(msg, 2)
end

function M.ok(cond, what)
  if not cond then fail((what or "condition") .. " is not true", 2) end
end

-- checker:check(value) must return nil plus exactly this reason.
function M.rejects(checker, value, expected_reason, what)
  local v, reason = checker:check(value)
  if v ~= nil or reason ~= expected_reason then
    fail((what and (what .. ": ") or "") .. "expected rejection of " .. show(value)
      .. "\n  expected: nil, " .. show(expected_reason)
      .. "\n    actual: " .. show(v) .. ", " .. show(reason), 2)
  end
end

local function error_of(fn, level)
  local ok, err = pcall(fn)
  if ok then fail("expected an error, none was raised", level + 1) end
  if type(err) == "table" and err.testlib_failure then error(err, 0) end
  return err
end

-- fn must raise exactly this message (no position prefix). Returns it.
function M.raises(fn, expected)
  local err = error_of(fn, 2)
  if err ~= expected then
    fail("wrong error\n  expected: " .. show(expected) .. "\n    actual: " .. show(err), 2)
  end
  return err
end

-- fn must raise "<file>:<line>: " .. expected, with <file> ending in
-- where_file: the error points at the caller's line. Returns the message.
function M.raises_at(fn, expected, where_file)
  local err = error_of(fn, 2)
  local file, rest = tostring(err):match("^(.-):%d+: (.*)$")
  if rest ~= expected or not file or file:sub(-#where_file) ~= where_file then
    fail("wrong error\n  expected: " .. show(where_file .. ":<line>: " .. expected)
      .. "\n    actual: " .. show(err), 2)
  end
  return err
end

-- fn must raise an error whose text contains plain substring `part`.
function M.raises_with(fn, part)
  local err = error_of(fn, 2)
  if not tostring(err):find(part, 1, true) then
    fail("wrong error\n  expected it to contain: " .. show(part) .. "\n    actual: " .. show(err), 2)
  end
  return err
end

function M.run()
  local passed, failed = 0, 0
  for _, t in ipairs(tests) do
    local ok, err = xpcall(t.fn, function(e)
      if type(e) == "table" and e.testlib_failure then return e.testlib_failure end
      local tb = debug.traceback("error: " .. tostring(e), 2)
      return (tb:gsub("\n\t%[C%]: in function 'xpcall'.*$", "")) -- drop the runner's frames
    end)
    if ok then
      passed = passed + 1
    else
      failed = failed + 1
      print("FAIL " .. t.name .. "\n  " .. tostring(err):gsub("\n", "\n  "))
    end
  end
  print(string.format("%d passed, %d failed", passed, failed))
  os.exit(failed == 0 and 0 or 1)
end

return M
