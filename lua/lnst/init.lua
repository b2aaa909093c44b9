-- lnst: the public Lua API (docs/recipes.md is its reference).
--   local lnst = require "lnst"
--   return lnst.recipe { name = ..., params = ..., hosts = ..., test = function(r) ... end }
local results = require "lnst.results"

local M = {}

M.param = require "lnst.param"
M.results = results
M.recipe = require("lnst.recipe").new
M.controller = require("lnst.controller").new
M.inspect = require "lnst.inspect"
M.tests = require("lnst.modules").tests -- test modules run on agents: lnst.tests.ping{...}
M.netns = require("lnst.netns_obj").spec -- h.ns1 = lnst.netns(): a namespace on host h
M.device = require "lnst.device" -- h.br0 = lnst.device.bridge{...}: soft devices (lnst.links)
M.perf = require "lnst.perf" -- flows, CPU, evaluators, ping helpers (lua/lnst/perf)

-- A breakpoint: opens the REPL on the live hosts when a person runs the
-- recipe at a terminal; does nothing otherwise.
function M.pause(why) require("lnst.controller").pause(why) end

M.PASS, M.FAIL, M.WARNING = results.PASS, results.FAIL, results.WARNING
M.IMPORTANT, M.NORMAL, M.DEBUG = results.IMPORTANT, results.NORMAL, results.DEBUG

return M
