-- Ip6GreNetnsTunnel (LNST's Ip6GreNetnsTunnelRecipe): on each host a bridge
-- br0 joins eth0 and one end of a veth pair whose other end is in a
-- namespace; in the namespace the veth carries the IPv6 carrier address
-- and an ip6gre device the tunnel addresses (IPv4 and IPv6). Pings are
-- checked by a capture of GRE on the hosts' eth0.
--   lnst run --vm recipes/enrt/ip6gre_netns_tunnel.lua -p perf_duration=5
local enrt = require "lnst.enrt"
local tunnel = require "lnst.enrt.tunnel"
local d = require "lnst.device"
local netns_tunnel = require "lnst.enrt.netns_tunnel"

return tunnel.recipe {
  name = "Ip6GreNetnsTunnel",
  description = "ip6gre tunnel between namespaces bridged to the hosts' NICs",
  requires = { kinds = { "ip6gre", "bridge", "veth" }, tools = { "tcpdump" } },
  hosts = {
    host1 = { eth0 = { network = "net1" } },
    host2 = { eth0 = { network = "net1" } },
  },
  params = tunnel.PARAMS,
  mixins = { "common_hw", "perf_reverse", "drop_caches", "perf_tweaks" },
  carrier = netns_tunnel.carrier("ipv6"),
  tunnel = function(r, cfg, c1, c2)
    local P, cs, out = r.params, { c1, c2 }, {}
    for i, c in ipairs(cs) do
      local ns = c.host
      ns.gre6_tunnel = d.ip6gre { ["local"] = enrt.strip(cfg:ips(c, "ipv6")[1]),
        remote = enrt.strip(cfg:ips(cs[3 - i], "ipv6")[1]) }
      local v4, v6 = tunnel.tunnel_addrs(P, i)
      cfg:ip_add(ns.gre6_tunnel, v4)
      cfg:ip_add(ns.gre6_tunnel, v6)
      ns.gre6_tunnel:up()
      out[i] = ns.gre6_tunnel
    end
    for i = 1, 2 do
      local _, _, n4, n6 = tunnel.tunnel_addrs(P, 3 - i)
      out[i]:route_add { dst = n4 }
      out[i]:route_add { dst = n6 }
    end
    netns_tunnel.capture_on_eth0(r, cfg, out[1])
    return out[1], out[2]
  end,
  capture = function(_, c)
    return { p_filter = tunnel.ip6_proto_filter(47), -- GRE, also after the encapsulation limit option
      grep_for = { c.ipver == "ipv6" and "ICMP6, echo request" or "ICMP echo request" } }
  end,
}
