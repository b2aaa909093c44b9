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
  local known = { provisioner = true, debug = true, level = true, colour = true, summary = true, output = true,
    pause_on_fail = true }
  for k in pairs(opts) do
    if not known[k] then
      error(string.format("lnst.controller: unknown option '%s' (known: colour, debug, level, output, "
        .. "pause_on_fail, provisioner, summary)", k), 2)
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
    colour = colour, summary = opts.summary ~= false, output = out, pause_on_fail = opts.pause_on_fail or false,
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

-- A live run: hosts provisioned, results recording. Controller:run is
-- open + test + close; `lnst repl RECIPE` opens one and hands it to a person.
local Session = {}
Session.__index = Session

M.active = nil -- the session whose test body is running (for lnst.pause)

-- Cuts a traceback to the recipe's own frames.
local function recipe_frames(tb)
  tb = tb:gsub("\n[^\n]*%[C%]: in function 'xpcall'.*$", "")
  tb = tb:gsub("\n[^\n]*lua/lnst/controller%.lua:[^\n]*$", "")
  return tb
end

-- Provisions the recipe's hosts; parameter errors raise before anything is
-- made. A provisioning error is recorded and leaves the session closed-ready.
function Controller:open(recipe, given)
  if not recipe_mod.is_recipe(recipe) then
    error("controller: the first argument must be a recipe made with lnst.recipe{...}", 2)
  end
  local params = param.resolve(recipe.params, given or {})
  local run = results.new_run {
    recipe = recipe.name, description = recipe.description, params = params,
  }
  run.exit_code = exit_code
  local s = setmetatable({ ctl = self, recipe = recipe, run = run, params = params }, Session)
  s.prov = require(PROVISIONERS[self.provisioner]).new {
    debug = self.debug, log = log_printer(self.debug),
  }
  local ok, err = xpcall(function()
    local hosts, match = s.prov:provision(recipe.hosts)
    s.hosts, run.match = hosts, match
    for _, h in pairs(hosts) do
      rawset(h, "recorder", function(rec) return s:_record(rec) end)
      rawset(h, "checkpoint_fn", function() s:_checkpoint() end)
    end
    s.ctx = M.context(recipe, run, hosts, params, s)
  end, debug.traceback)
  if not ok then s:_exception(err) end
  s.ready = ok
  return s
end

function Session:_exception(err)
  local msg, tb = tostring(err):match("^(.-)\nstack traceback:\n(.*)$")
  self.run:set_exception(msg or tostring(err), tb and recipe_frames(tb))
end

-- Pausing is for people: only with a terminal on stdin.
local function can_pause()
  return core.isatty(0)
end

-- Every result goes through here; the first FAIL pauses the run when asked
-- (inside an event handler the pause waits for the next checkpoint).
function Session:_record(rec)
  local r = self.run:add(rec)
  if r.result == results.FAIL and self.ctl.pause_on_fail and not self.paused_on_fail then
    self.paused_on_fail = true
    self.pending_pause = r
  end
  return r
end

function Session:_checkpoint()
  local r = self.pending_pause
  if r and not self.in_pause then
    self.pending_pause = nil
    self:pause("a result failed", r)
  end
end

-- Opens the REPL on the live hosts. :continue (or Ctrl-D) resumes, :abort
-- tears down. Returns nothing; an abort raises to end the test body.
function Session:pause(why, failed, trace)
  if not can_pause() then return end
  self.in_pause = true
  local out = io.stdout
  out:write("\n*** lnst paused: ", why, "\n")
  if failed then
    out:write(format.human_result(failed), "\n")
  end
  trace = trace or recipe_frames(debug.traceback("", 3):gsub("^\nstack traceback:\n", ""))
  out:write("Lua stack:\n", trace, "\n")
  out:write("In scope: r, hosts, params", failed and ", result" or "", ". ",
    ":continue resumes, :abort tears down, :help for more.\n")
  local G = _G
  local saved = { r = G.r, hosts = G.hosts, params = G.params, result = G.result }
  G.r, G.hosts, G.params, G.result = self.ctx, self.hosts, self.params, failed
  local st = core.repl("paused> ")
  G.r, G.hosts, G.params, G.result = saved.r, saved.hosts, saved.params, saved.result
  self.in_pause = false
  if st == "abort" or st == "quit" then
    error("aborted from the REPL", 0)
  end
