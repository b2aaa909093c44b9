-- lnst.enrt.netns_router: LNST's SimpleNetnsRouterRecipe topology, shared
-- by SimpleNetnsRouter, NftablesRuleScale and Forwarding. The generator
-- (host1.eth0) and the forwarder's ingress NIC (host2.eth0) carry
-- net_ipv4/net_ipv6 .1/.2; the forwarder's egress NIC and the receiver
-- NIC (in a namespace) carry netns_ipv4/netns_ipv6 .1/.2; the forwarder
-- has forwarding on, the receiver's namespace a default route through
-- the egress NIC, and the generator a route to the netns networks
-- through the ingress NIC.
--
-- configure(r, cfg, namespaces) -> nics { generator, forwarder_ingress,
-- forwarder_egress, receiver }. namespaces(r) builds the namespace side
-- and returns the egress and receiver NICs (default: veth_namespace, a
-- namespace host2ns on host2 behind the veth pair pn0 <-> np0).
local lnst = require "lnst"
local enrt = require "lnst.enrt"
local d = require "lnst.device"
local p = require "lnst.param"

local M = {}

M.PARAMS = {
  netns_ipv4 = p.network { family = 4, default = "203.0.113.0/24", doc = "network between host2 and its namespace" },
  netns_ipv6 = p.network { family = 6, default = "2001:db8:102::/64", doc = "the same, IPv6" },
}

-- SimpleNetnsRouter's namespace: host2.host2ns with np0, host2.pn0 its peer.
function M.veth_namespace(r)
  local h2 = r.hosts.host2
  h2.host2ns = lnst.netns()
  local a, b = d.veth_pair { name = "pn0", peer_name = "np0" }
  h2.pn0 = a
  h2.host2ns.np0 = b
  return h2.pn0, h2.host2ns.np0
end

function M.configure(r, cfg, namespaces)
  local P, h1, h2 = r.params, r.hosts.host1, r.hosts.host2
  for i, h in ipairs { h1, h2 } do
    cfg:ip_add(h.eth0, enrt.addr(P.net_ipv4, i))
    cfg:ip_add(h.eth0, enrt.addr(P.net_ipv6, i))
    h.eth0:up_and_wait()
  end
  local egress, receiver = (namespaces or M.veth_namespace)(r)
  cfg:ip_add(egress, enrt.addr(P.netns_ipv4, 1))
  cfg:ip_add(egress, enrt.addr(P.netns_ipv6, 1))
  cfg:ip_add(receiver, enrt.addr(P.netns_ipv4, 2))
  cfg:ip_add(receiver, enrt.addr(P.netns_ipv6, 2))
  egress:up()
  receiver:up_and_wait()
  h2:sysctl_set("net.ipv4.ip_forward", 1)
  h2:sysctl_set("net.ipv6.conf.all.forwarding", 1)
  local ns = receiver.host
  ns:route_add { dst = "default", via = enrt.strip(enrt.addr(P.netns_ipv4, 1)) }
  ns:route_add { dst = "default", via = enrt.strip(enrt.addr(P.netns_ipv6, 1)), family = "ipv6" }
  h1.eth0:route_add { dst = P.netns_ipv4, via = enrt.strip(enrt.addr(P.net_ipv4, 2)) }
  h1.eth0:route_add { dst = P.netns_ipv6, via = enrt.strip(enrt.addr(P.net_ipv6, 2)) }
  cfg.pairs = { { h1.eth0, receiver } }
  cfg.devs = { h1.eth0, h2.eth0 }
  return { generator = h1.eth0, forwarder_ingress = h2.eth0, forwarder_egress = egress, receiver = receiver }
end

return M
