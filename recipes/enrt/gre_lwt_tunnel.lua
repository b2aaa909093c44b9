-- GreLwtTunnel (LNST's GreLwtTunnelRecipe): an external gre device per host,
-- addresses on lo and lightweight-tunnel routes `encap ip id 1234 dst <peer>`.
--   lnst run --vm recipes/enrt/gre_lwt_tunnel.lua -p perf_duration=5
local tunnel = require "lnst.enrt.tunnel"
local d = require "lnst.device"

return tunnel.p2p {
  name = "GreLwtTunnel",
  description = "Lightweight GRE tunnel (external device, encap routes) between two hosts",
  requires = { kinds = { "gre" }, tools = { "tcpdump" }, features = { "lwtunnel" } },
  carrier = "ipv4", lwt = true,
  device = function() return d.gre { external = true } end,
  capture = function(_, c)
    return { p_filter = "proto gre", grep_for = { c.ipver == "ipv6" and "ICMP6, echo request" or "ICMP echo request" } }
  end,
}
