-- Bridge VLAN filtering: ports in VLAN 10 reach each other, a port moved
-- to VLAN 20 does not; vlans() and `bridge vlan show` agree. Needs a kernel
-- with CONFIG_BRIDGE_VLAN_FILTERING (capabilities.link_features).
local lnst = require "lnst"
local d = lnst.device

local function has(job, text) return job.stdout:find(text, 1, true) ~= nil end

return lnst.recipe {
  name = "DevicesBridgeVlan",
  hosts = { h1 = { eth0 = { network = "n" } }, h2 = { eth0 = { network = "n" } } },
  test = function(r)
    r:require { kinds = { "bridge", "veth" }, link_features = { "bridge_vlan_filtering" } }
    local h1, h2 = r.hosts.h1, r.hosts.h2
    h1.br0 = d.bridge { vlan_filtering = true, vlan_default_pvid = 0 }
    local a, b = d.veth_pair { name = "va", peer_name = "vb" }
    h1.va = a
    h1.ns1 = lnst.netns()
    h1.ns1.vb = b
    h1.eth0.master = h1.br0
    h1.va.master = h1.br0
    for _, port in ipairs { h1.eth0, h1.va } do port:vlan_add(10, { pvid = true, untagged = true }) end
    local v = h1.va:vlans()
    r:check(#v == 1 and v[1].vid == 10 and v[1].pvid and v[1].untagged, "va is in VLAN 10, pvid, untagged")
    local j = h1:run({ "bridge", "vlan", "show", "dev", "eth0" })
    r:check(has(j, "10 PVID Egress Untagged"), "bridge vlan show: eth0 in VLAN 10")
    h1.br0:up(); h1.eth0:up(); h1.va:up()
    h1.ns1.vb:ip_add("198.51.100.11/24")
    h1.ns1.vb:up()
    h2.eth0:ip_add("198.51.100.2/24")
    h2.eth0:up()
    h1.ns1:run({ "ping", "-c", "3", "-i", "0.2", "-W", "2", "198.51.100.2" })
    h1.va:vlan_del(10)
    h1.va:vlan_add(20, { pvid = true, untagged = true })
    h1.ns1:run({ "ping", "-c", "2", "-i", "0.2", "-W", "1", "198.51.100.2" },
      { expect = false, desc = "no traffic between VLAN 20 and VLAN 10" })
  end,
}
