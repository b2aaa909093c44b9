-- lnst.enrt.ipsec: LNST's IPsec recipes (IpsecEspAeadRecipe,
-- IpsecEspAhCompRecipe). host1.eth0 and host2.eth0 get addresses in two
-- different networks (net1_ipv4/net1_ipv6 .1 on host1, net2_* .1 on
-- host2) with host routes to each other through eth0; each
-- sub-configuration (the ipsec mixin: IP version x algorithm) sets up xfrm
-- states and policies between the two addresses, pings once host1 ->
-- host2 with a capture on host2.eth0 proving the packets were protected
-- (o.capture), and measures host1 -> host2 flows of that IP version.
-- recipe(o): name, description, requires, params, algorithms(P) -> list
-- of { desc, ... }, commands(P, alg, ip1, ip2) -> { host1's, host2's },
-- capture(P, ping_conf) -> { p_filter, grep_for, p_min }, after_ping(r,
-- cfg, ping_conf) (further pings), configure_extra(r, cfg).
local enrt = require "lnst.enrt"
local ipsec = require "lnst.enrt.mixins.ipsec"
local tunnel = require "lnst.enrt.tunnel"
local p = require "lnst.param"

local M = {}

M.PARAMS = {
  net1_ipv4 = p.network { family = 4, default = "198.51.100.0/24", doc = "host1's network" },
  net1_ipv6 = p.network { family = 6, default = "2001:db8:1::/64", doc = "host1's network, IPv6" },
  net2_ipv4 = p.network { family = 4, default = "203.0.113.0/24", doc = "host2's network" },
  net2_ipv6 = p.network { family = 6, default = "2001:db8:2::/64", doc = "host2's network, IPv6" },
}

function M.configure(r, cfg)
  local P, h1, h2 = r.params, r.hosts.host1, r.hosts.host2
  for _, hn in ipairs { { h1, "net1" }, { h2, "net2" } } do
    local h, net = hn[1], hn[2]
    h.eth0:down()
    cfg:ip_add(h.eth0, enrt.addr(P[net .. "_ipv4"], 1))
    cfg:ip_add(h.eth0, enrt.addr(P[net .. "_ipv6"], 1))
    h.eth0:up_and_wait()
  end
  for _, pair in ipairs { { h1, h2 }, { h2, h1 } } do
    for _, a in ipairs(cfg:ips(pair[2].eth0)) do
      pair[1].eth0:route_add { dst = enrt.strip(a) .. (enrt.family(a) == "ipv6" and "/128" or "/32") }
    end
  end
  cfg.pairs = { { h1.eth0, h2.eth0 } }
  cfg.devs = { h1.eth0, h2.eth0 }
  cfg.capture_dev = function(c) return c.destination_dev end
end

function M.recipe(o)
  local params = {}
  for k, v in pairs(M.PARAMS) do params[k] = v end
  for k, v in pairs(o.params or {}) do params[k] = v end
  local capture_ping = tunnel.capture_ping { capture = function(cfg, c) return o.capture(cfg.params, c) end }
  return enrt.recipe {
    name = o.name,
    description = o.description,
    requires = o.requires,
    hosts = { host1 = { eth0 = { network = "net1" } }, host2 = { eth0 = { network = "net1" } } },
    mixins = { "ipsec", "common_hw", "perf_reverse", "drop_caches", "perf_tweaks" },
    params = params,
    configure = function(r, cfg)
      M.configure(r, cfg)
      cfg.params = r.params
      cfg.ipsec = { endpoints = cfg.pairs[1], algorithms = o.algorithms(r.params), commands = o.commands }
      for _, a in ipairs(cfg.ipsec.algorithms) do
        cfg:note(string.format("Configured IPsec %s mode with %s", r.params.ipsec_mode, a.desc))
      end
      if o.configure_extra then o.configure_extra(r, cfg) end
    end,
    deconfigure = o.deconfigure,
    ping_test = function(r, cfg, list)
      local l = ipsec.current_pings(cfg, list)
      if not l then return end
      capture_ping(r, cfg, l)
      if o.after_ping then o.after_ping(r, cfg, l[1], capture_ping) end
    end,
  }
end

return M
