-- Unit tests for lnst.inspect. Run from the repo root: luajit tests/lua/test_inspect.lua
package.path = "lua/?.lua;lua/?/init.lua;tests/lua/?.lua;" .. package.path
local T = require "testlib"
local inspect = require "lnst.inspect"

local function lines(t) return table.concat(t, "\n") end

T.test("scalars", function()
  T.eq(inspect(nil), "nil")
  T.eq(inspect(true), "true")
  T.eq(inspect(false), "false")
  T.eq(inspect(42), "42")
  T.eq(inspect(-7), "-7")
  T.eq(inspect(0.1), "0.1")
  T.eq(inspect(1 / 3), "0.3333333333333333")
  T.eq(inspect(1e300), "1e+300")
  T.eq(inspect(math.huge), "inf")
  T.eq(inspect(-math.huge), "-inf")
  T.eq(inspect(0 / 0), "nan")
end)

T.test("strings are quoted and escaped", function()
  T.eq(inspect("eth0"), '"eth0"')
  T.eq(inspect(""), '""')
  T.eq(inspect('say "hi"\\'), '"say \\"hi\\"\\\\"')
  T.eq(inspect("a\nb\tc\rd"), '"a\\nb\\tc\\rd"')
  T.eq(inspect("\0" .. "1\27\127"), '"\\0001\\027\\127"')
  T.eq(inspect("héllo"), '"héllo"', "UTF-8 kept")
end)

T.test("opaque values never show addresses", function()
  T.eq(inspect(print), "<function>")
  T.eq(inspect(coroutine.create(function() end)), "<thread>")
  T.eq(inspect(newproxy(false)), "<userdata>")
  T.eq(inspect({ f = print }), "{ f = <function> }")
end)

T.test("short arrays and records stay on one line", function()
  T.eq(inspect({}), "{}")
  T.eq(inspect({ 1, 2, 3 }), "{ 1, 2, 3 }")
  T.eq(inspect({ "a", true, 2.5 }), '{ "a", true, 2.5 }')
  T.eq(inspect({ name = "eth0", mtu = 1500 }), '{ mtu = 1500, name = "eth0" }')
  T.eq(inspect({ 1, { 2, 3 }, { x = {} } }), "{ 1, { 2, 3 }, { x = {} } }")
end)

T.test("keys: array part first, then numbers, strings, booleans, sorted", function()
  local t = { "first", "second", [10] = "ten", [2.5] = "x", [-1] = "neg", zeta = 1, alpha = 2,
    ["with space"] = 3, ["end"] = 4, [true] = 5, [false] = 6 }
  T.eq(inspect(t), lines {
    "{",
    '  "first",',
    '  "second",',
    '  [-1] = "neg",',
    '  [2.5] = "x",',
    '  [10] = "ten",',
    "  alpha = 2,",
    '  ["end"] = 4,',
    '  ["with space"] = 3,',
    "  zeta = 1,",
    "  [false] = 6,",
    "  [true] = 5",
    "}",
  })
end)

T.test("a hole ends the array part", function()
  T.eq(inspect({ 1, nil, 3 }), "{ 1, [3] = 3 }")
end)

T.test("long tables are split and nested ones indented", function()
  local t = {
    name = "host1",
    devices = { eth0 = { addrs = { "192.0.2.1/24", "2001:db8::1/64" }, mtu = 1500 },
      lo = { addrs = { "127.0.0.1/8" } } },
    long = string.rep("x", 80),
  }
  T.eq(inspect(t), lines {
    "{",
    "  devices = {",
    '    eth0 = { addrs = { "192.0.2.1/24", "2001:db8::1/64" }, mtu = 1500 },',
    '    lo = { addrs = { "127.0.0.1/8" } }',
    "  },",
    '  long = "' .. string.rep("x", 80) .. '",',
    '  name = "host1"',
    "}",
  })
end)

T.test("indent and width options", function()
  local t = { a = { 1, 2 }, b = "x" }
  T.eq(inspect(t, { width = 10, indent = "\t" }), lines {
    "{",
    "\ta = { 1, 2 },",
    '\tb = "x"',
    "}",
  })
  T.eq(inspect(t, { width = 5 }), lines {
    "{",
    "  a = {",
    "    1,",
    "    2",
    "  },",
    '  b = "x"',
    "}",
  })
end)

T.test("depth limits nesting", function()
  local t = { a = { b = { c = { d = { e = 1 } } } } }
  T.eq(inspect(t), "{ a = { b = { c = { d = {...} } } } }")
  T.eq(inspect(t, { depth = 1 }), "{ a = {...} }")
  T.eq(inspect(t, { depth = 0 }), "{...}")
  T.eq(inspect(t, { depth = 10 }), "{ a = { b = { c = { d = { e = 1 } } } } }")
end)

T.test("cycles show as <cycle>, shared tables are repeated", function()
  local t = { name = "a" }
  t.self = t
  t.list = { t, 1 }
  T.eq(inspect(t), '{ list = { <cycle>, 1 }, name = "a", self = <cycle> }')
  local shared = { 1 }
  T.eq(inspect({ x = shared, y = shared }), "{ x = { 1 }, y = { 1 } }")
end)

T.test("__tostring is used for tables and userdata", function()
  local Host = { __tostring = function(h) return "Host(" .. h.id .. ")" end }
  local h1 = setmetatable({ id = "host1", secret = {} }, Host)
  T.eq(inspect(h1), "Host(host1)")
  T.eq(inspect({ h1, hosts = { h1 } }), "{ Host(host1), hosts = { Host(host1) } }")
  local ud = newproxy(true)
  getmetatable(ud).__tostring = function() return "Device(eth0)" end
  T.eq(inspect(ud), "Device(eth0)")
  local bad = setmetatable({}, { __tostring = function() error("nope") end })
  T.eq(inspect(bad), "<table (__tostring failed)>")
  local plain_mt = setmetatable({ 1 }, { __index = function() return "x" end })
  T.eq(inspect(plain_mt), "{ 1 }", "metatable without __tostring: contents, raw")
end)

T.test("table keys", function()
  T.eq(inspect({ [{ 1 }] = "k" }), '{ [{ 1 }] = "k" }')
end)

T.test("values joins every value with tabs, nils included", function()
  T.eq(inspect.values(1, nil, "a", { 2 }), '1\tnil\t"a"\t{ 2 }')
  T.eq(inspect.values(), "")
  T.eq(inspect.values(nil), "nil")
  T.eq(inspect.inspect("x"), '"x"', "also a plain function")
end)

T.run()
