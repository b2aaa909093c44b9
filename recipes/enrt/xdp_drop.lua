-- XDPDrop (LNST's XDPDropRecipe): host1 floods host2.eth0 (pktgen), where
-- an XDP program drops everything (xdp-bench drop). See lnst.enrt.xdp for
-- what runs here and what is skipped.
--   lnst run recipes/enrt/xdp_drop.lua
local xdp = require "lnst.enrt.xdp"

return xdp.recipe {
  name = "XDPDrop",
  description = "XDP drop rate on host2.eth0 under a pktgen flood from host1",
  command = "drop",
}
