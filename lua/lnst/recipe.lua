-- lnst.recipe: a recipe declaration, checked when it is declared.
--   lnst.recipe { name = "HelloWorld", description = "...",
--                 params = { count = lnst.param.int { default = 5 } },
--                 hosts = { host1 = { eth0 = { network = "net1" } }, ... },
--                 test = function(r) ... end }
-- A host entry maps NIC names to NIC requirements; `params` inside a host
-- entry holds host requirements (matched against pool machines).
local param = require "lnst.param"
local util = require "lnst.util"

local M = {}

local Recipe = {}
Recipe.__index = Recipe

function Recipe:__tostring()
  return string.format("<recipe %s (%s)>", self.name, self.source)
end

-- "file:line" of the declaration being checked (set by M.new), or nil.
local decl_where

-- Raises at the line that declared the recipe: `depth` frames above fail(),
-- or decl_where when M.new found it another way.
local function fail(msg, depth)
  if decl_where then error(decl_where .. ": recipe: " .. msg, 0) end
  error("recipe: " .. msg, depth or 3)
end

-- Where lnst.recipe{...} was called: its caller's line; but
-- `return lnst.recipe {...}` is a tail call, which leaves no frame of the
-- recipe file, so then the file and first line of its test function.
local function declaration_site(def)
  local info = debug.getinfo(3, "Sl")
  if info and info.what ~= "C" and info.currentline > 0 then
    return info.short_src, info.short_src .. ":" .. info.currentline
  end
  local test = type(def) == "table" and type(def.test) == "function" and debug.getinfo(def.test, "S")
  if test and test.what ~= "C" then return test.short_src, test.short_src .. ":" .. test.linedefined end
  return nil, nil
end

local function check_hosts(hosts)
  if type(hosts) ~= "table" then fail("'hosts' must be a table of host name = { NIC = { network = ... } }", 4) end
  local n = 0
  for _, hname in ipairs(util.sorted_keys(hosts)) do
    n = n + 1
    local h = hosts[hname]
    if type(hname) ~= "string" or not hname:match("^[%a_][%w_%-]*$") or #hname > 32 then
      fail(string.format("host name '%s' must be an identifier of at most 32 characters", tostring(hname)), 4)
    end
    if type(h) ~= "table" then fail(string.format("host %s: must be a table of NICs", hname), 4) end
    for _, nic in ipairs(util.sorted_keys(h)) do
      local spec = h[nic]
      if nic == "params" then
        if type(spec) ~= "table" then fail(string.format("host %s: params must be a table", hname), 4) end
      else
        if not util.valid_ifname(nic) then
          fail(string.format("host %s: NIC name '%s' is not a valid interface name "
            .. "(1-15 characters, no '/', ':' or spaces)", hname, tostring(nic)), 4)
        end
        if type(spec) ~= "table" or type(spec.network) ~= "string" or spec.network == "" then
          fail(string.format("host %s, NIC %s: needs { network = \"<label>\" }", hname, nic), 4)
        end
      end
    end
  end
  if n == 0 then fail("'hosts' declares no host", 4) end
end

-- requires = { kinds = {...}, tools = {...}, link_features = {...},
-- features = {...} }: what the recipe needs. The controller checks kinds,
-- tools and link_features with r:require before the test body (a missing
-- one ends the run as SKIPPED); `features` names kernel features the
-- recipe's library probes itself (lnst.enrt.FEATURES). `lnst list recipes`
-- shows them all.
local REQUIRES = { kinds = true, tools = true, link_features = true, features = true }
local function check_requires(req)
  if req == nil then return end
  if type(req) ~= "table" then fail("'requires' must be a table { kinds = {...}, tools = {...} }", 4) end
  for k, v in pairs(req) do
    if not REQUIRES[k] then
      fail(string.format("requires: unknown key '%s' (known: features, kinds, link_features, tools)", tostring(k)), 4)
    end
    if type(v) ~= "table" then fail(string.format("requires.%s must be a list of names", k), 4) end
    for _, x in ipairs(v) do
      if type(x) ~= "string" then fail(string.format("requires.%s: every item must be a string", k), 4) end
    end
  end
end

function M.new(def)
  local src, where = declaration_site(def)
  decl_where = where
  if type(def) ~= "table" then fail("lnst.recipe takes a table { name = ..., hosts = ..., test = ... }") end
  local known = { name = true, description = true, params = true, hosts = true, test = true, requires = true }
  for k in pairs(def) do
    if not known[k] then
      fail(string.format("unknown field '%s' (known: description, hosts, name, params, requires, test)", tostring(k)))
    end
  end
  check_requires(def.requires)
  if def.name ~= nil and type(def.name) ~= "string" then fail("'name' must be a string") end
  if type(def.test) ~= "function" then fail("'test' must be a function(r)") end
  local params = def.params or {}
  if type(params) ~= "table" then fail("'params' must be a table of lnst.param types") end
  for k, v in pairs(params) do
    if type(k) ~= "string" or not param.is_param(v) then
      fail(string.format("parameter '%s' must be declared with an lnst.param type (e.g. lnst.param.int{})",
        tostring(k)))
    end
  end
  check_hosts(def.hosts)
  decl_where = nil
  return setmetatable({
    name = def.name or (src and src:match("([^/]+)%.lua$")) or "recipe",
    description = def.description or "",
    params = params, hosts = def.hosts, test = def.test, requires = def.requires,
    source = where or "?",
  }, Recipe)
end

function M.is_recipe(x)
  return getmetatable(x) == Recipe
end

return M
