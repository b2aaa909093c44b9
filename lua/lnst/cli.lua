-- lnst.cli: what the `lnst` command does once main.c has parsed its options.
--   run(opts)    lnst run RECIPE.lua -p k=v ...  -> exit code
--   script(opts) lnst SCRIPT.lua ARGS            -> exit code
--   pool(opts)   lnst pool list|check            -> exit code
--   report(opts) lnst report RUN.json --format F -> exit code
--   list(opts)   lnst list recipes [PATH...]    -> exit code
local core = require "lnst.core"

local M = {}

local function errln(fmt, ...)
  io.stderr:write("lnst: ", string.format(fmt, ...), "\n")
end

-- Loads a recipe file; it must return an lnst.recipe. Returns recipe or nil, message.
function M.load_recipe(path)
  local chunk, err = loadfile(path)
  if not chunk then return nil, err end
  local ok, r = xpcall(chunk, debug.traceback)
  if not ok then return nil, r end
  if not require("lnst.recipe").is_recipe(r) then
    return nil, string.format("%s: the file must return a recipe (return lnst.recipe { ... }), it returned %s",
      path, type(r))
  end
  return r
end

-- The values of -p arguments ({ "k=v", ... }) as a table; nil, message on
-- errors. (tests/fuzz/fuzz_params.c feeds it arbitrary arguments.)
function M.given_params(texts)
  local given = {}
  for _, text in ipairs(texts or {}) do
    local key, value = core.assignment(text)
    if not key then return nil, string.format("-p %s: %s", text, value) end
    if given[key] ~= nil then return nil, string.format("-p %s: parameter '%s' given twice", text, key) end
    given[key] = value
  end
  return given
end

-- The recipe and its -p parameters; nil, message on errors.
local function recipe_and_params(opts)
  local recipe, err = M.load_recipe(opts.recipe)
  if not recipe then return nil, err end
  local given, perr = M.given_params(opts.params)
  if not given then return nil, perr end
  return recipe, given
end

function M.run(opts)
  _G.lnst = require "lnst"
  local recipe, given = recipe_and_params(opts)
  if not recipe then errln("%s", given); return 2 end
  local colour
  if opts.no_colour then colour = false end
  local formats, why = require("lnst.report").selections(opts.formats, os.getenv("FORMATTERS"))
  if not formats then errln("--format: %s", why); return 2 end
  local pod, perr = require("lnst.podman").cli_options(opts)
  if not pod then errln("%s", perr); return 2 end
  local vmo, verr = require("lnst.vm").cli_options(opts) -- --vm, --kernel, ... (docs/vm.md)
  if not vmo then errln("%s", verr); return 2 end
  local ctl = require("lnst.controller").new { debug = opts.debug, level = opts.level, colour = colour,
    pause_on_fail = opts.pause_on_fail, pools = opts.pools, multimatch = opts.multimatch, config = opts.config,
    formats = #formats > 0 and formats or nil, save = opts.save, provisioner = pod.provisioner or vmo.provisioner,
    podman_uri = pod.podman_uri, image = pod.image, network_backend = pod.network_backend,
    podman_timeout = pod.podman_timeout, kernel = vmo.kernel, modules = vmo.modules, vm_memory = vmo.vm_memory,
    vm_smp = vmo.vm_smp, vm_accel = vmo.vm_accel, vm_dir = vmo.vm_dir, vm_append = vmo.vm_append,
    timeout = opts.timeout }
  if opts.pause_on_fail and not core.isatty(0) then
    errln("--pause-on-fail: stdin is not a terminal, the run will not pause")
  end
  local ok, run = pcall(ctl.run, ctl, recipe, given)
  if not ok then
    errln("%s: %s", opts.recipe, tostring(run))
    return 2
  end
  if run.output_problems then return 2 end
  return run:exit_code()
end

-- lnst report RUN.json: renders a saved run again. Its exit code is the
-- run's (0 passed, 1 a FAIL, 2 an error stopped it), or 2 when the file
-- cannot be read or an output cannot be written.
function M.report(opts)
  local report = require "lnst.report"
  local run, err = require("lnst.runfile").load(opts.file)
  if not run then errln("report: %s", err); return 2 end
  local formats, why = report.selections(opts.formats, nil)
  if not formats then errln("report: --format: %s", why); return 2 end
  local colour = not opts.no_colour and core.isatty(1) and (os.getenv("NO_COLOR") or "") == ""
  local problems = report.emit(run, { formats = formats, output = io.stdout, level = opts.level, colour = colour })
  if #problems > 0 then return 2 end
  if run.exception then return 2 end
  return run:overall() == "FAIL" and 1 or 0
end

-- lnst pool list|check: machine pools and their agents (lnst.agents).
function M.pool(opts)
  local agents = require "lnst.agents"
  local o = { pools = opts.pools, config_file = opts.config, timeout = opts.timeout }
  local ok, code = pcall(opts.command == "check" and agents.pool_check or agents.pool_list, o)
  if not ok then errln("pool %s: %s", opts.command, tostring(code)); return 2 end
  return code
end

