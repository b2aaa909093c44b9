-- Unit tests for lnst.param. Run from the repo root: luajit tests/lua/test_param.lua
package.path = "lua/?.lua;lua/?/init.lua;tests/lua/?.lua;" .. package.path
local T = require "testlib"
local p = require "lnst.param"

local HERE = "test_param.lua"

-- ------------------------------------------------------------ int / float

T.test("int accepts integers and integral numeric strings", function()
  local s = p.int {}
  T.eq(s:check(5), 5)
  T.eq(s:check(-3), -3)
  T.eq(s:check(5.0), 5)
  T.eq(s:check("5"), 5)
  T.eq(s:check(" +12 "), 12)
  T.eq(s:check("-7"), -7)
end)

T.test("int rejects fractions, non-numeric strings and other types", function()
  local s = p.int {}
  T.rejects(s, 5.7, "expected an integer, got 5.7")
  T.rejects(s, "5.7", 'expected an integer, got "5.7"')
  T.rejects(s, "0x10", 'expected an integer, got "0x10"')
  T.rejects(s, "1e3", 'expected an integer, got "1e3"')
  T.rejects(s, "five", 'expected an integer, got "five"')
  T.rejects(s, "", 'expected an integer, got ""')
  T.rejects(s, 'a\n"b"\0011', 'expected an integer, got "a\\n\\"b\\"\\0011"')
  T.rejects(s, true, "expected an integer, got true")
  T.rejects(s, {}, "expected an integer, got a table")
  T.rejects(s, math.huge, "expected an integer, got inf")
  T.rejects(s, 0 / 0, "expected an integer, got nan")
end)

T.test("int bounds", function()
  T.rejects(p.int { min = 1 }, 0, "expected an integer >= 1, got 0")
  T.rejects(p.int { max = 10 }, 11, "expected an integer <= 10, got 11")
  local s = p.int { min = 1, max = 100 }
  T.rejects(s, 101, "expected an integer >= 1 and <= 100, got 101")
  T.rejects(s, "0", 'expected an integer >= 1 and <= 100, got "0"')
  T.eq(s:check(1), 1)
  T.eq(s:check(100), 100)
  T.rejects(s, 50.5, "expected an integer >= 1 and <= 100, got 50.5")
end)

T.test("float accepts numbers and numeric strings", function()
  local s = p.float {}
  T.eq(s:check(1.5), 1.5)
  T.eq(s:check(2), 2)
  T.eq(s:check("0.25"), 0.25)
  T.eq(s:check("1e3"), 1000)
  T.eq(s:check(" -2.5 "), -2.5)
  T.rejects(s, "abc", 'expected a number, got "abc"')
  T.rejects(s, "0x10", 'expected a number, got "0x10"')
  T.rejects(s, 0 / 0, "expected a number, got nan")
  T.rejects(s, false, "expected a number, got false")
  T.rejects(p.float { min = 0.5 }, 0.25, "expected a number >= 0.5, got 0.25")
  T.rejects(p.float { min = 0, max = 1 }, "2", 'expected a number >= 0 and <= 1, got "2"')
end)

T.test("describe", function()
  T.eq(p.int {}:describe(), "int")
  T.eq(p.int { min = 1 }:describe(), "int >= 1")
  T.eq(p.int { min = 1, max = 100 }:describe(), "int >= 1 <= 100")
  T.eq(p.float { max = 2.5 }:describe(), "float <= 2.5")
  T.eq(p.str {}:describe(), "str")
  T.eq(p.bool {}:describe(), "bool")
  T.eq(p.list { of = p.int { min = 0 } }:describe(), "list of int >= 0")
  T.eq(p.list {}:describe(), "list")
  T.eq(p.dict {}:describe(), "dict")
  T.eq(p.choice { choices = { "fast", "slow" } }:describe(), 'one of "fast", "slow"')
  T.eq(p.const { value = 5 }:describe(), "const 5")
  T.eq(p.ip {}:describe(), "ip")
  T.eq(p.ip { family = 6 }:describe(), "ip (IPv6)")
  T.eq(p.network { family = 4 }:describe(), "network (IPv4)")
  T.eq(p.hostname {}:describe(), "hostname")
  T.eq(p.any {}:describe(), "any")
  T.eq(tostring(p.int { min = 1 }), "<param int >= 1>")
end)

