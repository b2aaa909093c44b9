-- Fault injection (tests/integration/test_faults*.sh, docs/faults.md).
-- mode selects the fault; the agents' pids go to $LNST_FAULT_PIDS (one
-- "name pid" a line) for the test script, which signals them from outside.
local lnst = require "lnst"
local core = require "lnst.core"
local p = lnst.param

local function publish(hosts)
  local path = os.getenv("LNST_FAULT_PIDS")
  if not path then return end
  local f = assert(io.open(path .. ".tmp", "w"))
  for _, name in ipairs { "h1", "h2", "h3" } do f:write(name, " ", hosts[name].pid, "\n") end
  f:close()
  assert(os.rename(path .. ".tmp", path))
end

local MODES = {}

-- The test script kills (or stops) h1's agent while h1 runs a foreground job;
-- h2 and h3 hold jobs and devices that cleanup must remove.
function MODES.wait_in_job(r)
  local h = r.hosts
  h.h2.eth0:ip_add("198.51.100.2/24")
  h.h2:run({ "sleep", "1000" }, { bg = true })
  h.h3:run({ "sleep", "1000" }, { bg = true })
  publish(h)
  h.h1:run({ "sleep", "30" })
end

-- The test script kills h1's agent while the recipe waits on h2: a
-- foreground job there (wait_other) or lnst's sleep (sleep_other). The
-- death must end the wait at once, not when it is over.
function MODES.wait_other(r)
  local h = r.hosts
  h.h1.eth0:ip_add("198.51.100.1/24")
  h.h3:run({ "sleep", "1000" }, { bg = true })
  publish(h)
  h.h2:run({ "sleep", "30" })
end

function MODES.sleep_other(r)
  local h = r.hosts
  h.h1.eth0:ip_add("198.51.100.1/24")
  h.h2:run({ "sleep", "1000" }, { bg = true })
  publish(h)
  r:wait(30)
end

-- A foreground job longer than the request timeout (--timeout 1) passes:
-- the agent answers the pings meanwhile.
function MODES.long_job(r)
  local j = r.hosts.h1:run({ "sleep", "3" })
  r:check(j.passed, "a 3 s job outlives a 1 s request timeout")
end

-- A request to a stopped agent times out and names the host.
function MODES.rpc_stopped(r)
  local h1 = r.hosts.h1
  core.kill(h1.pid, 19) -- SIGSTOP
  h1.eth0:ip_add("198.51.100.1/24")
end

-- A job that ignores SIGTERM survives job:kill("TERM"); the run's end removes it.
function MODES.term_ignored(r)
  local h1 = r.hosts.h1
  local j = h1:run({ "sh", "-c", "trap '' TERM; sleep 299.25; echo survived" }, { bg = true })
  core.sleep(0.3)
  j:kill("TERM")
  core.sleep(0.5)
  r:check(not j.finished, "the job is still running after SIGTERM")
end

-- The namespace ns1 of h1 disappears under the agent while a job runs in
-- it: its name is removed (ip netns del, from a job on h1), then its worker,
-- the last thing holding it, is killed (by that job). Afterwards requests
-- for ns1 fail at once (netns_after).
function MODES.netns_gone(r)
  local h1 = r.hosts.h1
  h1.ns1 = lnst.netns()
  local d = h1:run({ "ip", "netns", "del", "ns1" })
  r:check(d.passed, "ip netns del ns1 on h1")
  h1.ns1:run({ "sh", "-c", "sleep 0.5; kill -9 $PPID; sleep 20" })
end

function MODES.netns_after(r)
  local h1 = r.hosts.h1
  h1.ns1 = lnst.netns()
  h1.ns1:run({ "sh", "-c", "sleep 0.3; kill -9 $PPID" }, { bg = true })
  core.sleep(1)
  h1.ns1:run({ "true" })
end

return lnst.recipe {
  name = "Faults",
  params = { mode = p.choice { choices = { "wait_in_job", "wait_other", "sleep_other", "long_job", "rpc_stopped",
    "term_ignored", "netns_gone", "netns_after" },
    mandatory = true } },
  hosts = {
    h1 = { eth0 = { network = "n" } },
    h2 = { eth0 = { network = "n" } },
    h3 = { eth0 = { network = "n" } },
  },
  test = function(r) MODES[r.params.mode](r) end,
}
