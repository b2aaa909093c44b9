-- L2TPTunnel (LNST's L2TPTunnelRecipe): an L2TPv3 tunnel (id 1000 on both
-- ends, l2tp_encapsulation udp with ports 5000 or ip) between host1.eth0
-- and host2.eth0 (carrier_ipversion), one session (id 2000) with an
-- Ethernet device l2tp_session1 on each host, tunnel_net_ipv4 .1/.2 on
-- them. Pings are checked by a capture of the encapsulated packets on
-- host2.eth0.
--   lnst run --vm recipes/enrt/l2tp_tunnel.lua -p l2tp_encapsulation=udp -p perf_duration=5
local enrt = require "lnst.enrt"
local tunnel = require "lnst.enrt.tunnel"
local d = require "lnst.device"
local p = require "lnst.param"

local params = {
  carrier_ipversion = p.choice { choices = { "ipv4", "ipv6" }, default = "ipv4",
    doc = "IP version of the carrier network" },
  l2tp_encapsulation = p.choice { choices = { "udp", "ip" }, mandatory = true, doc = "L2TP encapsulation" },
}
for k, v in pairs(tunnel.PARAMS) do params[k] = v end

return tunnel.recipe {
  name = "L2TPTunnel",
  description = "An L2TPv3 tunnel with one Ethernet session between two hosts",
  requires = { kinds = { "l2tp" }, tools = { "tcpdump" }, features = { "l2tp" } },
  hosts = {
    host1 = { eth0 = { network = "net1" } },
    host2 = { eth0 = { network = "net1" } },
  },
  params = params,
  defaults = { ip_versions = { "ipv4" } },
  mixins = { "common_hw", "perf_reverse", "drop_caches", "perf_tweaks" },
  carrier = function(r, cfg)
    return tunnel.simple_carrier(r, cfg, { [r.params.carrier_ipversion] = true })
  end,
  tunnel = function(r, cfg, c1, c2)
    local P, fam = r.params, r.params.carrier_ipversion
    local cs, out = { c1, c2 }, {}
    for i, c in ipairs(cs) do
      local h = c.host
      h:l2tp_tunnel_add { tunnel_id = 1000, peer_tunnel_id = 1000, encap = P.l2tp_encapsulation,
        ["local"] = enrt.strip(cfg:ips(c, fam)[1]), remote = enrt.strip(cfg:ips(cs[3 - i], fam)[1]),
        udp_sport = P.l2tp_encapsulation == "udp" and 5000 or nil,
        udp_dport = P.l2tp_encapsulation == "udp" and 5000 or nil }
      h.l2tp_session1 = d.l2tp_session { tunnel_id = 1000, session_id = 2000, peer_session_id = 2000 }
      h.l2tp_session1:up()
      out[i] = h.l2tp_session1
    end
    for i, dev in ipairs(out) do cfg:ip_add(dev, enrt.addr(P.tunnel_net_ipv4, i)) end
    cfg.l2tp = { fam = fam, encap = P.l2tp_encapsulation, src = enrt.strip(cfg:ips(c1, fam)[1]),
      dst = enrt.strip(cfg:ips(c2, fam)[1]) }
    cfg.devs = { c1, c2 }
    return out[1], out[2]
  end,
  -- the carrier packets host1 -> host2: "IP 198.51.100.1.5000 > 198.51.100.2.5000: UDP" or "... ip-proto-115"
  capture = function(cfg)
    local t = cfg.l2tp
    local ipw = t.fam == "ipv4" and "IP" or "IP6"
    local function esc(s) return (s:gsub("[%.%-:]", "%%%0")) end
    if t.encap == "ip" then
      return { p_filter = (t.fam == "ipv4" and "ip" or "ip6") .. " proto 115",
        grep_for = { ipw .. " " .. esc(t.src) .. " > " .. esc(t.dst) .. ": *ip%-proto%-115" } }
    end
    return { p_filter = "udp", grep_for = { ipw .. " " .. esc(t.src) .. "%.%d+ > " .. esc(t.dst) .. "%.%d+: *UDP" } }
  end,
}