T.test("kind, is_param and common fields", function()
  local s = p.int { default = 5, min = 1, max = 100, doc = "pings per direction" }
  T.eq(s.kind, "int")
  T.eq(s.default, 5)
  T.eq(s.doc, "pings per direction")
  T.eq(s.mandatory, false)
  T.eq(p.str { mandatory = true }.mandatory, true)
  T.ok(p.is_param(s), "is_param(int)")
  T.ok(not p.is_param({ kind = "int" }), "plain table is not a param")
  T.ok(not p.is_param(5), "number is not a param")
  for _, kind in ipairs { "int", "float", "str", "bool", "list", "dict", "hostname", "ip", "network", "any" } do
    T.eq(p[kind]().kind, kind, "constructor without a table")
  end
end)

-- ------------------------------------------------------------ str / bool

T.test("str accepts strings and numbers", function()
  local s = p.str {}
  T.eq(s:check("abc"), "abc")
  T.eq(s:check(""), "")
  T.eq(s:check(5), "5")
  T.eq(s:check(2.5), "2.5")
  T.rejects(s, true, "expected a string, got true")
  T.rejects(s, {}, "expected a string, got a table")
  T.rejects(s, print, "expected a string, got a function")
end)

T.test("bool accepts booleans and the strings true/false only", function()
  local s = p.bool {}
  T.eq(s:check(true), true)
  T.eq(s:check(false), false)
  T.eq(s:check("true"), true)
  T.eq(s:check("false"), false)
  T.rejects(s, "yes", 'expected a boolean, got "yes"')
  T.rejects(s, "True", 'expected a boolean, got "True"')
  T.rejects(s, 1, "expected a boolean, got 1")
  T.rejects(s, 0, "expected a boolean, got 0")
end)

-- ------------------------------------------------------------ list / dict / any

T.test("list checks every item and reports its index", function()
  local s = p.list { of = p.int { min = 1 } }
  T.eq(s:check({ 1, "2", 3 }), { 1, 2, 3 })
  T.eq(s:check({}), {})
  T.rejects(s, { 1, 0 }, "item 2: expected an integer >= 1, got 0")
  T.rejects(s, { 1, 2, "x" }, 'item 3: expected an integer >= 1, got "x"')
  T.rejects(s, 5, "expected a list, got 5")
  T.rejects(s, "1,2", 'expected a list, got "1,2"')
  T.rejects(s, { a = 1 }, 'expected a list, got a table with key "a"')
  T.rejects(s, { 1, nil, 3 }, "expected a list, got a table without item 2")
  local nested = p.list { of = p.list { of = p.str {} } }
  T.rejects(nested, { { "a" }, { "b", true } }, "item 2: item 2: expected a string, got true")
end)

T.test("list converts into a new table and keeps untyped items", function()
  local given = { "1", "2" }
  local out = p.list { of = p.int {} }:check(given)
  T.eq(out, { 1, 2 })
  T.eq(given, { "1", "2" }, "input untouched")
  local any = p.list {}:check({ 1, "a", true })
  T.eq(any, { 1, "a", true })
end)

T.test("dict and any", function()
  local t = { a = 1 }
  T.ok(p.dict {}:check(t) == t, "dict returns the table")
  T.rejects(p.dict {}, "x", 'expected a dict (table), got "x"')
  T.eq(p.any {}:check(print), print)
end)

-- ------------------------------------------------------------ choice / const

T.test("choice checks the inner type then membership", function()
  local s = p.choice { choices = { "tcp_stream", "udp_stream" } }
  T.eq(s:check("udp_stream"), "udp_stream")
  T.rejects(s, "sctp", 'expected one of "tcp_stream", "udp_stream", got "sctp"')
  T.rejects(s, {}, "expected a string, got a table")
  local n = p.choice { choices = { 1, 2, 4 }, of = p.int {} }
  T.eq(n:check("4"), 4)
  T.rejects(n, 3, "expected one of 1, 2, 4, got 3")
  T.rejects(n, 2.5, "expected an integer, got 2.5")
end)

T.test("choice declaration errors", function()
  T.raises_at(function() p.choice {} end, "p.choice: choices must be a non-empty list", HERE)
  T.raises_at(function() p.choice { choices = {} } end,
    "p.choice: choices must be a non-empty list", HERE)
  T.raises_at(function() p.choice { choices = { 1, "x" }, of = p.int {} } end,
    'p.choice: choice 2: expected an integer, got "x"', HERE)
  T.raises_at(function() p.choice { choices = { "a" }, default = "b" } end,
    'p.choice: bad default: expected one of "a", got "b"', HERE)
  T.raises_at(function() p.choice { choices = { "a" }, of = "str" } end,
    "p.choice: of must be a param", HERE)
end)

