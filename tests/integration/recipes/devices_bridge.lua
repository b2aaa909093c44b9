-- Soft devices on real hosts: a bridge with the recipe NIC and one end of a
-- veth pair as ports, the other end in a namespace; traffic from the
-- namespace through the bridge to the other host. Bridge options, master
-- and slaves (read from the device table), FDB entries and port flags are
-- checked against what iproute2 reads from the kernel.
local lnst = require "lnst"
local d = lnst.device

local function has(job, text) return job.stdout:find(text, 1, true) ~= nil end

return lnst.recipe {
  name = "DevicesBridge",
  hosts = { h1 = { eth0 = { network = "n" } }, h2 = { eth0 = { network = "n" } } },
  test = function(r)
    local h1, h2 = r.hosts.h1, r.hosts.h2
    h1.br0 = d.bridge { stp_state = 0, ageing_time = 30000, forward_delay = 200 }
    h1.eth0.master = h1.br0
    local a, b = d.veth_pair { name = "va", peer_name = "vb" }
    h1.va = a
    h1.br0:slave_add(a)
    h1.ns1 = lnst.netns()
    h1.ns1.vb = b
    r:check(h1.br0.kind == "bridge" and h1.br0.name == "t_br0", "default name t_br0 for a bridge")
    r:check(h1.eth0.master == h1.br0 and h1.va.master == h1.br0, "eth0 and va have master t_br0")
    r:check(#h1.br0:slaves() == 2, "t_br0 has two slaves")
    local j = h1:run({ "ip", "-d", "link", "show", "t_br0" })
    r:check(has(j, "stp_state 0") and has(j, "ageing_time 30000") and has(j, "forward_delay 200"),
      "bridge options as created")

    h1.br0:up(); h1.eth0:up(); h1.va:up()
    h1.ns1.vb:ip_add("198.51.100.11/24")
    h1.ns1.vb:up()
    h2.eth0:ip_add("198.51.100.2/24")
    h2.eth0:up()
    h1.ns1:run({ "ping", "-c", "3", "-i", "0.2", "-W", "2", "198.51.100.2" })

    -- FDB: a static entry on a port, then gone again
    h1.eth0:fdb_add("02:00:00:00:00:99")
    j = h1:run({ "bridge", "fdb", "show", "dev", "eth0" })
    r:check(has(j, "02:00:00:00:00:99 master t_br0 static"), "static FDB entry on eth0")
    local found = false
    for _, e in ipairs(h1.eth0:fdb()) do
      if e.hwaddr == "02:00:00:00:00:99" then found = e.state == "static" and e.master end
    end
    r:check(found, "fdb() lists it as static, in the bridge's table")
    h1.eth0:fdb_del("02:00:00:00:00:99")
    j = h1:run({ "bridge", "fdb", "show", "dev", "eth0" })
    r:check(not has(j, "02:00:00:00:00:99"), "FDB entry deleted")

    -- port flags
    h1.va:bridge_port_set { learning = false, flood = false, cost = 7 }
    j = h1:run({ "bridge", "-d", "link", "show", "dev", "va" })
    r:check(has(j, "learning off") and has(j, "flood off") and has(j, "cost 7"), "port flags of va set")
    local p = h1.va:bridge_port()
    r:check(p.learning == false and p.flood == false and p.cost == 7 and p.mcast_flood == true,
      "bridge_port() reads them back")

    h1.br0:slave_del(h1.va)
    r:check(h1.va.master == nil, "va released")
    h1.eth0.master = nil
    r:check(h1.eth0.master == nil, "eth0 released")
  end,
}
