-- lnst.cli: what the `lnst` command does once main.c has parsed its options.
--   run(opts)    lnst run RECIPE.lua -p k=v ...  -> exit code
--   script(opts) lnst SCRIPT.lua ARGS            -> exit code
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

function M.run(opts)
  _G.lnst = require "lnst"
  local recipe, err = M.load_recipe(opts.recipe)
  if not recipe then errln("%s", err); return 2 end
  local given = {}
  for _, text in ipairs(opts.params or {}) do
    local key, value = core.assignment(text)
    if not key then errln("-p %s: %s", text, value); return 2 end
    if given[key] ~= nil then errln("-p %s: parameter '%s' given twice", text, key); return 2 end
    given[key] = value
  end
  local colour
  if opts.no_colour then colour = false end
  local ctl = require("lnst.controller").new { debug = opts.debug, level = opts.level, colour = colour }
  local ok, run = pcall(ctl.run, ctl, recipe, given)
  if not ok then
    errln("%s: %s", opts.recipe, tostring(run))
    return 2
  end
  return run:exit_code()
end

function M.script(opts)
  _G.lnst = require "lnst"
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