T.test("const rejects any other value", function()
  local s = p.const { value = 5 }
  T.eq(s.default, 5)
  T.eq(s:check(5), 5)
  T.rejects(s, 6, "expected the constant 5, got 6")
  T.rejects(s, "5", 'expected the constant 5, got "5"')
  local t = p.const { value = { 1, 2 } }
  T.eq(t:check({ 1, 2 }), { 1, 2 })
  T.rejects(t, { 1, 3 }, "expected the constant a table, got a table")
  T.raises_at(function() p.const {} end, "p.const: value is required", HERE)
  T.raises_at(function() p.const { value = 1, default = 2 } end,
    "p.const: bad default: expected the constant 1, got 2", HERE)
end)

-- ------------------------------------------------------------ ip

T.test("ip accepts IPv4 and IPv6 addresses with an optional prefix", function()
  local s = p.ip {}
  for _, a in ipairs {
    "0.0.0.0", "192.168.1.1", "255.255.255.255", "10.0.0.1/8", "10.0.0.1/0", "10.0.0.1/32",
    "::", "::1", "1::", "fe80::1", "FE80::ABCD", "2001:db8::1/64", "1:2:3:4:5:6:7:8",
    "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "1::8", "0001:0db8::0001", "::ffff:192.0.2.1",
    "64:ff9b::192.0.2.33", "1:2:3:4:5:6:192.0.2.1", "::/0", "fe80::1/128",
  } do
    T.eq(s:check(a), a, a)
  end
end)

T.test("ip rejects malformed addresses with the reason", function()
  local s = p.ip {}
  local cases = {
    { "1.2.3", "not a dotted quad" },
    { "1.2.3.4.5", "not a dotted quad" },
    { "1.2.3.256", "octet 256 > 255" },
    { "1.2.3.1000", "octet 1000 > 255" },
    { "01.2.3.4", "octet 01 has a leading zero" },
    { "1.2.3.4/33", "prefix length 33 > 32" },
    { "1.2.3.4/", "bad prefix length ''" },
    { "1.2.3.4/-1", "bad prefix length '-1'" },
    { "1.2.3.4/24/1", "bad prefix length '24/1'" },
    { " 1.2.3.4", "not a dotted quad" },
    { "", "not a dotted quad" },
    { "host1", "not a dotted quad" },
    { "fe80::1/129", "prefix length 129 > 128" },
    { "1:2:3:4:5:6:7:8:9", "has 9 groups instead of 8" },
    { "1:2:3:4:5:6:7", "has 7 groups instead of 8" },
    { "1:2:3:4:5:6:7:8::", "too many groups" },
    { "1::2::3", "'::' used more than once" },
    { ":::", "':::' is not allowed" },
    { ":1::2", "empty group" },
    { "1::2:", "empty group" },
    { "1:2", "has 2 groups instead of 8" },
    { "12345::", "bad group '12345'" },
    { "fe80::g", "bad group 'g'" },
    { "::1.2.3.4:5", "bad group '1.2.3.4'" },
    { "1.2.3.4::", "bad group '1.2.3.4'" },
    { "::1.2.3.256", "bad IPv4 tail (octet 256 > 255)" },
    { "1:2:3:4:5:6:7:1.2.3.4", "has 9 groups instead of 8" },
    { "fe80::1%eth0", "bad group '1%eth0'" },
  }
  for _, c in ipairs(cases) do
    T.rejects(s, c[1], string.format('expected an IP address, got "%s" (%s)', c[1], c[2]), c[1])
  end
  T.rejects(s, 5, "expected an IP address, got 5")
end)

T.test("ip family", function()
  T.eq(p.ip { family = 4 }:check("10.0.0.1/24"), "10.0.0.1/24")
  T.rejects(p.ip { family = 4 }, "::1",
    'expected an IPv4 address, got "::1" (an IPv6 address)')
  T.rejects(p.ip { family = 6 }, "10.0.0.1",
    'expected an IPv6 address, got "10.0.0.1" (an IPv4 address)')
  T.rejects(p.ip { family = 6 }, {}, "expected an IPv6 address, got a table")
  T.raises_at(function() p.ip { family = 5 } end, "p.ip: family must be 4, 6 or nil", HERE)
end)

T.test("parse_ip and format_ip", function()
  local ip = p.parse_ip("::ffff:1.2.3.4/96")
  T.eq(ip, { family = 6, prefix = 96, bytes = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 1, 2, 3, 4 } })
  T.eq(p.parse_ip("10.1.2.3"), { family = 4, bytes = { 10, 1, 2, 3 } })
  T.eq(p.format_ip(4, { 10, 1, 2, 3 }), "10.1.2.3")
  local function canon(s) return p.format_ip(6, p.parse_ip(s).bytes) end
  T.eq(canon("2001:0DB8:0:0:0:0:0:1"), "2001:db8::1")
  T.eq(canon("::"), "::")
  T.eq(canon("1:0:0:2:0:0:0:3"), "1:0:0:2::3")
  T.eq(canon("1:0:0:2:0:0:3:4"), "1::2:0:0:3:4")
  T.eq(canon("1:0:2:3:4:5:6:7"), "1:0:2:3:4:5:6:7")
  T.eq(canon("1:2:3:4:5:6:7:0"), "1:2:3:4:5:6:7:0")
  T.eq(canon("0:0:1:2:3:4:5:6"), "::1:2:3:4:5:6")
