-- GreTunnelOverBond (LNST's GreTunnelOverBondRecipe): the carrier is bond0
-- (eth0, eth1; bonding_mode, miimon_value) on both hosts; a gre tunnel
-- over it carries IPv4 and IPv6; pings checked by a capture of GRE on bond0.
--   lnst run --vm recipes/enrt/gre_tunnel_over_bond.lua -p perf_duration=5
local enrt = require "lnst.enrt"
local tunnel = require "lnst.enrt.tunnel"
local bonding = require "lnst.enrt.mixins.bonding"
local d = require "lnst.device"

return tunnel.p2p {
  name = "GreTunnelOverBond",
  description = "GRE tunnel over a bond of two NICs on both hosts",
  requires = { kinds = { "bond", "gre" }, tools = { "tcpdump" } },
  carrier = "ipv4",
  hosts = {
    host1 = { eth0 = { network = "net1" }, eth1 = { network = "net1" } },
    host2 = { eth0 = { network = "net1" }, eth1 = { network = "net1" } },
  },
  mixins = { "bonding", "offload", "common_hw", "perf_reverse", "drop_caches", "perf_tweaks" },
  carrier_fn = function(r, cfg)
    local P, out = r.params, {}
    for i, h in ipairs { r.hosts.host1, r.hosts.host2 } do
      local b = bonding.create(h, "bond0", { h.eth0, h.eth1 }, P)
      cfg:ip_add(b, enrt.addr(P.net_ipv4, i))
      b:up_and_wait()
      out[i] = b
    end
    local h1, h2 = r.hosts.host1, r.hosts.host2
    cfg.devs = { h1.eth0, h1.eth1, h2.eth0, h2.eth1 }
    return out[1], out[2]
  end,
  device = function(_, _, _, loc, rem) return d.gre { ["local"] = loc, remote = rem } end,
  capture = function(_, c)
    return { p_filter = "proto gre", grep_for = { c.ipver == "ipv6" and "ICMP6, echo request" or "ICMP echo request" } }
  end,
}
