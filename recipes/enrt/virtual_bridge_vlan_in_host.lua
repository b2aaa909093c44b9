-- VirtualBridgeVlanInHost (LNST's VirtualBridgeVlanInHostRecipe): host1's
-- bridge br0 joins tap0 (guest1's link) and vlan0 (vlan_id on eth0);
-- host2 has vlan0 on eth0; guest1's eth0 is untagged. Pings and flows
-- guest1.eth0 <-> host2.vlan0. Guests: see lnst.enrt.virtual_bridge.
--   lnst run --vm recipes/enrt/virtual_bridge_vlan_in_host.lua -p perf_duration=5
return require("lnst.enrt.virtual_bridge").single {
  name = "VirtualBridgeVlanInHost",
  description = "A guest behind a host's bridge, the vlan made in the host",
  vlan_in = "host",
}