-- lnst repl RECIPE: hosts up, test body not run, a person at the keyboard.
function M.repl(opts)
  _G.lnst = require "lnst"
  _G.__lnst_interactive = true
  for opt, key in pairs { ["--multimatch"] = "multimatch", ["--format"] = "formats", ["--save"] = "save" } do
    if opts[key] then errln("repl: %s is an option of lnst run only", opt); return 2 end
  end
  local recipe, given = recipe_and_params(opts)
  if not recipe then errln("%s", given); return 2 end
  local pod, perr = require("lnst.podman").cli_options(opts)
  if not pod then errln("%s", perr); return 2 end
  local vmo, verr = require("lnst.vm").cli_options(opts) -- --vm, --kernel, ... (docs/vm.md)
  if not vmo then errln("%s", verr); return 2 end
  local colour -- nil: colours when stdout is a terminal (as lnst run)
  if opts.no_colour then colour = false end
  local ctl = require("lnst.controller").new { debug = opts.debug, level = opts.level,
    colour = colour, pause_on_fail = opts.pause_on_fail, pools = opts.pools, config = opts.config,
    provisioner = pod.provisioner or vmo.provisioner, podman_uri = pod.podman_uri, image = pod.image,
    network_backend = pod.network_backend, podman_timeout = pod.podman_timeout, kernel = vmo.kernel,
    modules = vmo.modules, vm_memory = vmo.vm_memory, vm_smp = vmo.vm_smp, vm_accel = vmo.vm_accel,
    vm_dir = vmo.vm_dir, vm_append = vmo.vm_append, timeout = opts.timeout }
  local ok, s = pcall(ctl.open, ctl, recipe, given)
  if not ok then errln("%s: %s", opts.recipe, tostring(s)); return 2 end
  if not s.ready then return s:close():exit_code() end
  _G.r, _G.hosts, _G.params, _G.recipe = s.ctx, s.hosts, s.params, recipe
  print(string.format("lnst repl: recipe %s, hosts up (the test body has not run; r:test() runs it).",
    recipe.name))
  local names = {}
  for name in pairs(s.hosts) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local h = s.hosts[name]
    -- a provisioner whose hosts cannot be entered that way says how instead;
    -- an agent reached over the network (pid 0) is where its target says
    local pid = tonumber(h.pid) or 0
    local enter = rawget(h, "enter_hint") or (pid > 0 and string.format("enter it: nsenter -t %d -n -m -p", pid))
      or ("agent at " .. tostring(h.target))
    print(string.format("  hosts.%s  %s  (%s)", name, tostring(h), enter))
  end
  print("In scope: r, hosts, params, recipe. :help for help, Ctrl-D or :quit to tear down and leave.")
  core.repl()
  return s:close():exit_code()
end

-- lnst list recipes [PATH...]: each recipe's description, parameters (type,
-- default, doc) and requirements (recipe.requires). PATHs are recipe files
-- or directories (default recipes/ and recipes/enrt/); exit 2 when one does
-- not load.
function M.list(opts)
  _G.lnst = require "lnst"
  local inspect = require "lnst.inspect"
  local files = {}
  local paths = opts.paths or {}
  if #paths == 0 then paths = { "recipes", "recipes/enrt" } end
  for _, path in ipairs(paths) do
    if path:match("%.lua$") then
      files[#files + 1] = path
    else
      local ls = io.popen("ls -1 '" .. path:gsub("'", "'\\''") .. "' 2>/dev/null")
      local names = {}
      for name in ls:lines() do if name:match("%.lua$") then names[#names + 1] = name end end
      ls:close()
      if #names == 0 then errln("list: no recipes in %s", path) end
      table.sort(names)
      for _, name in ipairs(names) do files[#files + 1] = path:gsub("/$", "") .. "/" .. name end
    end
  end
  local code = 0
  for _, file in ipairs(files) do
    local r, err = M.load_recipe(file)
    if not r then
      errln("list: %s", tostring(err):match("[^\n]+"))
      code = 2
    else
      print(string.format("%s  (%s)", r.name, file))
      if r.description ~= "" then print("  " .. r.description) end
      local req = r.requires or {}
      for _, k in ipairs { "kinds", "link_features", "features", "tools" } do
        if req[k] and #req[k] > 0 then print(string.format("  needs %s: %s", k, table.concat(req[k], ", "))) end
      end
      local names = {}
      for name in pairs(r.params) do names[#names + 1] = name end
      table.sort(names)
      for _, name in ipairs(names) do
        local spec = r.params[name]
        local line = string.format("    %-28s %s", name, spec:describe())
        if spec.mandatory then line = line .. ", mandatory" end
        if spec.default ~= nil then line = line .. ", default " .. inspect(spec.default, { width = 1000 }) end
        if spec.doc then line = line .. " -- " .. spec.doc end
        print(line)
      end
      print("")
    end
  end
  return code
end

function M.script(opts)
  _G.lnst = require "lnst"
  if opts.interactive then _G.__lnst_interactive = true end
  local chunk, err = loadfile(opts.script)
  if not chunk then errln("%s", err); return 2 end
  local args = opts.args or {}
  args[0] = opts.script
  _G.arg = args
  local ok, res = xpcall(chunk, debug.traceback, unpack(args))
  if not ok then
    errln("%s", tostring(res))
    return 2
  end
  if type(res) == "number" then return res end
  if type(res) == "table" and res.exit_code then return res:exit_code() end
  return 0
end

return M
