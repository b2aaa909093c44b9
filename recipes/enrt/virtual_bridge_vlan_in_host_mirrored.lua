-- VirtualBridgeVlanInHostMirrored (LNST's
-- VirtualBridgeVlanInHostMirroredRecipe): on both hosts a bridge br0 joins
-- tap0 (the guest's link) and vlan0 (vlan_id on eth0); the guests' eth0
-- are untagged. Pings and flows guest1.eth0 <-> guest2.eth0. Guests: see
-- lnst.enrt.virtual_bridge.
--   lnst run --vm recipes/enrt/virtual_bridge_vlan_in_host_mirrored.lua -p perf_duration=5
return require("lnst.enrt.virtual_bridge").single {
  name = "VirtualBridgeVlanInHostMirrored",
  description = "A guest behind each host's bridge, the vlan made in the hosts",
  vlan_in = "host",
  mirrored = true,
}
