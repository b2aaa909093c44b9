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

local PROVISIONERS = { netns = "lnst.netns", agents = "lnst.agents", podman = "lnst.podman", vm = "lnst.vm" }

function M.new(opts)
  opts = opts or {}
  if type(opts) ~= "table" then error("lnst.controller takes a table of options", 2) end
  local known = { provisioner = true, debug = true, level = true, colour = true, summary = true, output = true,
    pause_on_fail = true, pools = true, multimatch = true, config = true, timeout = true, formats = true, save = true,
    podman_uri = true, image = true, network_backend = true, podman_timeout = true }
  for k in pairs(require("lnst.vm").DEFAULTS) do known[k] = true end -- vm provisioner (docs/vm.md)
  for k in pairs(opts) do
    if not known[k] then
      error(string.format("lnst.controller: unknown option '%s' (known: colour, config, debug, formats, image, level, "
        .. "multimatch, network_backend, output, pause_on_fail, podman_timeout, podman_uri, pools, provisioner, save, "
        .. "summary, timeout; vm: kernel, modules, qemu, vm_accel, vm_append, vm_boot_timeout, vm_dir, "
        .. "vm_hang_timeout, vm_keep, vm_memory, vm_smp)", k), 2)
    end
  end
  if opts.timeout ~= nil and (type(opts.timeout) ~= "number" or opts.timeout <= 0) then
    error(string.format("lnst.controller: timeout must be a number of seconds > 0, not %s", tostring(opts.timeout)), 2)
  end
  local prov = opts.provisioner or (opts.pools and #opts.pools > 0 and "agents") or "netns"
  if not PROVISIONERS[prov] then
    error(string.format("lnst.controller: unknown provisioner '%s' (available: agents, netns, podman, vm)",
      tostring(prov)), 2)
  end
  if prov == "podman" then
    local ok, err = pcall(require("lnst.podman").options, opts)
    if not ok then error("lnst.controller: " .. tostring(err), 2) end
  end
  local vm_opts
  if prov == "vm" then
    local ok, res = pcall(require("lnst.vm").options, opts)
    if not ok then error("lnst.controller: " .. tostring(res), 2) end
    vm_opts = res
  end
  local out = opts.output or io.stdout
  local colour = opts.colour
  if colour == nil then
    colour = out == io.stdout and core.isatty(1) and (os.getenv("NO_COLOR") or "") == ""
  end
  return setmetatable({
    provisioner = prov, debug = opts.debug or false, level = opts.level or results.IMPORTANT,
    colour = colour, summary = opts.summary ~= false, output = out, pause_on_fail = opts.pause_on_fail or false,
    -- agents provisioner: pools (names or directories), config file, multimatch, timeout (s)
    pools = opts.pools, config_file = opts.config, multimatch = opts.multimatch or false, timeout = opts.timeout,
    -- outputs (lnst.report): formats = { {name=, file=}, ... }, save = run file path
    formats = opts.formats, save = opts.save,
    -- podman provisioner: service URI, agent image, network backend, timeout (s)
    podman = { podman_uri = opts.podman_uri, image = opts.image, network_backend = opts.network_backend,
      podman_timeout = opts.podman_timeout },
    vm = vm_opts, -- vm provisioner: kernel, memory, accel... (lnst.vm.options)
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
    pools = self.pools, config_file = self.config_file, match = self.match, timeout = self.timeout,
    podman_uri = self.podman.podman_uri, image = self.podman.image, network_backend = self.podman.network_backend,
    podman_timeout = self.podman.podman_timeout, vm = self.vm,
  }
  local ok, err = xpcall(function()
    local hosts, match = s.prov:provision(recipe.hosts)
    s.hosts, run.match = hosts, match
    for _, h in pairs(hosts) do
      if self.timeout then rawset(h, "timeout", self.timeout) end -- request timeout, every provisioner
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
  if not trace then
    -- from where the recipe called in: the engine's frames above it (the
    -- checkpoint in host:run, a device method) say nothing to its author
    trace = recipe_frames(debug.traceback("", 2):gsub("^\nstack traceback:\n", ""))
    local inner = "^%s*lua/lnst/[%w_]+%.lua:%d+:"
    while trace:find("\n") and (trace:find(inner) or trace:find("^%s*%[C%]:")) do
      trace = trace:gsub("^[^\n]*\n", "", 1)
    end
  end
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
    if results.is_skip(err) then return err end -- r:require: skipped, not an error
    local tb = debug.traceback(tostring(err), 2)
    if self.ctl.pause_on_fail and not self.in_pause and tostring(err) ~= "aborted from the REPL"
        and not tostring(err):find("^interrupted by SIG") then
      local _, trace = tb:match("^(.-)\nstack traceback:\n(.*)$")
      pcall(self.pause, self, "Lua error: " .. tostring(err), nil, trace and recipe_frames(trace))
    end
    return tb
  end
  local req = self.recipe.requires -- lnst.recipe { requires = ... }: checked before the body
  local body = not req and self.recipe.test or function(ctx)
    ctx:require { kinds = req.kinds, tools = req.tools, link_features = req.link_features }
    return self.recipe.test(ctx)
  end
  local ok, err = xpcall(body, handler, self.ctx)
  M.active = prev
  if not ok and not results.is_skip(err) then self:_exception(err) end
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
  if ctl.summary or ctl.save or ctl.formats then
    require("lnst.report").emit(run, { formats = ctl.formats, summary = ctl.summary, save = ctl.save,
      output = ctl.output, level = ctl.level, colour = ctl.colour })
  end
  return run
end

function Controller:run(recipe, given)
  if self.multimatch then return self:run_matches(recipe, given) end
  local s = self:open(recipe, given)
  s:test()
  return s:close()
end

-- multimatch: runs the recipe once on every match of the pools, in the
-- mapper's order. Returns the run with the worst exit code (the first of
-- those) and the list of all runs; self.runs keeps the list too.
function Controller:run_matches(recipe, given)
  if self.provisioner ~= "agents" then
    error("controller: multimatch needs machine pools (the agents provisioner)", 2)
  end
  param.resolve(recipe.params, given or {})
  local matches = require("lnst.agents").matches(recipe.hosts,
    { pools = self.pools, config_file = self.config_file, multimatch = true })
  local runs, worst = {}, nil
  for i, m in ipairs(matches) do
    self.match = m
    local ok, run = pcall(function()
      local s = self:open(recipe, given)
      s:test()
      return s:close()
    end)
    self.match = nil
    if not ok then error(run, 0) end
    runs[i] = run
    if not worst or run:exit_code() > worst:exit_code() then worst = run end
  end
  self.runs = runs
  return worst, runs
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

-- How the REPL prints r (r.hosts, r.params, r.run hold the rest).
function Ctx:__tostring()
  local names = {}
  for name in pairs(self.hosts or {}) do names[#names + 1] = name end
  table.sort(names)
  return string.format("<r: recipe %s; hosts %s; params %s; %d results so far, %s>", self.recipe.name,
    table.concat(names, ", "), require("lnst.inspect")(self.params, { width = 1000 }), #self.run.results,
    self.run:overall())
end

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

-- r:require { kinds = {"bond"}, tools = {"teamd"}, link_features = {...},
-- hosts = {"h1"} }: ends the run as SKIPPED, with the reason, when a host
-- (every host unless `hosts` names some) lacks one of them; see
-- docs/devices.md. Returns nothing when all are there.
function Ctx:require(req)
  if type(req) ~= "table" then error("r:require takes a table { kinds = {...}, tools = {...} }", 2) end
  local caps = { kinds = "kinds", tools = "tools", link_features = "link_features" }
  for k, v in pairs(req) do
    if not caps[k] and k ~= "hosts" then
      error(string.format("r:require: unknown requirement '%s' (known: hosts, kinds, link_features, tools)",
        tostring(k)), 2)
    end
    if type(v) ~= "table" then error(string.format("r:require: '%s' must be a list of names", k), 2) end
  end
  local names = req.hosts
  if not names then
    names = {}
    for name in pairs(self.hosts) do names[#names + 1] = name end
  end
  table.sort(names)
  local missing = {}
  for _, name in ipairs(names) do
    local h = self.hosts[name]
    if not h then error(string.format("r:require: the recipe has no host '%s'", tostring(name)), 2) end
    for _, what in ipairs { "kinds", "link_features", "tools" } do
      local have = h.capabilities[caps[what]]
      if req[what] and #req[what] > 0 and type(have) ~= "table" then
        error(string.format("r:require: host %s did not report capabilities.%s (its probe failed; see the "
          .. "agent's log)", name, what), 2)
      end
      local set = {}
      for _, x in ipairs(have or {}) do set[x] = true end
      for _, want in ipairs(req[what] or {}) do
        if not set[want] then
          local label = what == "kinds" and "device kind" or what == "tools" and "tool" or "link feature"
          local by = what == "tools" and "found on its PATH" or "supported by its kernel"
          -- the agent's probe says why a kind is missing (capabilities.kinds_absent)
          local why = what == "kinds" and type(h.capabilities.kinds_absent) == "table"
            and h.capabilities.kinds_absent[want]
          missing[#missing + 1] = string.format("host %s: %s %s not %s%s", name, label, want, by,
            why and " (" .. why .. ")" or "")
        end
      end
    end
  end
  if #missing > 0 then
    local reason = table.concat(missing, "; ")
    self:_add(results.skip_record(reason))
    error(results.skip_signal(reason), 0)
  end
end

-- Waits while events keep flowing (device state, job completions).
function Ctx.wait(_, seconds)
  core.sleep(seconds)
end

return M
