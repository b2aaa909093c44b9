-- GreTunnelOverMacvlan (LNST's GreTunnelOverMacvlanRecipe): the carrier is
-- a macvlan (bridge mode) on eth0 of both hosts; a gre tunnel over it
-- carries IPv4 and IPv6; pings checked by a capture of GRE on the macvlan.
--   lnst run --vm recipes/enrt/gre_tunnel_over_macvlan.lua -p perf_duration=5
local enrt = require "lnst.enrt"
local tunnel = require "lnst.enrt.tunnel"
local d = require "lnst.device"

return tunnel.p2p {
  name = "GreTunnelOverMacvlan",
  description = "GRE tunnel over a macvlan between two hosts",
  requires = { kinds = { "macvlan", "gre" }, tools = { "tcpdump" } },
  carrier = "ipv4",
  carrier_fn = function(r, cfg)
    local P, out = r.params, {}
    for i, h in ipairs { r.hosts.host1, r.hosts.host2 } do
      -- eth0 has no address, but with arp_ignore 0 it answers ARP for the
      -- macvlan's too, with its own MAC: when that answer wins, the peer's
      -- GRE packets are received by eth0, not the macvlan, and the capture
      -- on the macvlan sees none of them
      h:sysctl_set("net.ipv4.conf." .. h.eth0.name .. ".arp_ignore", 1)
      h.eth0:up()
      h.mvlan0 = d.macvlan { realdev = h.eth0, mode = "bridge" }
      cfg:ip_add(h.mvlan0, enrt.addr(P.net_ipv4, i))
      h.mvlan0:up_and_wait()
      out[i] = h.mvlan0
    end
    cfg.devs = { r.hosts.host1.eth0, r.hosts.host2.eth0 }
    return out[1], out[2]
  end,
  device = function(_, _, _, loc, rem) return d.gre { ["local"] = loc, remote = rem } end,
  capture = function(_, c)
    return { p_filter = "proto gre", grep_for = { c.ipver == "ipv6" and "ICMP6, echo request" or "ICMP echo request" } }
  end,
}
