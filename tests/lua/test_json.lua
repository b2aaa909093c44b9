-- Unit tests for lnst.json. Run from the repo root: luajit tests/lua/test_json.lua
package.path = "lua/?.lua;lua/?/init.lua;tests/lua/?.lua;" .. package.path
local T = require "testlib"
local json = require "lnst.json"

T.test("encode: scalars, sorted keys, arrays", function()
  T.eq(json.encode { b = 1, a = { 1, 2, "x" }, c = true, d = "q\"\n\1" },
    '{"a":[1,2,"x"],"b":1,"c":true,"d":"q\\"\\n\\u0001"}')
  T.eq(json.encode(1.5), "1.5")
  T.eq(json.encode(2 ^ 60), "1.152921504606847e+18")
  T.eq(json.encode(0.1), "0.10000000000000001")
end)

T.test("encode: empty tables, marked arrays, non-finite numbers", function()
  T.eq(json.encode {}, "{}")
  T.eq(json.encode(json.array {}), "[]")
  T.eq(json.encode { 0 / 0, math.huge, -math.huge }, "[null,null,null]")
  T.eq(json.encode { [1] = "a", [3] = "c" }, '{"1":"a","3":"c"}')
end)

T.test("encode: pretty", function()
  T.eq(json.encode({ a = { 1 }, b = {} }, { indent = "  " }), '{\n  "a": [\n    1\n  ],\n  "b": {}\n}')
end)

T.test("encode: a cycle is an error, a function is named", function()
  local t = {}
  t.self = t
  T.raises(function() json.encode(t) end, "json.encode: the value contains a cycle")
  T.eq(json.encode { f = print }, '{"f":"<function>"}')
end)

T.test("decode: round trip", function()
  local v = { a = { 1, 2.5, -3e-7 }, b = "é\t\"", c = false, d = { e = {} } }
  T.eq(json.decode(json.encode(v)), v)
end)

T.test("decode: escapes, surrogates, positions", function()
  T.eq(json.decode('"\\u00e9\\ud83d\\ude00\\/"'), "é😀/")
  local v, nxt = json.decode('  {"a": null, "b": [true]}  x', 1)
  T.eq(v, { b = { true } })
  T.eq(nxt, 27)
  T.eq({ json.decode('[1] [2]', 4) }, { { 2 }, 8 })
end)

T.test("decode: errors say what and where", function()
  T.eq({ json.decode('{"a" 1}') }, { nil, "expected ':' at byte 6" })
  T.eq({ json.decode('[1,') }, { nil, "unexpected end of text at byte 4" })
  T.eq({ json.decode('"abc') }, { nil, "unterminated string at byte 1" })
  T.eq({ json.decode('{"a":x}') }, { nil, "unexpected character 'x' at byte 6" })
end)

T.run()
