-- A script that builds its own controller, like LNST's Python scripts.
local lnst = require "lnst"
local recipe = dofile("recipes/hello_world.lua")
local c = lnst.controller { summary = false }
run = c:run(recipe, { count = 1 }) -- global: `lnst -i` shows it
print("overall:", run:overall(), "args:", ...)
return run
