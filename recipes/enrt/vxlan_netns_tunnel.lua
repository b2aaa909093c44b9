-- VxlanNetnsTunnel (LNST's VxlanNetnsTunnelRecipe): on each host a bridge
-- br0 joins eth0 and one end of a veth pair whose other end is in a
-- namespace; in the namespace the veth carries the carrier addresses and a
-- vxlan device (id 1234, group 239.1.1.1) the tunnel addresses. Pings are
-- checked by a capture of VXLAN on host2.eth0.
--   lnst run recipes/enrt/vxlan_netns_tunnel.lua -p perf_duration=5
local enrt = require "lnst.enrt"
local tunnel = require "lnst.enrt.tunnel"
local d = require "lnst.device"
local netns_tunnel = require "lnst.enrt.netns_tunnel"

return tunnel.recipe {
  name = "VxlanNetnsTunnel",
  description = "Multicast vxlan between namespaces bridged to the hosts' NICs",
  requires = { kinds = { "vxlan", "bridge", "veth" }, tools = { "tcpdump" } },
  hosts = {
    host1 = { eth0 = { network = "net1" } },
    host2 = { eth0 = { network = "net1" } },
  },
  params = tunnel.PARAMS,
  mixins = { "common_hw", "perf_reverse", "drop_caches", "perf_tweaks" },
  carrier = netns_tunnel.carrier("ipv4"),
  tunnel = function(r, cfg, c1, c2)
    local P, out = r.params, {}
    for i, c in ipairs { c1, c2 } do
      local ns = c.host
      ns.vxlan0 = d.vxlan { vxlan_id = 1234, group = "239.1.1.1", realdev = c, dst_port = 4789 }
      local v4, v6 = tunnel.tunnel_addrs(P, 1)
      cfg:ip_add(ns.vxlan0, enrt.addr(v4:gsub("%.%d+/%d+$", ".0/24"), i))
      cfg:ip_add(ns.vxlan0, (v6:gsub("::1/64$", "::" .. i .. "/64")))
      ns.vxlan0:up()
      out[i] = ns.vxlan0
    end
    netns_tunnel.capture_on_eth0(r, cfg, out[1])
    return out[1], out[2]
  end,
  capture = function(_, c)
    return { p_filter = "udp dst port 4789",
      grep_for = { c.ipver == "ipv6" and "ICMP6, echo request" or "ICMP echo request" } }
  end,
}
