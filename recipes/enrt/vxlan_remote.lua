-- VxlanRemote (LNST's VxlanRemoteRecipe): carrier addresses on eth0 from
-- net_ipv4, a vxlan device (id 1, unicast remote = the peer) on each host
-- with addresses from vxlan_net_ipv4/vxlan_net_ipv6; pings and flows over
-- the vxlan devices, offloads on eth0.
--   lnst run recipes/enrt/vxlan_remote.lua -p perf_duration=5
local enrt = require "lnst.enrt"
local d = require "lnst.device"
local p = require "lnst.param"

return enrt.recipe {
  name = "VxlanRemote",
  description = "Unicast vxlan between two hosts",
  requires = { kinds = { "vxlan" } },
  hosts = {
    host1 = { eth0 = { network = "net1" } },
    host2 = { eth0 = { network = "net1" } },
  },
  mixins = { "offload", "common_hw", "perf_reverse", "drop_caches", "perf_tweaks" },
  params = {
    vxlan_net_ipv4 = p.network { family = 4, default = "203.0.113.0/24", doc = "addresses on the vxlan devices" },
    vxlan_net_ipv6 = p.network { family = 6, default = "2001:db8:100::/64", doc = "addresses on the vxlan devices" },
  },
  defaults = { offload_combinations = enrt.OFFLOADS5 },
  configure = function(r, cfg)
    local P, hs, vx = r.params, { r.hosts.host1, r.hosts.host2 }, {}
    for i, h in ipairs(hs) do
      cfg:ip_add(h.eth0, enrt.addr(P.net_ipv4, i))
      h.eth0:up_and_wait()
    end
    for i, h in ipairs(hs) do
      h.vxlan0 = d.vxlan { vxlan_id = 1, realdev = h.eth0, dst_port = 4789,
        remote = enrt.strip(enrt.addr(P.net_ipv4, 3 - i)) }
      cfg:ip_add(h.vxlan0, enrt.addr(P.vxlan_net_ipv4, i))
      cfg:ip_add(h.vxlan0, enrt.addr(P.vxlan_net_ipv6, i))
      h.vxlan0:up()
      vx[i] = h.vxlan0
    end
    cfg.pairs = { { vx[1], vx[2] } }
    cfg.devs = { hs[1].eth0, hs[2].eth0 }
  end,
}
