-- CTFulltableInsertionRate (LNST's CTFulltableInsertionRateRecipe): conntrack
-- insertion rate: tcp_crr transactions (a new connection each, msg size 1)
-- from host1 to host2, whose nftables ruleset makes conntrack track every
-- connection (the conntrack mixin), while long_lived_conns TCP connections
-- (the long_lived mixin) keep the conntrack table full. Only the generator's transaction rate
-- is evaluated (the server side of tcp_crr counts nothing upstream).
-- Built by lnst.enrt.ct.
--   lnst run recipes/enrt/ct_fulltable_insertion_rate.lua -p long_lived_conns=10000 -p perf_duration=10
return require("lnst.enrt.ct").recipe {
  name = "CTFulltableInsertionRate",
  description = "Conntrack insertion rate (tcp_crr) with a conntrack table filled by long-lived connections",
  mixins = { "long_lived" },
}
