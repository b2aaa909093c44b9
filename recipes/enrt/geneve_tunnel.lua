-- GeneveTunnel (LNST's GeneveTunnelRecipe): a geneve device id 1234 per host
-- (remote = the peer's carrier address, IPv4 or IPv6 carrier by
-- carrier_ipversion); capture of Geneve (UDP 6081) on the carrier.
--   lnst run --vm recipes/enrt/geneve_tunnel.lua -p carrier_ipversion=ipv4 -p perf_duration=5
local tunnel = require "lnst.enrt.tunnel"
local d = require "lnst.device"

return tunnel.p2p {
  name = "GeneveTunnel",
  description = "Geneve tunnel between two hosts",
  requires = { kinds = { "geneve" }, tools = { "tcpdump" } },
  device = function(_, _, _, _, rem) return d.geneve { id = 1234, remote = rem } end,
  capture = function(_, c) -- tcpdump decodes Geneve: the inner echo request, as upstream
    return { p_filter = "udp dst port 6081",
      grep_for = { c.ipver == "ipv6" and "ICMP6, echo request" or "ICMP echo request" } }
  end,
}
