-- VxlanMulticast (LNST's VxlanMulticastRecipe): host1 bridges eth0 and tap0
-- (the link to guest1) in br0; host1 (on br0), host2 (on eth0) and guest1
-- (on eth0) each have a vxlan device (id 1, group vxlan_group_ip) with
-- addresses in one network; every machine pings every other (all
-- permutations); flows host1 <-> host2 over vxlan.
--   lnst run recipes/enrt/vxlan_multicast.lua -p perf_duration=5
local enrt = require "lnst.enrt"
local d = require "lnst.device"
local p = require "lnst.param"

return enrt.recipe {
  name = "VxlanMulticast",
  description = "Multicast vxlan among three machines, one behind a bridge",
  requires = { kinds = { "vxlan", "bridge" } },
  hosts = {
    host1 = { eth0 = { network = "net1" }, tap0 = { network = "net2" } },
    host2 = { eth0 = { network = "net1" } },
    guest1 = { eth0 = { network = "net2" } },
  },
  mixins = { "common_hw", "perf_reverse", "drop_caches", "perf_tweaks" },
  params = {
    vxlan_group_ip = p.ip { default = "239.1.1.1", family = 4, doc = "vxlan multicast group" },
    vxlan_net_ipv4 = p.network { family = 4, default = "203.0.113.0/24", doc = "addresses on the vxlan devices" },
    vxlan_net_ipv6 = p.network { family = 6, default = "2001:db8:100::/64", doc = "the same, IPv6" },
  },
  configure = function(r, cfg)
    local P, h1, h2, g1 = r.params, r.hosts.host1, r.hosts.host2, r.hosts.guest1
    h1.br0 = d.bridge {}
    h1.eth0.master = h1.br0
    h1.tap0.master = h1.br0
    h1.eth0:up()
    h1.tap0:up()
    local under = { h1.br0, h2.eth0, g1.eth0 }
    local vx = {}
    for i, dev in ipairs(under) do
      cfg:ip_add(dev, enrt.addr(P.net_ipv4, i))
      dev:up_and_wait()
    end
    for i, dev in ipairs(under) do
      local h = dev.host
      h.vxlan0 = d.vxlan { vxlan_id = 1, group = P.vxlan_group_ip, realdev = dev, dst_port = 4789 }
      cfg:ip_add(h.vxlan0, enrt.addr(P.vxlan_net_ipv4, i))
      cfg:ip_add(h.vxlan0, enrt.addr(P.vxlan_net_ipv6, i))
      h.vxlan0:up()
      vx[i] = h.vxlan0
    end
    cfg.ping_pairs = {}
    for i = 1, 3 do
      for j = 1, 3 do
        if i ~= j then cfg.ping_pairs[#cfg.ping_pairs + 1] = { vx[i], vx[j] } end
      end
    end
    cfg.perf_pairs = { { vx[1], vx[2] } }
    cfg.devs = { h1.eth0, h2.eth0 }
  end,
}
