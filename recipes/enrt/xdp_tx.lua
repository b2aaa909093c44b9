-- XDPTx (LNST's XDPTxRecipe): host1 floods host2.eth0 (pktgen), where an
-- XDP program sends every packet back out (xdp-bench tx). See
-- lnst.enrt.xdp for what runs here and what is skipped.
--   lnst run recipes/enrt/xdp_tx.lua
local xdp = require "lnst.enrt.xdp"

return xdp.recipe {
  name = "XDPTx",
  description = "XDP_TX rate on host2.eth0 under a pktgen flood from host1",
  command = "tx",
}
