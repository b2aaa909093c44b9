-- CTInsertionRateNftables (LNST's CTInsertionRateNftablesRecipe): conntrack
-- insertion rate: tcp_crr transactions (a new connection each, msg size 1)
-- from host1 to host2, whose nftables ruleset makes conntrack track every
-- connection (the conntrack mixin). Only the generator's transaction rate
-- is evaluated (the server side of tcp_crr counts nothing upstream).
-- Built by lnst.enrt.ct.
--   lnst run recipes/enrt/ct_insertion_rate_nftables.lua -p perf_duration=10
return require("lnst.enrt.ct").recipe {
  name = "CTInsertionRateNftables",
  description = "Conntrack entry insertion rate (tcp_crr) against a host tracking every connection",
}
