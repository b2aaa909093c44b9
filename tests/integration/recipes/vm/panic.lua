-- Crashes the guest kernel from a host (sysrq c): the run must end with an
-- error saying the guest kernel panicked, where its console log is, within
-- a few seconds (test_vm.sh). Only for the vm provisioner.
local lnst = require "lnst"

return lnst.recipe {
  name = "GuestPanic",
  hosts = { host1 = { eth0 = { network = "net1" } } },
  test = function(r)
    r.hosts.host1:run("echo 1 > /proc/sys/kernel/sysrq; echo c > /proc/sysrq-trigger", { timeout = 30 })
    r:check(false, "the guest survived sysrq c")
  end,
}
