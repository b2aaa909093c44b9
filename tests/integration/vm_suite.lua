-- Runs several recipes in one guest (the vm provisioner with vm_keep): the
-- guest boots once, every recipe gets fresh hosts inside it.
--   lnst vm_suite.lua VM_DIR [+OPTION=LITERAL]... RECIPE.lua[:k=v;k=v] ...
-- (+vm_smp=1: a controller option)
-- Prints each run's summary after a line "=== RECIPE ARGS", and at the end
-- one line "=== RESULT <name> <overall>" per run; returns the worst exit code.
local lnst = require "lnst"
local core = require "lnst.core"
local vm = require "lnst.vm"

local opts = { provisioner = "vm", vm_keep = true, vm_dir = arg[1], level = 1 }
local first = 2
while arg[first] and arg[first]:sub(1, 1) == "+" do
  local k, v = assert(core.assignment(arg[first]:sub(2)))
  opts[k] = v
  first = first + 1
end
local ctl = lnst.controller(opts)
local worst, lines = 0, {}
for i = first, #arg do
  local path, args = arg[i]:match("^([^:]+):?(.*)$")
  local given = args ~= "" and assert(core.assignments(args, ";")) or {}
  print("=== " .. arg[i])
  local t0 = core.now()
  local ok, run = pcall(function()
    return ctl:run(assert(require("lnst.cli").load_recipe(path)), given)
  end)
  if ok then
    lines[#lines + 1] = string.format("=== RESULT %s %s (%.1f s)", arg[i], run:overall(), core.now() - t0)
    worst = math.max(worst, run:exit_code())
  else -- a bad recipe or parameter: nothing was provisioned
    print(run)
    lines[#lines + 1] = string.format("=== RESULT %s ERROR (%s)", arg[i], tostring(run):match("^[^\n]*"))
    worst = 2
  end
end
local problems = vm.stop_kept()
for _, p in ipairs(problems) do
  print("=== PROBLEM " .. p)
  worst = math.max(worst, 2)
end
for _, l in ipairs(lines) do print(l) end
return worst
