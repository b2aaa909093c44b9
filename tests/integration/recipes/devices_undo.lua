-- Everything a run changes on devices is undone at its end: run.end here,
-- in the middle of the run, then the host is read back with ip(8).
local lnst = require "lnst"
local d = lnst.device

return lnst.recipe {
  name = "DevicesUndo",
  hosts = { h1 = { eth0 = { network = "n" } } },
  test = function(r)
    local h1 = r.hosts.h1
    h1.br0 = d.bridge { stp_state = 0 }
    h1.eth0.master = h1.br0
    h1.eth0:bridge_port_set { learning = false }
    h1.eth0:fdb_add("02:00:00:00:00:42")
    local a, b = d.veth_pair { name = "ua", peer_name = "ub", master = h1.br0 }
    h1.ua, h1.ub = a, b
    h1.mv = d.macvlan { realdev = h1.ub }
    h1.tap = d.tap { master = h1.br0 }
    h1.vx = d.vxlan { vxlan_id = 7, remote = "203.0.113.9" }
    h1.vx:fdb_add("00:00:00:00:00:00", { dst = "203.0.113.8", append = true })
    h1.ns1 = lnst.netns()
    local c, e = d.veth_pair { name = "uc", peer_name = "ue" }
    h1.uc = c
    h1.ns1.ue = e
    local res = h1:call("run.end")
    print("undone " .. res.undone)
    local j = h1:run({ "ip", "-br", "link", "show" })
    local names = {}
    for name in j.stdout:gmatch("([^%s@]+)[^\n]*\n") do names[#names + 1] = name end
    table.sort(names)
    print("links after run.end: " .. table.concat(names, " "))
    r:check(table.concat(names, " ") == "eth0 lo", "only lo and eth0 are left")
    j = h1:run({ "ip", "-d", "link", "show", "eth0" })
    r:check(not j.stdout:find("master", 1, true), "eth0 has no master any more")
  end,
}
