-- bench/vm.sh's recipe: two hosts on one network, like hello_world; the
-- first line of the test body writes the wall-clock time to the file named
-- by $LNST_BENCH_MARK: the moment the hosts are up and their NICs mapped.
local lnst = require "lnst"
local core = require "lnst.core"

return lnst.recipe {
  name = "VmFirstLine",
  hosts = {
    host1 = { eth0 = { network = "net1" } },
    host2 = { eth0 = { network = "net1" } },
  },
  test = function(r)
    local f = assert(io.open(assert(os.getenv("LNST_BENCH_MARK"), "set LNST_BENCH_MARK"), "w"))
    f:write(string.format("%.3f\n", core.time()))
    f:close()
    r.hosts.host1.eth0:up()
  end,
}
