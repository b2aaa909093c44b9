-- Bad input for test modules: each problem becomes a FAIL (or a skip) that
-- says which module on which host and why, and the run goes on to clean up
-- (tests/integration/test_modules_errors.sh; run with a PATH without iperf3).
local lnst = require "lnst"
local T = lnst.tests

local BOOM = "tests/integration/recipes/modules/boom.lua"

return lnst.recipe {
  name = "ModulesErrors",
  hosts = {
    host1 = { eth0 = { network = "net1" } },
    host2 = { eth0 = { network = "net1" } },
  },
  test = function(r)
    local h1, h2 = r.hosts.host1, r.hosts.host2
    h1.eth0:ip_add("198.51.100.1/24"); h2.eth0:ip_add("198.51.100.2/24")
    h1.eth0:up_and_wait(); h2.eth0:up_and_wait()
    -- a module that raises: its message, traceback and host come back
    local boom = h1:run(T.from_file(BOOM, { mode = "raise" }))
    r:check(boom.error ~= nil and boom.error.host == "host1"
      and tostring(boom.error.traceback):find("in function 'explode'", 1, true) ~= nil,
      "the raising module's traceback names explode()")
    -- a module that outlives its timeout is killed
    local slow = h2:run(T.from_file(BOOM, { mode = "sleep" }), { timeout = 1 })
    r:check(slow.timed_out and not slow.passed, "the sleeping module timed out")
    -- a result JSON cannot carry
    h1:run(T.from_file(BOOM, { mode = "bad-result" }))
    -- a tool the agent does not have: a skip, nothing runs
    local c = h1:run(T.iperf_client { server = "198.51.100.2" })
    r:check(c.skipped ~= nil, "iperf_client skipped: " .. tostring(c.skipped))
    -- a ping nobody answers, evaluated as upstream does (rate >= 50 %)
    lnst.perf.ping(r, { { client = h1, client_bind = "198.51.100.1", destination = h2,
      destination_address = "198.51.100.99", count = 2, interval = 0.1 } })
    -- unreachable peers: a connect that never completes, a network with
    -- no route (no IPv6 address here); each FAIL says why
    h1:run(T.rr_client { server = "198.51.100.99", test_length = 1, implementation = "luajit" })
    h1:run(T.ping { dst = "2001:db8::99", count = 1 })
    -- and the hosts still work afterwards
    local ok = h1:run(T.ping { dst = "198.51.100.2", count = 1 })
    r:check(ok.passed and ok.result.rate == 100, "ping after the failures")
  end,
}
