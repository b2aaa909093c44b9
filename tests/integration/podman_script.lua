-- A script that builds a controller of container hosts, as the seed's
-- Python does with Controller(poolMgr=ContainerPoolManager, podman_uri=...,
-- image=...):  lnst podman_script.lua PODMAN_URI IMAGE
local lnst = require "lnst"
local uri, image = ...
local recipe = dofile("recipes/hello_world.lua")
local c = lnst.controller { provisioner = "podman", podman_uri = uri, image = image, summary = false }
local run = c:run(recipe, { count = 1 })
print("overall:", run:overall(), "hosts:", run.match and #run.match)
return run
