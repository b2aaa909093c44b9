-- SimpleNetnsRouter (LNST's SimpleNetnsRouterRecipe): host2 routes between
-- its eth0 and a namespace host2ns behind a veth pair (pn0 in host2, np0 in
-- the namespace): forwarding on, a default route in the namespace, a route
-- on host1 to the namespace's networks. Pings and flows host1.eth0 <->
-- host2ns.np0.
--   lnst run recipes/enrt/simple_netns_router.lua -p perf_duration=5
local enrt = require "lnst.enrt"
local router = require "lnst.enrt.netns_router"

return enrt.recipe {
  name = "SimpleNetnsRouter",
  description = "host1 reaches a namespace of host2 routed by host2",
  requires = { kinds = { "veth" } },
  hosts = {
    host1 = { eth0 = { network = "net1" } },
    host2 = { eth0 = { network = "net1" } },
  },
  mixins = { "common_hw", "perf_reverse", "drop_caches", "perf_tweaks" },
  params = router.PARAMS,
  configure = function(r, cfg) router.configure(r, cfg) end,
}