end

-- Runs the recipe's test body. Errors are recorded (and, with pause on
-- fail, paused on at the point of failure), never raised.
function Session:test()
  if not self.ready then return self.run end
  local prev = M.active
  M.active = self
  local function handler(err)
    local tb = debug.traceback(tostring(err), 2)
    if self.ctl.pause_on_fail and not self.in_pause and tostring(err) ~= "aborted from the REPL"
        and not tostring(err):find("^interrupted by SIG") then
      local _, trace = tb:match("^(.-)\nstack traceback:\n(.*)$")
      pcall(self.pause, self, "Lua error: " .. tostring(err), nil, trace and recipe_frames(trace))
    end
    return tb
  end
  local ok, err = xpcall(self.recipe.test, handler, self.ctx)
  M.active = prev
  if not ok then self:_exception(err) end
  return self.run
end

-- Ends the run on every host, records cleanup problems and interruptions,
-- prints the summary (if the controller does) and returns the run.
function Session:close()
  if self.closed then return self.run end
  self.closed = true
  core.guard(true)
  for _, h in pairs(self.hosts or {}) do
    rawset(h, "recorder", nil)
    rawset(h, "checkpoint_fn", nil)
  end
  local run = self.run
  local problems = self.prov:cleanup()
  for _, p in ipairs(problems) do
    run:add { type = "result", result = results.WARNING, level = results.IMPORTANT,
      description = "cleanup: " .. p }
  end
  local sig = core.interrupted()
  core.guard(false)
  if sig and not run.exception then run:set_exception("interrupted by " .. sig) end
  local ctl = self.ctl
  if ctl.summary then
    ctl.output:write(format.human(run, { level = ctl.level, colour = ctl.colour }), "\n")
    ctl.output:flush()
  end
  return run
end

function Controller:run(recipe, given)
  local s = self:open(recipe, given)
  s:test()
  return s:close()
end

-- lnst.pause(why): a breakpoint when a person is at the terminal; a no-op
-- otherwise, so recipes may keep it.
function M.pause(why)
  local s = M.active
  if s and not s.in_pause then s:pause("lnst.pause(" .. tostring(why or "") .. ")") end
end

-- The object a recipe's test body receives: r.hosts, r.params, r:check(),
-- r:add_result(), r:wait().
local Ctx = {}
Ctx.__index = Ctx

function M.context(recipe, run, hosts, params, session)
  return setmetatable({ recipe = recipe, run = run, hosts = hosts, params = params, session = session }, Ctx)
end

-- Adds a record through the session (pause on fail) when there is one.
function Ctx:_add(rec)
  local s = self.session
  if not s then return self.run:add(rec) end
  local r = s:_record(rec)
  s:_checkpoint()
  return r
end

-- Records PASS when cond is truthy, FAIL otherwise; returns cond.
function Ctx:check(cond, description, data)
  self:_add { type = "result", result = cond and results.PASS or results.FAIL,
    description = description or "check", data = data, source = "TestResult" }
  return cond
end

-- Runs the recipe's test body (from the REPL of `lnst repl`); returns the
-- overall result so far.
function Ctx:test()
  if not self.session then error("r:test() needs a session (lnst repl RECIPE)", 2) end
  self.session:test()
  return self.run:overall()
end

-- LNST's add_result(result, description, data, level, data_level).
function Ctx:add_result(result, description, data, level, data_level)
  if result == true then result = results.PASS elseif result == false then result = results.FAIL end
  self:_add { type = "result", result = result, description = description, data = data,
    level = level, data_level = data_level, source = "TestResult" }
end

-- Waits while events keep flowing (device state, job completions).
function Ctx.wait(_, seconds)
  core.sleep(seconds)
end

return M
