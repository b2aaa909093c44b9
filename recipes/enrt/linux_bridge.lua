-- LinuxBridge (LNST's LinuxBridgeRecipe): on both hosts a bridge br0 with
-- eth0 as its port; addresses on br0; offloads set on eth0.
--   lnst run recipes/enrt/linux_bridge.lua -p perf_duration=5
local enrt = require "lnst.enrt"
local d = require "lnst.device"

return enrt.recipe {
  name = "LinuxBridge",
  description = "Ping and iperf3 between two hosts through a Linux bridge on each",
  requires = { kinds = { "bridge" } },
  hosts = {
    host1 = { eth0 = { network = "net1" } },
    host2 = { eth0 = { network = "net1" } },
  },
  mixins = { "offload", "common_hw", "perf_reverse", "drop_caches", "perf_tweaks" },
  defaults = { offload_combinations = enrt.OFFLOADS5 },
  configure = function(r, cfg)
    local P, brs = r.params, {}
    for i, h in ipairs { r.hosts.host1, r.hosts.host2 } do
      h.br0 = d.bridge {}
      h.eth0.master = h.br0
      h.eth0:up()
      cfg:ip_add(h.br0, enrt.addr(P.net_ipv4, i))
      cfg:ip_add(h.br0, enrt.addr(P.net_ipv6, i))
      h.br0:up_and_wait()
      brs[i] = h.br0
    end
    cfg.pairs = { { brs[1], brs[2] } }
    cfg.devs = { r.hosts.host1.eth0, r.hosts.host2.eth0 }
  end,
}