end)

-- ------------------------------------------------------------ network

T.test("network accepts CIDR networks with zero host bits", function()
  local s = p.network {}
  for _, a in ipairs { "10.0.0.0/8", "192.168.101.0/24", "0.0.0.0/0", "10.1.2.3/32",
    "fc01::/64", "2001:db8::/32", "::/0", "fe80::1/128", "10.128.0.0/9" } do
    T.eq(s:check(a), a, a)
  end
end)

T.test("network rejects host bits, missing prefix and wrong family", function()
  local s = p.network {}
  T.rejects(s, "192.168.1.5/24", 'expected an IP network with the host bits zero, '
    .. 'got "192.168.1.5/24" (did you mean 192.168.1.0/24?)')
  T.rejects(s, "10.192.0.0/9", 'expected an IP network with the host bits zero, '
    .. 'got "10.192.0.0/9" (did you mean 10.128.0.0/9?)')
  T.rejects(s, "fc01::1/64", 'expected an IP network with the host bits zero, '
    .. 'got "fc01::1/64" (did you mean fc01::/64?)')
  T.rejects(s, "2001:db8:0:1::/63", 'expected an IP network with the host bits zero, '
    .. 'got "2001:db8:0:1::/63" (did you mean 2001:db8::/63?)')
  T.rejects(s, "10.0.0.0",
    'expected an IP network, got "10.0.0.0" (no prefix length: write address/prefix)')
  T.rejects(s, "10.0.0.0/40", 'expected an IP network, got "10.0.0.0/40" (prefix length 40 > 32)')
  T.rejects(p.network { family = 4 }, "fc01::/64",
    'expected an IPv4 network, got "fc01::/64" (an IPv6 network)')
  T.rejects(p.network { family = 6 }, "10.0.0.0/8",
    'expected an IPv6 network, got "10.0.0.0/8" (an IPv4 network)')
  T.rejects(s, 24, "expected an IP network, got 24")
end)

-- ------------------------------------------------------------ hostname

T.test("hostname", function()
  local s = p.hostname {}
  for _, h in ipairs { "host1", "a", "agent-a.example.com", "x1-2.y", string.rep("a", 63),
    string.rep(string.rep("a", 63) .. ".", 3) .. string.rep("b", 61) } do
    T.eq(s:check(h), h, h)
  end
  local cases = {
    { "", "empty" },
    { "-a", "label '-a' starts or ends with '-'" },
    { "a-.b", "label 'a-' starts or ends with '-'" },
    { "a..b", "empty label" },
    { "a.", "empty label" },
    { ".a", "empty label" },
    { "a_b", "label 'a_b' has characters other than letters, digits and '-'" },
    { "a b", "label 'a b' has characters other than letters, digits and '-'" },
    { string.rep("a", 64), "label longer than 63 characters" },
    { string.rep(string.rep("a", 63) .. ".", 3) .. string.rep("b", 62), "longer than 253 characters" },
  }
  for _, c in ipairs(cases) do
    T.rejects(s, c[1], string.format('expected a hostname, got "%s" (%s)', c[1], c[2]), c[1])
  end
  T.rejects(s, 1, "expected a hostname, got 1")
end)

-- ------------------------------------------------------------ declarations

T.test("a bad default raises at declaration, pointing at the caller", function()
  T.raises_at(function() p.int { default = 0, min = 1 } end,
    "p.int: bad default: expected an integer >= 1, got 0", HERE)
  T.raises_at(function() p.int { default = 5.5 } end,
    "p.int: bad default: expected an integer, got 5.5", HERE)
  T.raises_at(function() p.bool { default = "yes" } end,
    'p.bool: bad default: expected a boolean, got "yes"', HERE)
  T.raises_at(function() p.list { of = p.int {}, default = { 1, "a" } } end,
    'p.list: bad default: item 2: expected an integer, got "a"', HERE)
  T.raises_at(function() p.network { default = "10.0.0.1/8" } end,
    'p.network: bad default: expected an IP network with the host bits zero, '
    .. 'got "10.0.0.1/8" (did you mean 10.0.0.0/8?)', HERE)
end)

