-- Ip6TnlTunnel (LNST's Ip6TnlTunnelRecipe): an ip6tnl device per host over
-- an IPv6 carrier; tunnel_mode ip6ip6 (IPv6 inside) or ipip6 (IPv4 inside).
--   lnst run --vm recipes/enrt/ip6tnl_tunnel.lua -p perf_duration=5
local tunnel = require "lnst.enrt.tunnel"
local d = require "lnst.device"
local p = require "lnst.param"

return tunnel.p2p {
  name = "Ip6TnlTunnel",
  description = "ip6tnl tunnel between two hosts over an IPv6 carrier",
  requires = { kinds = { "ip6tnl" }, tools = { "tcpdump" } },
  carrier = "ipv6", inner = { "ipv4", "ipv6" },
  params = { tunnel_mode = p.choice { choices = { "any", "ipip6", "ip6ip6" }, default = "ip6ip6",
    doc = "ip6tnl mode" } },
  defaults = { ip_versions = { "ipv6" } },
  device = function(r, _, _, loc, rem)
    return d.ip6tnl { ["local"] = loc, remote = rem, ttl = 64, mode = r.params.tunnel_mode }
  end,
  capture = function(_, c)
    -- IPv6 (41) or IPv4 (4) inside, also after the encapsulation limit option
    if c.ipver == "ipv6" then
      return { p_filter = tunnel.ip6_proto_filter(41), grep_for = { "ICMP6, echo request" } }
    end
    return { p_filter = tunnel.ip6_proto_filter(4), grep_for = { "ICMP echo request" } }
  end,
}
