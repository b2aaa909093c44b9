-- VirtualBridgeVlanInGuestMirrored (LNST's
-- VirtualBridgeVlanInGuestMirroredRecipe): on both hosts a bridge br0
-- joins eth0 and tap0 (the guest's link); the guests make vlan0 (vlan_id)
-- on their eth0. Pings and flows guest1.vlan0 <-> guest2.vlan0. Guests:
-- see lnst.enrt.virtual_bridge.
--   lnst run --vm recipes/enrt/virtual_bridge_vlan_in_guest_mirrored.lua -p perf_duration=5
return require("lnst.enrt.virtual_bridge").single {
  name = "VirtualBridgeVlanInGuestMirrored",
  description = "A guest behind each host's bridge, the vlan made in the guests",
  vlan_in = "guest",
  mirrored = true,
}
