-- IpIpTunnel (LNST's IpIpTunnelRecipe): an ipip device per host (ttl 64,
-- tunnel_mode), IPv4 in IPv4; capture of IP protocol 4 on the carrier.
--   lnst run --vm recipes/enrt/ipip_tunnel.lua -p perf_duration=5
local tunnel = require "lnst.enrt.tunnel"
local d = require "lnst.device"
local p = require "lnst.param"

return tunnel.p2p {
  name = "IpIpTunnel",
  description = "IPIP tunnel between two hosts",
  requires = { kinds = { "ipip" }, tools = { "tcpdump" } },
  carrier = "ipv4", inner = { "ipv4" },
  params = { tunnel_mode = p.choice { choices = { "any", "ipip", "mplsip" }, default = "any", doc = "ipip mode" } },
  defaults = { ip_versions = { "ipv4" } },
  device = function(r, _, _, loc, rem)
    return d.ipip { ["local"] = loc, remote = rem, ttl = 64, mode = r.params.tunnel_mode }
  end,
  capture = function() return { p_filter = "ip proto 4", grep_for = { "ICMP echo request" } } end,
}
