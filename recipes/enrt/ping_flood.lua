-- PingFlood (LNST's PingFloodRecipe, not an ENRT recipe upstream): the
-- recipe in recipes/ping_flood.lua, listed here with the ENRT catalogue.
--   lnst run recipes/enrt/ping_flood.lua -p count=50 -p interval=0.1
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
return dofile(dir .. "../ping_flood.lua")
