-- Freezes the guest (SIGSTOP to its qemu, found in the guest registry by
-- this controller's pid) while a job runs: the run must end with an error
-- saying the guest stopped answering, within vm_hang_timeout and a few
-- seconds (test_vm.sh). Only for the vm provisioner.
local lnst = require "lnst"
local core = require "lnst.core"

return lnst.recipe {
  name = "GuestHang",
  hosts = { host1 = { eth0 = { network = "net1" } } },
  test = function(r)
    local f = assert(io.popen("cat /run/lnst/vm/lnst-vm-" .. core.getpid() .. "-*.pid"))
    local qemu = tonumber(f:read("*a"):match("^(%d+)"))
    f:close()
    r:check(qemu ~= nil, "found the guest's qemu")
    local job = r.hosts.host1:run({ "sleep", "100" }, { bg = true })
    core.kill(qemu, 19) -- SIGSTOP: no more heartbeats
    job:wait(60)
    r:check(false, "the job outlived a frozen guest")
  end,
}
