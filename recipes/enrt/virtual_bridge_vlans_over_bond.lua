-- VirtualBridgeVlansOverBond (LNST's VirtualBridgeVlansOverBondRecipe): on
-- each host bond0 (eth0, eth1) carries vlan0 and vlan1, each a port of a
-- bridge (br0, br1) with a tap to a guest (host1: guest1, guest2; host2:
-- guest3, guest4). host1's guests ping host2's; only same-vlan pairs
-- (guest1-guest3, guest2-guest4) must answer. Flows guest1 <-> guest3.
-- Guests: see lnst.enrt.virtual_bridge.
--   lnst run --vm recipes/enrt/virtual_bridge_vlans_over_bond.lua -p perf_duration=5
return require("lnst.enrt.virtual_bridge").over_bond {
  name = "VirtualBridgeVlansOverBond",
  description = "Two vlans over a bond per host, each bridged to a guest",
}
