-- Runs one recipe on the vm provisioner with controller options from the
-- command line (for options lnst run has no flag for):
--   lnst vm_run.lua RECIPE.lua [OPTION=LITERAL]... [-- PARAM=LITERAL...]
-- e.g. lnst vm_run.lua r.lua vm_hang_timeout=5 vm_accel=tcg -- count=1
-- Returns the run's exit code.
local lnst = require "lnst"
local core = require "lnst.core"

local opts, given, params = { provisioner = "vm" }, {}, false
for i = 2, #arg do
  if arg[i] == "--" then
    params = true
  else
    local k, v = assert(core.assignment(arg[i]))
    if params then given[k] = v else opts[k] = v end
  end
end
local recipe = assert(require("lnst.cli").load_recipe(arg[1]))
return lnst.controller(opts):run(recipe, given):exit_code()
