-- SimpleNetnsRouter (LNST's SimpleNetnsRouterRecipe): host2 routes between
-- its eth0 and a namespace host2ns behind a veth pair (pn0 in host2, np0 in
-- the namespace): forwarding on, a default route in the namespace, a route
-- on host1 to the namespace's networks. Pings and flows host1.eth0 <->
-- host2ns.np0.
--   lnst run recipes/enrt/simple_netns_router.lua -p perf_duration=5
local lnst = require "lnst"
local enrt = require "lnst.enrt"
local d = require "lnst.device"
local p = require "lnst.param"

return enrt.recipe {
  name = "SimpleNetnsRouter",
  description = "host1 reaches a namespace of host2 routed by host2",
  requires = { kinds = { "veth" } },
  hosts = {
    host1 = { eth0 = { network = "net1" } },
    host2 = { eth0 = { network = "net1" } },
  },
  mixins = { "common_hw", "perf_reverse", "drop_caches", "perf_tweaks" },
  params = {
    netns_ipv4 = p.network { family = 4, default = "203.0.113.0/24", doc = "network between host2 and its namespace" },
    netns_ipv6 = p.network { family = 6, default = "2001:db8:102::/64", doc = "the same, IPv6" },
  },
  configure = function(r, cfg)
    local P, h1, h2 = r.params, r.hosts.host1, r.hosts.host2
    for i, h in ipairs { h1, h2 } do
      cfg:ip_add(h.eth0, enrt.addr(P.net_ipv4, i))
      cfg:ip_add(h.eth0, enrt.addr(P.net_ipv6, i))
      h.eth0:up_and_wait()
    end
    h2.host2ns = lnst.netns()
    local a, b = d.veth_pair { name = "pn0", peer_name = "np0" }
    h2.pn0 = a
    h2.host2ns.np0 = b
    local ns = h2.host2ns
    cfg:ip_add(h2.pn0, enrt.addr(P.netns_ipv4, 1))
    cfg:ip_add(h2.pn0, enrt.addr(P.netns_ipv6, 1))
    cfg:ip_add(ns.np0, enrt.addr(P.netns_ipv4, 2))
    cfg:ip_add(ns.np0, enrt.addr(P.netns_ipv6, 2))
    h2.pn0:up()
    ns.np0:up_and_wait()
    h2:sysctl_set("net.ipv4.ip_forward", 1)
    h2:sysctl_set("net.ipv6.conf.all.forwarding", 1)
    ns:route_add { dst = "default", via = enrt.strip(enrt.addr(P.netns_ipv4, 1)) }
    ns:route_add { dst = "default", via = enrt.strip(enrt.addr(P.netns_ipv6, 1)), family = "ipv6" }
    h1.eth0:route_add { dst = P.netns_ipv4, via = enrt.strip(enrt.addr(P.net_ipv4, 2)) }
    h1.eth0:route_add { dst = P.netns_ipv6, via = enrt.strip(enrt.addr(P.net_ipv6, 2)) }
    cfg.pairs = { { h1.eth0, ns.np0 } }
    cfg.devs = { h1.eth0, h2.eth0 }
  end,
}
