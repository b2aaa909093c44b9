-- SimpleMacsec (LNST's SimpleMacsecRecipe): per value of macsec_encryption
-- (on, off) a macsec device msec0 over eth0 on both hosts with static
-- keys (the macsec mixin), addresses from net_ipv4/net_ipv6 on it; pings
-- and flows msec0 <-> msec0; msec0 deleted again after each.
--   lnst run --vm recipes/enrt/simple_macsec.lua -p perf_duration=5
local enrt = require "lnst.enrt"

return enrt.recipe {
  name = "SimpleMacsec",
  description = "macsec between two hosts, encrypted and not",
  requires = { kinds = { "macsec" } },
  hosts = {
    host1 = { eth0 = { network = "net1" } },
    host2 = { eth0 = { network = "net1" } },
  },
  mixins = { "macsec", "common_hw", "perf_reverse", "drop_caches", "perf_tweaks" },
  configure = function(r, cfg)
    cfg.devs = { r.hosts.host1.eth0, r.hosts.host2.eth0 }
  end,
}
