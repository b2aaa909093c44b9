-- Dummy and VRF devices with traffic: host1 puts eth0 into a VRF (table 10)
-- and has a dummy device with a /32 that host2 reaches through a route via
-- host1's eth0; pings from inside the VRF and to the dummy's address, over
-- IPv4 and IPv6. SKIPPED on a kernel without dummy or vrf.
local lnst = require "lnst"
local p = lnst.param
local d = lnst.device

return lnst.recipe {
  name = "DummyVrf",
  params = { ping_count = p.int { default = 3, min = 1 } },
  hosts = {
    host1 = { eth0 = { network = "net1" } },
    host2 = { eth0 = { network = "net1" } },
  },
  test = function(r)
    r:require { hosts = { "host1" }, kinds = { "dummy", "vrf" } }
    local P = r.params
    local h1, h2 = r.hosts.host1, r.hosts.host2
    h1.vrf = d.vrf { table = 10 }
    h1.vrf:up()
    h1.eth0.master = h1.vrf
    h1.dm = d.dummy {}
    h1.dm.master = h1.vrf
    h1.dm:ip_add("203.0.113.1/32")
    h1.dm:ip_add("2001:db8:9::1/128", { nodad = true })
    h1.dm:up()
    for i, h in ipairs { h1, h2 } do
      h.eth0:ip_add("198.51.100." .. i .. "/24")
      h.eth0:ip_add("2001:db8:1::" .. i .. "/64", { nodad = true })
      h.eth0:up()
    end
    h2:run({ "ip", "route", "add", "203.0.113.1/32", "via", "198.51.100.1" })
    h2:run({ "ip", "-6", "route", "add", "2001:db8:9::1/128", "via", "2001:db8:1::1" })
    local j = h1:run({ "ip", "route", "show", "table", "10" })
    r:check(j.stdout:find("198.51.100.0/24 dev eth0", 1, true) ~= nil, "eth0's route is in the VRF's table 10",
      { routes = j.stdout })
    h1:run({ "ping", "-c", P.ping_count, "-i", "0.2", "-w", "10", "-I", h1.vrf.name, "198.51.100.2" })
    h1:run({ "ping", "-c", P.ping_count, "-i", "0.2", "-w", "10", "-I", h1.vrf.name, "2001:db8:1::2" })
    h2:run({ "ping", "-c", P.ping_count, "-i", "0.2", "-w", "10", "203.0.113.1" })
    h2:run({ "ping", "-c", P.ping_count, "-i", "0.2", "-w", "10", "2001:db8:9::1" })
    h1:run({ "ping", "-c", "1", "-W", "1", "198.51.100.2" }, { expect = false,
      desc = "no route to 198.51.100.2 outside the VRF" })
  end,
}
