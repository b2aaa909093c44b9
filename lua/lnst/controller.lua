-- lnst.controller: runs recipes on provisioned hosts.
--   local c = lnst.controller { provisioner = "netns", debug = false }
--   local run = c:run(recipe, { count = 3 })   -- params by name
--   os.exit(run:exit_code())
-- A run resolves the parameters (nothing is provisioned when they are
-- wrong), provisions the hosts, runs the test body, always cleans up, and
-- returns the run's results. Errors in the test body end the run with the
-- error and its traceback recorded; they are not raised to the caller.
local core = require "lnst.core"
local param = require "lnst.param"
local results = require "lnst.results"
local format = require "lnst.format"
local recipe_mod = require "lnst.recipe"

local M = {}
local Controller = {}
Controller.__index = Controller

local PROVISIONERS = { netns = "lnst.netns" }

function M.new(opts)
  opts = opts or {}
  if type(opts) ~= "table" then error("lnst.controller takes a table of options", 2) end
  local known = { provisioner = true, debug = true, level = true, colour = true, summary = true, output = true }
  for k in pairs(opts) do
    if not known[k] then
      error(string.format("lnst.controller: unknown option '%s' (known: colour, debug, level, output, provisioner, summary)", k), 2)
    end
  end
  local prov = opts.provisioner or "netns"
  if not PROVISIONERS[prov] then
    error(string.format("lnst.controller: unknown provisioner '%s' (available: netns)", tostring(prov)), 2)
  end
  local out = opts.output or io.stdout
  local colour = opts.colour
  if colour == nil then
    colour = out == io.stdout and core.isatty(1) and (os.getenv("NO_COLOR") or "") == ""
  end
  return setmetatable({
    provisioner = prov, debug = opts.debug or false, level = opts.level or results.IMPORTANT,
    colour = colour, summary = opts.summary ~= false, output = out,
  }, Controller)
end

local function log_printer(debug)
  return function(hostname, level, message)
    if debug or level == "error" or level == "warning" then
      io.stderr:write(string.format("lnst: host %s: %s: %s\n", hostname, level, message))
    end
  end
end

-- Exit code for a finished run: 0 passed (or warnings), 1 a FAIL, 2 an error.
local function exit_code(run)
  if run.exception then return 2 end
  return run:overall() == results.FAIL and 1 or 0
end

function Controller:run(recipe, given)
  if not recipe_mod.is_recipe(recipe) then
    error("controller:run: the first argument must be a recipe made with lnst.recipe{...}", 2)
  end
  local params = param.resolve(recipe.params, given or {})
  local run = results.new_run {
    recipe = recipe.name, description = recipe.description, params = params,
  }
  run.exit_code = exit_code
  local prov = require(PROVISIONERS[self.provisioner]).new {
    debug = self.debug, log = log_printer(self.debug),
  }
  local hosts
  local ok, err = xpcall(function()
    local match
    hosts, match = prov:provision(recipe.hosts)
    run.match = match
    for _, h in pairs(hosts) do rawset(h, "recorder", function(rec) return run:add(rec) end) end
    local ctx = M.context(recipe, run, hosts, params)
    recipe.test(ctx)
  end, debug.traceback)
  core.guard(true)
  if not ok then
    local msg, tb = tostring(err):match("^(.-)\nstack traceback:\n(.*)$")
    if tb then
      -- the recipe's frames only: cut where the controller called the test
      tb = tb:gsub("\n[^\n]*%[C%]: in function 'xpcall'.*$", "")
      tb = tb:gsub("\n[^\n]*lua/lnst/controller%.lua:[^\n]*$", "")
    end
    run:set_exception(msg or tostring(err), tb)
  end
  for _, h in pairs(hosts or {}) do rawset(h, "recorder", nil) end
  local problems = prov:cleanup()
  for _, p in ipairs(problems) do
    run:add { type = "result", result = results.WARNING, level = results.IMPORTANT,
      description = "cleanup: " .. p }
  end
  local sig = core.interrupted()
  core.guard(false)
  if sig and not run.exception then run:set_exception("interrupted by " .. sig) end
  if self.summary then
    self.output:write(format.human(run, { level = self.level, colour = self.colour }), "\n")
    self.output:flush()
  end
  return run
end

-- The object a recipe's test body receives: r.hosts, r.params, r:check(),
-- r:add_result(), r:wait().
local Ctx = {}
Ctx.__index = Ctx

function M.context(recipe, run, hosts, params)
  return setmetatable({ recipe = recipe, run = run, hosts = hosts, params = params }, Ctx)
end

-- Records PASS when cond is truthy, FAIL otherwise; returns cond.
function Ctx:check(cond, description, data)
  self.run:add { type = "result", result = cond and results.PASS or results.FAIL,
    description = description or "check", data = data, source = "TestResult" }
  return cond
end

-- LNST's add_result(result, description, data, level, data_level).
function Ctx:add_result(result, description, data, level, data_level)
  if result == true then result = results.PASS elseif result == false then result = results.FAIL end
  self.run:add { type = "result", result = result, description = description, data = data,
    level = level, data_level = data_level, source = "TestResult" }
end

-- Waits while events keep flowing (device state, job completions).
function Ctx:wait(seconds)
  core.sleep(seconds)
end

return M
