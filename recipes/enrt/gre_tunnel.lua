-- GreTunnel (LNST's GreTunnelRecipe): a gre device per host (local/remote
-- carrier addresses) carrying IPv4 and IPv6; routes to the peer's tunnel
-- network; pings checked by a capture of GRE on the carrier.
--   lnst run --vm recipes/enrt/gre_tunnel.lua -p perf_duration=5
local tunnel = require "lnst.enrt.tunnel"
local d = require "lnst.device"

return tunnel.p2p {
  name = "GreTunnel",
  description = "GRE tunnel between two hosts over an IPv4 carrier",
  requires = { kinds = { "gre" }, tools = { "tcpdump" } },
  carrier = "ipv4",
  device = function(_, _, _, loc, rem) return d.gre { ["local"] = loc, remote = rem } end,
  capture = function(_, c)
    return { p_filter = "proto gre", grep_for = { c.ipver == "ipv6" and "ICMP6, echo request" or "ICMP echo request" } }
  end,
}
