-- A router host forwarding between two networks (ip_forward through
-- sysctl_set), routes with tables, metrics and several nexthops, policy
-- rules, neighbours, a lightweight-tunnel encap route, and their errors.
local lnst = require "lnst"

local function find(list, pred)
  for _, e in ipairs(list) do
    if pred(e) then return e end
  end
  return nil
end

local function ping(h, dst, expect)
  return h:run({ "ping", "-c", "1", "-W", "1", dst }, { expect = expect })
end

return lnst.recipe {
  name = "Routes",
  hosts = {
    h1 = { eth0 = { network = "net1" } },
    r = { eth0 = { network = "net1" }, eth1 = { network = "net2" } },
    h2 = { eth0 = { network = "net2" } },
  },
  test = function(r)
    local h1, rt, h2 = r.hosts.h1, r.hosts.r, r.hosts.h2
    h1.eth0:ip_add("198.51.100.1/24")
    rt.eth0:ip_add("198.51.100.254/24")
    rt.eth1:ip_add("203.0.113.254/24")
    h2.eth0:ip_add("203.0.113.2/24")
    for _, d in ipairs({ h1.eth0, rt.eth0, rt.eth1, h2.eth0 }) do d:up_and_wait() end

    -- routes through the router
    h1.eth0:route_add { dst = "203.0.113.0/24", via = "198.51.100.254" }
    h2:route_add { dst = "198.51.100.0/24", via = "203.0.113.254", dev = h2.eth0 }
    local got = find(h1:routes(), function(e) return e.dst == "203.0.113.0/24" end)
    r:check(got and got.via == "198.51.100.254" and got.dev == "eth0" and got.proto == "boot",
      "h1 reads its route back", got)
    r:check(#h1.eth0:routes() >= 2, "dev:routes() lists the device's routes")

    -- forwarding is a sysctl of the router
    local old = rt:sysctl_set("net.ipv4.ip_forward", 0)
    r:check(rt:sysctl_get("net.ipv4.ip_forward") == "0", "ip_forward is 0 (it was " .. tostring(old) .. ")")
    ping(h1, "203.0.113.2", false)
    rt:sysctl_set("net.ipv4.ip_forward", 1)
    r:check(rt:sysctl_get("net.ipv4.ip_forward") == "1", "ip_forward is 1")
    r:check(ping(h1, "203.0.113.2").passed, "h1 reaches h2 through the router")

    -- delete and re-add
    h1:route_del { dst = "203.0.113.0/24" }
    r:check(find(h1:routes(), function(e) return e.dst == "203.0.113.0/24" end) == nil, "route deleted")
    ping(h1, "203.0.113.2", false)
    h1.eth0:route_add { dst = "203.0.113.0/24", via = "198.51.100.254", metric = 20 }
    got = find(h1:routes(), function(e) return e.dst == "203.0.113.0/24" end)
    r:check(got and got.metric == 20, "route with metric 20", got)

    -- a table of its own and a rule that uses it
    h1:route_add { dst = "203.0.113.128/25", via = "198.51.100.254", table = 100, metric = 5 }
    got = find(h1:routes { table = 100 }, function(e) return e.dst == "203.0.113.128/25" end)
    r:check(got and got.table == 100 and got.metric == 5, "route in table 100", got)
    r:check(find(h1:routes(), function(e) return e.dst == "203.0.113.128/25" end) == nil,
      "table 100 routes are not in main")
    h1:rule_add { from = "198.51.100.1/32", table = 100, priority = 1000 }
    got = find(h1:rules(), function(e) return e.priority == 1000 end)
    r:check(got and got.from == "198.51.100.1/32" and got.table == 100 and got.action == "lookup",
      "rule read back", got)
    local ip_rule = h1:run({ "ip", "rule", "show" })
    r:check(ip_rule.stdout:find("1000:%s+from 198.51.100.1 lookup 100") ~= nil, "ip rule shows it")
    h1:rule_del { priority = 1000 }
    r:check(find(h1:rules(), function(e) return e.priority == 1000 end) == nil, "rule deleted")

    -- several nexthops with weights
    h1:route_add { dst = "203.0.113.64/26", nexthops = {
      { via = "198.51.100.254", dev = h1.eth0, weight = 3 },
      { via = "198.51.100.253", dev = "eth0" },
    } }
    got = find(h1:routes(), function(e) return e.dst == "203.0.113.64/26" end)
    local nh = got and got.nexthops or {}
    r:check(#nh == 2 and nh[1].via == "198.51.100.254" and nh[1].weight == 3 and nh[2].weight == 1
      and nh[2].dev == "eth0", "multipath route read back", got)
    local ip_route = h1:run({ "ip", "route", "show", "203.0.113.64/26" })
    r:check(ip_route.stdout:find("nexthop via 198.51.100.254 dev eth0 weight 3", 1, true) ~= nil,
      "ip route shows both nexthops")

    -- IPv6
    h1.eth0:ip_add("2001:db8:1::1/64", { nodad = true })
    h1.eth0:route_add { dst = "2001:db8:2::/64", via = "2001:db8:1::fe", metric = 7 }
    got = find(h1:routes { family = "ipv6" }, function(e) return e.dst == "2001:db8:2::/64" end)
    r:check(got and got.via == "2001:db8:1::fe" and got.metric == 7, "IPv6 route read back", got)

    -- neighbours
    h1.eth0:neigh_add { dst = "198.51.100.77", lladdr = "02:00:00:00:00:77" }
    got = find(h1.eth0:neighs(), function(e) return e.dst == "198.51.100.77" end)
    r:check(got and got.lladdr == "02:00:00:00:00:77" and got.state == "permanent", "neighbour read back", got)
    local ip_neigh = h1:run({ "ip", "neigh", "show", "198.51.100.77" })
    r:check(ip_neigh.stdout:find("lladdr 02:00:00:00:00:77 PERMANENT", 1, true) ~= nil, "ip neigh shows it")
    h1.eth0:neigh_del("198.51.100.77")
    r:check(find(h1.eth0:neighs(), function(e) return e.dst == "198.51.100.77" end) == nil, "neighbour deleted")

    -- lightweight tunnel metadata (what external vxlan/geneve/gre devices use)
    local ok, code, msg = h1:call_raw("route.add", { dst = "203.0.113.192/27", ifindex = h1.eth0.ifindex,
      encap = { type = "ip", id = 42, dst = "198.51.100.254", ttl = 5 } })
    if not ok and code == "EOPNOTSUPP" then
      r:add_result(lnst.WARNING, "SKIP lightweight-tunnel route: this kernel lacks it: " .. msg)
    else
      r:check(ok, ok and "encap route added" or ("encap route failed: " .. tostring(msg)))
      got = find(h1:routes(), function(e) return e.dst == "203.0.113.192/27" end)
      local enc = got and got.encap or {}
      r:check(enc.type == "ip" and enc.id == 42 and enc.dst == "198.51.100.254" and enc.ttl == 5,
        "encap route read back", got)
      local shown = h1:run({ "ip", "route", "show", "203.0.113.192/27" })
      r:check(shown.stdout:find("encap ip id 42", 1, true) ~= nil, "ip route shows the encap: " .. shown.stdout)
    end

    -- traffic through external (collect_metadata) vxlan devices, steered by encap routes
    local okl, links = pcall(require, "lnst.links")
    local vxlan = (lnst.device and lnst.device.vxlan) or (okl and links.factories and links.factories.vxlan)
    local has_vxlan = false
    for _, kind in ipairs(h1.capabilities.kinds or {}) do has_vxlan = has_vxlan or kind == "vxlan" end
    if not vxlan or not has_vxlan then
      r:add_result(lnst.WARNING, "SKIP encap routes over vxlan: " ..
        (vxlan and "this kernel has no vxlan" or "this build has no lnst.device.vxlan"))
    else
      h1.vx = vxlan { external = true, dst_port = 4789 }
      rt.vx = vxlan { external = true, dst_port = 4789 }
      h1.vx:ip_add("203.0.113.101/32")
      h1.vx:up()
      rt.vx:ip_add("203.0.113.102/32")
      rt.vx:up()
      h1.vx:route_add { dst = "203.0.113.102/32", encap = { type = "ip", id = 42, dst = "198.51.100.254" } }
      rt.vx:route_add { dst = "203.0.113.101/32", encap = { type = "ip", id = 42, dst = "198.51.100.1" } }
      local counter = { "cat", "/sys/class/net/" .. rt.vx.name .. "/statistics/rx_packets" }
      local rx0 = tonumber(rt:run(counter).stdout) or 0
      r:check(h1:run({ "ping", "-c", "2", "-W", "2", "-I", "203.0.113.101", "203.0.113.102" }).passed,
        "ping through external vxlan devices steered by encap routes")
      local rx1 = tonumber(rt:run(counter).stdout) or 0
      r:check(rx1 - rx0 >= 2, string.format("rt's vxlan device received %d packets", rx1 - rx0))
    end

    -- errors (asked raw where the agent refuses: a failed operation records FAIL)
    ok, code, msg = h1:call_raw("route.add", { dst = "203.0.113.0/24" })
    r:check(not ok and code == "EINVAL" and msg:find("needs 'via'") ~= nil, "a route without a way out: " .. msg)
    ok, code, msg = h1:call_raw("route.add", { dst = "203.0.113.0/24", via = "2001:db8::1" })
    r:check(not ok and code == "EINVAL" and msg:find("IPv6 address but the route is IPv4") ~= nil,
      "a gateway of the wrong family: " .. msg)
    ok, code, msg = h1:call_raw("route.add", { dst = "203.0.113.0/24", via = "198.51.100.254", metric = 20 })
    r:check(not ok and code == "EEXIST" and msg:find("File exists") ~= nil, "the same route twice: " .. msg)
    ok, code, msg = h1:call_raw("route.add", { dst = "203.0.113.0/24", via = "198.51.100.254", colour = 1 })
    r:check(not ok and code == "EINVAL" and msg:find("unknown key 'colour'") ~= nil, "an unknown key: " .. msg)
    ok, code, msg = h1:call_raw("route.del", { dst = "203.0.113.96/27" })
    r:check(not ok and code == "ESRCH" and msg:find("no such route") ~= nil, "deleting a missing route: " .. msg)
    ok, code, msg = h1:call_raw("neigh.add", { ifindex = h1.eth0.ifindex, dst = "198.51.100.78" })
    r:check(not ok and code == "EINVAL" and msg:find("'lladdr' is required") ~= nil,
      "a neighbour without lladdr: " .. msg)
    ok, code, msg = h1:call_raw("sysctl.set", { key = "net/../../etc/passwd", value = "x" })
    r:check(not ok and code == "EINVAL" and msg:find("'..' components are not allowed", 1, true) ~= nil,
      "sysctl outside /proc/sys: " .. msg)
    ok, code, msg = h1:call_raw("sysctl.get", { key = "net.ipv4.no_such_thing" })
    r:check(not ok and code == "ENOENT", "an unknown sysctl: " .. msg)
    local lerr = select(2, pcall(h1.route_add, h1, { dst = "203.0.113.0/24", dev = h2.eth0 }))
    r:check(tostring(lerr):find("is not in h1") ~= nil, "a device of another host: " .. tostring(lerr))
  end,
}
