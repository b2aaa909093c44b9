-- VXLAN between two hosts over an IPv4 and over an IPv6 underlay (upstream
-- LNST is IPv4-only); IPv4 and IPv6 traffic through both tunnels.
local lnst = require "lnst"
local d = lnst.device

local function has(job, text) return job.stdout:find(text, 1, true) ~= nil end

return lnst.recipe {
  name = "DevicesVxlan",
  hosts = { h1 = { eth0 = { network = "n" } }, h2 = { eth0 = { network = "n" } } },
  test = function(r)
    local h = { r.hosts.h1, r.hosts.h2 }
    for i = 1, 2 do
      local me, peer = i, 3 - i
      local x = h[i]
      x.eth0:ip_add("198.51.100." .. me .. "/24")
      x.eth0:ip_add("2001:db8:1::" .. me .. "/64", { nodad = true })
      x.eth0:up()
      x.vx4 = d.vxlan { vxlan_id = 42, remote = "198.51.100." .. peer, ["local"] = "198.51.100." .. me,
        dst_port = 4789, realdev = x.eth0 }
      x.vx6 = d.vxlan { vxlan_id = 43, remote = "2001:db8:1::" .. peer, ["local"] = "2001:db8:1::" .. me,
        dst_port = 4789, realdev = x.eth0, learning = false }
      x.vx4:ip_add("203.0.113." .. me .. "/26")
      x.vx4:ip_add("2001:db8:4::" .. me .. "/64", { nodad = true })
      x.vx6:ip_add("203.0.113." .. (64 + me) .. "/26")
      x.vx6:ip_add("2001:db8:6::" .. me .. "/64", { nodad = true })
      x.vx4:up()
      x.vx6:up()
    end
    local j = h[1]:run({ "ip", "-d", "link", "show", "t_vxlan1" })
    r:check(has(j, "vxlan id 43 remote 2001:db8:1::2 local 2001:db8:1::1") and has(j, "dstport 4789")
      and has(j, "nolearning"), "IPv6 vxlan as created")
    j = h[1]:run({ "ip", "-d", "link", "show", "t_vxlan0" })
    r:check(has(j, "vxlan id 42 remote 198.51.100.2 local 198.51.100.1"), "IPv4 vxlan as created")
    local function ping(x, addr) x:run({ "ping", "-c", "3", "-i", "0.2", "-W", "2", addr }) end
    ping(h[1], "203.0.113.2")    -- IPv4 over the IPv4 underlay
    ping(h[1], "2001:db8:4::2")  -- IPv6 over the IPv4 underlay
    ping(h[1], "203.0.113.66")   -- IPv4 over the IPv6 underlay
    ping(h[2], "2001:db8:6::1")  -- IPv6 over the IPv6 underlay
  end,
}
