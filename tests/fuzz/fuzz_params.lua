-- fuzz_params.lua - the Lua half of tests/fuzz/fuzz_params.c: recipe
-- parameters from arbitrary bytes, through the paths `lnst run -p k=v` and
-- RECIPE_PARAMS take, into lnst.param checking.
--
-- The chunk returns a function run(bytes) that returns nil when every
-- outcome was acceptable, or a message saying what was not. Acceptable: the
-- values resolve, and each resolved value is what its spec accepts
-- (checking it again gives it back); or a structured error: for -p a
-- message "-p TEXT: ..." (literal syntax error with its offset, or a name
-- given twice), for RECIPE_PARAMS the literal parser's "at offset N: ...",
-- and from lnst.param.resolve one line per problem, each naming a parameter
-- that was given or is mandatory. Any other Lua error escapes run() and the
-- C side aborts on it too.
local core = require "lnst.core"
local cli = require "lnst.cli"
local p = require "lnst.param"
local recipe = require "lnst.recipe"

-- Every kind lnst.param has, with and without bounds, defaults and families.
local function declared()
  return {
    i = p.int { min = -5, max = 100 }, n = p.int {}, idef = p.int { default = 3 },
    f = p.float { min = 0, max = 1.5 }, g = p.float {},
    s = p.str {}, sdef = p.str { default = "x" },
    b = p.bool {}, bdef = p.bool { default = false },
    l = p.list {}, li = p.list { of = p.int { min = 0 } }, lip = p.list { of = p.ip {} },
    d = p.dict {},
    c = p.choice { choices = { "a", "b", "c" } }, ci = p.choice { of = p.int {}, choices = { 1, 2, 3 } },
    k = p.const { value = 7 },
    ip = p.ip {}, ip4 = p.ip { family = 4 }, ip6 = p.ip { family = 6 },
    net = p.network {}, net4 = p.network { family = 4 }, net6 = p.network { family = 6 },
    h = p.hostname {}, a = p.any {},
  }
end

local function recipe_with(params)
  return recipe.new { name = "fuzz", params = params, hosts = { h1 = { eth0 = { network = "n1" } } },
    test = function() end }
end

local plain = recipe_with(declared())
local with_mandatory = declared()
with_mandatory.m = p.int { mandatory = true, min = 1 }
with_mandatory = recipe_with(with_mandatory)

local function equal(a, b)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  for k, v in next, a do
    if not equal(v, b[k]) then return false end
  end
  for k in next, b do
    if a[k] == nil then return false end
  end
  return true
end

-- The three forms of a resolve error line; each names one parameter.
local LINE_FORMS = {
  "^parameter '([%w_]+)': .", "^parameter '([%w_]+)' is mandatory %(", "^unknown parameter '([%w_]+)' %(known: ",
}

-- Resolves as Controller:open does; nil or what was wrong.
local function resolve(r, given, from)
  local specs = r.params
  local ok, res = pcall(p.resolve, specs, given)
  if ok then
    if type(res) ~= "table" then return from .. ": resolve returned a " .. type(res) end
    for name, v in next, res do
      local spec = specs[name]
      if not spec then return from .. ": resolved an undeclared parameter " .. tostring(name) end
      local again, why = spec:check(v)
      if again == nil or not equal(again, v) then
        return string.format("%s: parameter '%s' resolved to a value its spec does not give back (%s)",
          from, name, why or "a different value")
      end
    end
    for name in next, given do
      if res[name] == nil then return from .. ": given parameter '" .. tostring(name) .. "' was dropped" end
    end
    for name, spec in next, specs do
      if spec.mandatory and res[name] == nil then return from .. ": mandatory '" .. name .. "' missing" end
    end
    return nil
  end
  if type(res) ~= "string" then return from .. ": resolve raised a " .. type(res) .. ", not a message" end
  for line in (res .. "\n"):gmatch("(.-)\n") do
    local name
    for _, form in ipairs(LINE_FORMS) do
      name = name or line:match(form)
    end
    if not name then return string.format("%s: not a parameter error: %q (in %q)", from, line, res) end
    if given[name] == nil and not (specs[name] and specs[name].mandatory) then
      return string.format("%s: error names '%s', neither given nor mandatory: %q", from, name, line)
    end
  end
  return nil
end

local function resolve_both(given, from)
  return resolve(plain, given, from) or resolve(with_mandatory, given, from .. " (with a mandatory parameter)")
end

return function(bytes)
  -- The command line: one -p argument per NUL-separated piece (an argument
  -- cannot hold a NUL), into cli.given_params as `lnst run` does.
  local args = {}
  for piece in (bytes .. "\0"):gmatch("(%Z*)%z") do args[#args + 1] = piece end
  local given, why = cli.given_params(args)
  if given then
    local bad = resolve_both(given, "-p")
    if bad then return bad end
  elseif type(why) ~= "string" or not (why:match("^%-p .*: at offset %d+: .") or
      why:match("^%-p .*: parameter '[%w_]+' given twice$")) then
    return "-p: not a structured error: " .. tostring(why)
  end
  -- RECIPE_PARAMS: what getenv would give (up to the first NUL), split at
  -- ';' as container_runner.lua does.
  local env = bytes:match("^%Z*")
  local params, perr = core.assignments(env, ";")
  if params then return resolve_both(params, "RECIPE_PARAMS") end
  if type(perr) ~= "string" or not perr:match("^at offset %d+: .") then
    return "RECIPE_PARAMS: not a structured error: " .. tostring(perr)
  end
  return nil
end
