-- GeneveLwtTunnel (LNST's GeneveLwtTunnelRecipe): an external geneve device
-- per host, addresses on lo and lightweight-tunnel routes `encap ip id 1234
-- dst <peer>` (ip6 for an IPv6 carrier). IPv6 inside works with static
-- neighbours (l2: lnst.enrt.tunnel); upstream defaults to IPv4 only.
--   lnst run --vm recipes/enrt/geneve_lwt_tunnel.lua -p carrier_ipversion=ipv4 -p perf_duration=5
local tunnel = require "lnst.enrt.tunnel"
local d = require "lnst.device"

return tunnel.p2p {
  name = "GeneveLwtTunnel",
  description = "Lightweight Geneve tunnel (external device, encap routes) between two hosts",
  requires = { kinds = { "geneve" }, tools = { "tcpdump" }, features = { "lwtunnel" } },
  lwt = true, l2 = true,
  device = function() return d.geneve { external = true } end,
  capture = function(_, c) -- tcpdump decodes Geneve: the inner echo request, as upstream
    return { p_filter = "udp dst port 6081",
      grep_for = { c.ipver == "ipv6" and "ICMP6, echo request" or "ICMP echo request" } }
  end,
}