T.test("defaults are stored converted", function()
  T.eq(p.int { default = "5" }.default, 5)
  T.eq(p.bool { default = "false" }.default, false)
  T.eq(p.list { of = p.float {}, default = { "1.5" } }.default, { 1.5 })
end)

T.test("declaration field errors", function()
  T.raises_at(function() p.int { defualt = 5 } end,
    "p.int: unknown field 'defualt' (known: default, doc, mandatory, max, min)", HERE)
  T.raises_at(function() p.str { min = 1 } end,
    "p.str: unknown field 'min' (known: default, doc, mandatory)", HERE)
  T.raises_at(function() p.int { min = "1" } end, "p.int: min must be a number", HERE)
  T.raises_at(function() p.int { min = 5, max = 1 } end, "p.int: min 5 > max 1", HERE)
  T.raises_at(function() p.int { mandatory = "yes" } end, "p.int: mandatory must be a boolean", HERE)
  T.raises_at(function() p.int { doc = 5 } end, "p.int: doc must be a string", HERE)
  T.raises_at(function() p.list { of = "int" } end, "p.list: of must be a param", HERE)
  T.raises_at(function() p.int(5) end, "p.int: expected a table of fields", HERE)
end)

-- ------------------------------------------------------------ resolve

local specs = {
  count = p.int { default = 5, min = 1 },
  size = p.int { min = 1 },
  dst = p.ip { mandatory = true },
  flags = p.list { of = p.str {}, default = { "a", "b" } },
  opts = p.dict { default = { nested = { x = 1 } } },
}

T.test("resolve: given values are converted, defaults filled, rest absent", function()
  local params = p.resolve(specs, { count = "7", dst = "10.0.0.1" })
  T.eq(params, { count = 7, dst = "10.0.0.1", flags = { "a", "b" }, opts = { nested = { x = 1 } } })
  T.eq(params.size, nil)
  T.eq(getmetatable(params), nil, "plain table")
  local given_false = p.resolve({ b = p.bool { default = true } }, { b = false })
  T.eq(given_false.b, false, "false is a given value, not absent")
end)

T.test("resolve: defaults are deep copies", function()
  local a = p.resolve(specs, { dst = "::1" })
  a.flags[1] = "changed"
  a.opts.nested.x = 2
  local b = p.resolve(specs, { dst = "::1" })
  T.eq(b.flags, { "a", "b" })
  T.eq(b.opts.nested.x, 1)
  T.eq(specs.opts.default.nested.x, 1)
  T.ok(a.opts ~= b.opts, "distinct tables")
end)

T.test("resolve: one error each for mandatory, bad value and unknown", function()
  T.raises(function() p.resolve(specs, {}) end,
    "parameter 'dst' is mandatory (ip) and was not given")
  T.raises(function() p.resolve(specs, { dst = "::1", count = 0 }) end,
    "parameter 'count': expected an integer >= 1, got 0")
  T.raises(function() p.resolve(specs, { dst = "::1", cout = 3 }) end,
    "unknown parameter 'cout' (known: count, dst, flags, opts, size)")
end)

T.test("resolve: all errors are raised together, one per line", function()
  T.raises(function()
    p.resolve(specs, { count = 0, size = "big", flags = { "x", {} }, zzz = 1, cout = 3 })
  end, table.concat({
    "parameter 'count': expected an integer >= 1, got 0",
    "parameter 'dst' is mandatory (ip) and was not given",
    "parameter 'flags': item 2: expected a string, got a table",
    "parameter 'size': expected an integer >= 1, got \"big\"",
    "unknown parameter 'cout' (known: count, dst, flags, opts, size)",
    "unknown parameter 'zzz' (known: count, dst, flags, opts, size)",
  }, "\n"))
end)

T.test("resolve: edge cases", function()
  T.eq(p.resolve({}, nil), {})
  T.raises(function() p.resolve({}, { x = 1 }) end, "unknown parameter 'x' (known: none)")
  T.raises(function() p.resolve({ count = p.int { mandatory = true, min = 1 } }, nil) end,
    "parameter 'count' is mandatory (int >= 1) and was not given")
  T.eq(p.resolve({ c = p.int { mandatory = true, default = 3 } }, {}), { c = 3 },
    "mandatory with default uses the default")
  T.eq(p.resolve({ k = p.const { value = "x" } }, {}), { k = "x" })
  T.raises_with(function() p.resolve({ count = 5 }, {}) end, "spec for 'count' is not a param")
  T.raises_with(function() p.resolve({}, "count=5") end, "given values must be a table")
end)

T.run()
