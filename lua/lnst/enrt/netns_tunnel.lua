-- lnst.enrt.netns_tunnel: the carrier of LNST's *NetnsTunnel recipes
-- (VxlanNetnsTunnel, Ip6GreNetnsTunnel): on each host a bridge br0 joins
-- eth0 and veth0, whose peer veth1 is in a namespace newns and carries the
-- carrier address (net_ipv4 or net_ipv6 .1/.2); the tunnel is made in the
-- namespaces, and pings are captured on the hosts' eth0.
--   carrier = netns_tunnel.carrier("ipv6"),
--   tunnel = function(r, cfg, c1, c2) ...; netns_tunnel.capture_on_eth0(r, cfg, t1); return t1, t2 end,
local lnst = require "lnst"
local enrt = require "lnst.enrt"
local d = require "lnst.device"

local M = {}

-- A tunnel.recipe carrier function with the carrier address of family fam.
function M.carrier(fam)
  local key = fam == "ipv6" and "net_ipv6" or "net_ipv4"
  return function(r, cfg)
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
      cfg:ip_add(h.newns.veth1, enrt.addr(P[key], i))
      h.newns.veth1:up_and_wait()
      out[i] = h.newns.veth1
    end
    cfg.devs = { r.hosts.host1.eth0, r.hosts.host2.eth0 }
    return out[1], out[2]
  end
end

-- Pings to host1's tunnel end t1 are captured on host1.eth0, the others on
-- host2.eth0 (the namespaces' traffic crosses the hosts' bridges).
function M.capture_on_eth0(r, cfg, t1)
  cfg.capture_dev = function(c) return c.destination == t1.host and r.hosts.host1.eth0 or r.hosts.host2.eth0 end
end

return M
