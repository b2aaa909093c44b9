-- VirtualBridgeVlanInGuest (LNST's VirtualBridgeVlanInGuestRecipe):
-- host1's bridge br0 joins eth0 and tap0 (guest1's link); guest1 and
-- host2 make vlan0 (vlan_id) on their eth0. Pings and flows guest1.vlan0
-- <-> host2.vlan0. Guests: see lnst.enrt.virtual_bridge.
--   lnst run --vm recipes/enrt/virtual_bridge_vlan_in_guest.lua -p perf_duration=5
return require("lnst.enrt.virtual_bridge").single {
  name = "VirtualBridgeVlanInGuest",
  description = "A guest behind a host's bridge, the vlan made in the guest",
  vlan_in = "guest",
}
