-- GreTunnelOverVlan (LNST's GreTunnelOverVlanRecipe): the carrier is a vlan
-- (vlan_id) on eth0 of both hosts; a gre tunnel over it carries IPv4 and
-- IPv6; pings checked by a capture of GRE on the vlan.
--   lnst run --vm recipes/enrt/gre_tunnel_over_vlan.lua -p perf_duration=5
local enrt = require "lnst.enrt"
local tunnel = require "lnst.enrt.tunnel"
local d = require "lnst.device"
local p = require "lnst.param"

return tunnel.p2p {
  name = "GreTunnelOverVlan",
  description = "GRE tunnel over a vlan between two hosts",
  requires = { kinds = { "vlan", "gre" }, tools = { "tcpdump" } },
  carrier = "ipv4",
  params = { vlan_id = p.int { default = 10, min = 1, max = 4094, doc = "carrier vlan" } },
  carrier_fn = function(r, cfg)
    local P, out = r.params, {}
    for i, h in ipairs { r.hosts.host1, r.hosts.host2 } do
      h.eth0:up()
      h.vlan0 = d.vlan { realdev = h.eth0, vlan_id = P.vlan_id }
      cfg:ip_add(h.vlan0, enrt.addr(P.net_ipv4, i))
      h.vlan0:up_and_wait()
      out[i] = h.vlan0
    end
    cfg.devs = { r.hosts.host1.eth0, r.hosts.host2.eth0 }
    return out[1], out[2]
  end,
  device = function(_, _, _, loc, rem) return d.gre { ["local"] = loc, remote = rem } end,
  capture = function(_, c)
    return { p_filter = "proto gre", grep_for = { c.ipver == "ipv6" and "ICMP6, echo request" or "ICMP echo request" } }
  end,
}
