-- A guest agent that goes away while the recipe waits on another host
-- (test_vm.sh): h1's agent is told "bye" (it undoes its changes and exits,
-- closing its channel) while the recipe waits for h2's 30 s job; the wait
-- must end at once with the loss, as on netns hosts, not when the job is
-- over. (A job cannot kill its agent: the agent is the init of the host's
-- PID namespace, which ignores SIGKILL from inside it.)
local lnst = require "lnst"

return lnst.recipe {
  name = "VmAgentDies",
  hosts = { h1 = { eth0 = { network = "n" } }, h2 = { eth0 = { network = "n" } } },
  test = function(r)
    rawget(r.hosts.h1, "conn"):send("bye")
    r.hosts.h2:run({ "sleep", "30" })
  end,
}
