-- SitTunnel (LNST's SitTunnelRecipe): a sit device per host (ttl 64,
-- tunnel_mode), IPv6 in IPv4; capture of IP protocol 41 on the carrier.
--   lnst run --vm recipes/enrt/sit_tunnel.lua -p perf_duration=5
local tunnel = require "lnst.enrt.tunnel"
local d = require "lnst.device"
local p = require "lnst.param"

return tunnel.p2p {
  name = "SitTunnel",
  description = "SIT (IPv6 in IPv4) tunnel between two hosts",
  requires = { kinds = { "sit" }, tools = { "tcpdump" } },
  carrier = "ipv4", inner = { "ipv6" },
  params = { tunnel_mode = p.choice { choices = { "any", "ip6ip", "ipip", "mplsip" }, default = "any",
    doc = "sit mode" } },
  defaults = { ip_versions = { "ipv6" } },
  device = function(r, _, _, loc, rem)
    return d.sit { ["local"] = loc, remote = rem, ttl = 64, mode = r.params.tunnel_mode }
  end,
  capture = function() return { p_filter = "ip proto 41", grep_for = { "ICMP6, echo request" } } end,
}
