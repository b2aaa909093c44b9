-- SimpleNetwork (LNST's SimpleNetworkRecipe): host1.eth0 and host2.eth0 on
-- one network, IPv4 and IPv6 addresses from net_ipv4/net_ipv6 (.1 and .2),
-- pings and iperf3 flows under each offload combination.
--   lnst run recipes/enrt/simple_network.lua -p perf_duration=5 -p perf_iterations=1
local enrt = require "lnst.enrt"

return enrt.recipe {
  name = "SimpleNetwork",
  description = "Ping and iperf3 between two hosts on one network under five offload combinations",
  hosts = {
    host1 = { eth0 = { network = "net1" } },
    host2 = { eth0 = { network = "net1" } },
  },
  mixins = { "offload", "common_hw", "perf_reverse", "drop_caches", "perf_tweaks" },
  defaults = { offload_combinations = enrt.OFFLOADS5 },
  configure = enrt.configure_eth0_pair,
}
