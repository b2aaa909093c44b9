-- Ip6GreNetnsTunnel (LNST's Ip6GreNetnsTunnelRecipe): on each host a bridge
-- br0 joins eth0 and one end of a veth pair whose other end is in a
-- namespace; in the namespace the veth carries the IPv6 carrier address
-- and an ip6gre device the tunnel addresses (IPv4 and IPv6). Pings are
-- checked by a capture of GRE on the hosts' eth0.
--   lnst run --vm recipes/enrt/ip6gre_netns_tunnel.lua -p perf_duration=5
local lnst = require "lnst"
local enrt = require "lnst.enrt"
local tunnel = require "lnst.enrt.tunnel"
local d = require "lnst.device"

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
  carrier = function(r, cfg)
    local P, out = r.params, {}
    for i, h in ipairs { r.hosts.host1, r.hosts.host2 } do
      h.br0 = d.bridge {}
      h.eth0.master = h.br0
      h.eth0:up()
      h.newns = lnst.netns()
      local a, b = d.veth_pair { name = "veth0", peer_name = "veth1" }
      h.veth0 = a
      h.newns.veth1 = b
      h.veth0.master = h.br0
      h.veth0:up()
      h.br0:up()
      cfg:ip_add(h.newns.veth1, enrt.addr(P.net_ipv6, i))
      h.newns.veth1:up_and_wait()
      out[i] = h.newns.veth1
    end
    cfg.devs = { r.hosts.host1.eth0, r.hosts.host2.eth0 }
    return out[1], out[2]
  end,
  tunnel = function(r, cfg, c1, c2)
    local P, cs, out = r.params, { c1, c2 }, {}
    for i, c in ipairs(cs) do
      local ns = c.host
      ns.gre0 = d.ip6gre { ["local"] = enrt.strip(cfg:ips(c, "ipv6")[1]),
        remote = enrt.strip(cfg:ips(cs[3 - i], "ipv6")[1]) }
      local v4, v6 = tunnel.tunnel_addrs(P, i)
      cfg:ip_add(ns.gre0, v4)
      cfg:ip_add(ns.gre0, v6)
      ns.gre0:up()
      out[i] = ns.gre0
    end
    for i = 1, 2 do
      local _, _, n4, n6 = tunnel.tunnel_addrs(P, 3 - i)
      out[i]:route_add { dst = n4 }
      out[i]:route_add { dst = n6 }
    end
    cfg.capture_dev = function(c) return c.destination == out[1].host and r.hosts.host1.eth0 or r.hosts.host2.eth0 end
    return out[1], out[2]
  end,
  capture = function(_, c)
    return { p_filter = "ip6 proto gre",
      grep_for = { c.ipver == "ipv6" and "ICMP6, echo request" or "ICMP echo request" } }
  end,
}
