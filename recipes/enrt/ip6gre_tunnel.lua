-- Ip6GreTunnel (LNST's Ip6GreTunnelRecipe): an ip6gre device per host over
-- an IPv6 carrier, carrying IPv4 and IPv6; capture of GRE on the carrier.
--   lnst run --vm recipes/enrt/ip6gre_tunnel.lua -p perf_duration=5
local tunnel = require "lnst.enrt.tunnel"
local d = require "lnst.device"

return tunnel.p2p {
  name = "Ip6GreTunnel",
  description = "ip6gre tunnel between two hosts over an IPv6 carrier",
  requires = { kinds = { "ip6gre" }, tools = { "tcpdump" } },
  carrier = "ipv6",
  device = function(_, _, _, loc, rem) return d.ip6gre { ["local"] = loc, remote = rem } end,
  capture = function(_, c)
    local inner = c.ipver == "ipv6" and "ICMP6, echo request" or "ICMP echo request"
    return { p_filter = tunnel.ip6_proto_filter(47), grep_for = { inner } } -- GRE, encaplimit or not
  end,
}
