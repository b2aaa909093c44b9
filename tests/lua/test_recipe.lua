-- Unit tests for lnst.recipe declarations. Run from the repo root: luajit tests/lua/test_recipe.lua
package.path = "lua/?.lua;lua/?/init.lua;tests/lua/?.lua;" .. package.path
local T = require "testlib"
local recipe = require "lnst.recipe"
local p = require "lnst.param"

local function good(over)
  local d = {
    name = "R", params = { n = p.int { default = 1 } },
    hosts = { h1 = { eth0 = { network = "net1" } }, h2 = { eth0 = { network = "net1" }, params = { arch = "x86_64" } } },
    test = function() end,
  }
  for k, v in pairs(over or {}) do d[k] = v end
  return d
end

T.test("a good declaration", function()
  local r = recipe.new(good())
  T.ok(recipe.is_recipe(r))
  T.eq(r.name, "R")
  T.eq(r.description, "")
  T.ok(r.source:match("test_recipe%.lua:%d+$"), "source points at the declaration")
end)

T.test("errors point at the declaring line", function()
  T.raises_at(function() recipe.new(good { test = 5 }) end, "recipe: 'test' must be a function(r)", "test_recipe.lua")
  T.raises_at(function() recipe.new(good { hosts = {} }) end, "recipe: 'hosts' declares no host", "test_recipe.lua")
  T.raises_at(function() recipe.new(good { colour = 1 }) end,
    "recipe: unknown field 'colour' (known: description, hosts, name, params, requires, test)", "test_recipe.lua")
end)

T.test("NIC names and networks are checked", function()
  T.raises_with(function() recipe.new(good { hosts = { h1 = { ["way_too_long_name0"] = { network = "n" } } } }) end,
    "NIC name 'way_too_long_name0' is not a valid interface name")
  T.raises_with(function() recipe.new(good { hosts = { h1 = { ["a/b"] = { network = "n" } } } }) end,
    "NIC name 'a/b'")
  T.raises_with(function() recipe.new(good { hosts = { h1 = { eth0 = {} } } }) end,
    "host h1, NIC eth0: needs { network = \"<label>\" }")
  T.raises_with(function() recipe.new(good { hosts = { ["bad name"] = { eth0 = { network = "n" } } } }) end,
    "host name 'bad name'")
end)

T.test("parameters must be lnst.param types", function()
  T.raises_with(function() recipe.new(good { params = { n = 5 } }) end,
    "parameter 'n' must be declared with an lnst.param type")
end)

-- A recipe file ends with `return lnst.recipe {...}`, a tail call that
-- leaves no frame of the file: the name, source and errors still name it
-- (through the test function), as when lnst run loads it with xpcall.
T.test("return lnst.recipe {...}: file and line without the caller's frame", function()
  local function load_file(text)
    local chunk = assert(loadstring(text, "@recipes/tail_call.lua"))
    return select(2, xpcall(chunk, debug.traceback, recipe))
  end
  local r = load_file("local recipe = ...\nreturn recipe.new {\n"
    .. "  hosts = { h1 = { eth0 = { network = 'n' } } },\n  test = function() end }\n")
  T.ok(recipe.is_recipe(r), "the file returned a recipe")
  T.eq(r.name, "tail_call")
  T.eq(r.source, "recipes/tail_call.lua:4")
  local err = load_file("local recipe = ...\nreturn recipe.new {\n  hosts = {},\n  test = function() end }\n")
  T.ok(tostring(err):match("^recipes/tail_call%.lua:4: recipe: 'hosts' declares no host"), tostring(err))
end)

T.run()
