-- Namespaces on a host: create, run jobs in them, move a NIC in, across and
-- back (the proxy stays valid), ping across, delete one holding a device,
-- and the errors of bad moves and names.
local lnst = require "lnst"

local function fails(r, what, pattern, f, ...)
  local ok, err = pcall(f, ...)
  r:check(not ok and tostring(err):find(pattern) ~= nil,
    string.format("%s fails: %s", what, ok and "it did not" or tostring(err)))
end

return lnst.recipe {
  name = "NetnsMoves",
  hosts = { h1 = { eth0 = { network = "n" } }, h2 = { eth0 = { network = "n" } } },
  test = function(r)
    local h1, h2 = r.hosts.h1, r.hosts.h2
    h1.eth0:ip_add("198.51.100.1/24")
    h1.eth0:up()

    h2.ns1 = lnst.netns()
    local ns1 = h2.ns1
    r:check(tostring(ns1):find("namespace ns1 of host h2") ~= nil, "namespace object: " .. tostring(ns1))
    r:check(#ns1:devices() == 1 and ns1:device("lo") ~= nil, "a new namespace has only lo")
    -- iproute2 sees it inside the host, the machine does not
    local inside = h2:run({ "ip", "netns", "list" })
    r:check(inside.stdout:find("ns1") ~= nil, "ip netns list inside h2 shows ns1")
    local exec = h2:run({ "ip", "netns", "exec", "ns1", "ip", "-o", "link" })
    r:check(exec.passed and exec.stdout:find("lo:") ~= nil, "ip netns exec ns1 works inside h2")
    local outside = h1:run({ "ls", "/run/netns" })
    r:check(not outside.stdout:find("^ns1\n") and not outside.stdout:find("\nns1\n"),
      "the machine's /run/netns does not show h2's ns1")

    -- move the NIC in: the same proxy follows it
    local e = h2.eth0
    local before = e.ifindex
    h2.ns1.eth0 = h2.eth0
    r:check(rawequal(h2.ns1.eth0, e) and rawequal(h2.eth0, e), "the proxy is re-keyed, not replaced")
    r:check(e.host == ns1 and e.enabled and e.state == "down", "moved device is in ns1, enabled, down")
    r:check(h2:device("eth0") == nil, "the root namespace of h2 no longer has eth0")
    r:check(e.driver == "veth", "driver of the moved device: " .. tostring(e.driver))
    r:add_result(true, string.format("ifindex %d in the root namespace, %d in ns1", before, e.ifindex))

    e:ip_add("198.51.100.2/24")
    e:up_and_wait()
    local ping = ns1:run({ "ping", "-c", "1", "-W", "2", "198.51.100.1" })
    r:check(ping.passed, "ping from ns1 across the network")
    local ps = ns1:run({ "ip", "-br", "addr", "show", "eth0" })
    r:check(ps.stdout:find("198.51.100.2/24", 1, true) ~= nil, "jobs in ns1 see ns1's devices")

    -- across to a second namespace, then back to the root namespace
    h2.ns2 = lnst.netns()
    h2.ns2.eth0 = e
    r:check(e.host == h2.ns2 and #e.ips == 0, "moved to ns2 (addresses do not move)")
    e:ip_add("198.51.100.3/24")
    e:up_and_wait()
    r:check(h2.ns2:run({ "ping", "-c", "1", "-W", "2", "198.51.100.1" }).passed, "ping from ns2")
    h2.eth0 = e
    r:check(e.host == h2 and rawequal(h2.eth0, e), "back in the root namespace of h2")
    e:ip_add("198.51.100.4/24")
    e:up_and_wait()
    r:check(h2:run({ "ping", "-c", "1", "-W", "2", "198.51.100.1" }).passed, "ping from h2's root namespace")

    -- deleting a namespace gives back what was moved into it
    h2.ns1.eth0 = e
    h2.ns1 = nil
    r:check(h2.ns1 == nil and e.host == h2 and e.enabled, "netns deletion moved eth0 back")
    r:check(h2:run({ "ip", "netns", "list" }).stdout:find("ns1") == nil, "ns1 is gone from h2")

    -- bad moves and names
    -- (the agent's refusals are asked raw: a failed device operation would be a FAIL record)
    local ok, code, msg = h2:call_raw("dev.set_netns", { ifindex = h2:device("lo").ifindex, netns = "ns2" })
    r:check(not ok and code == "EINVAL" and msg:find("loopback") ~= nil, "moving lo fails: " .. tostring(msg))
    ok, code, msg = h2:call_raw("dev.set_netns", { ifindex = e.ifindex, netns = "nope" })
    r:check(not ok and code == "ENOENT", "moving to a namespace that does not exist fails: " .. tostring(msg))
    ok, code, msg = h2:call_raw("dev.set_netns", { ifindex = e.ifindex, netns = "" })
    r:check(not ok and code == "EINVAL", "moving to where it is fails: " .. tostring(msg))
    ok, code, msg = h2:call_raw("netns.add", { name = "ns2" })
    r:check(not ok and code == "EEXIST", "netns.add of an existing name fails: " .. tostring(msg))
    ok, code, msg = h2.conn:wait(h2.conn:send("dev.list", nil, "nope"))
    r:check(not ok and code == "ENOENT", "a request for a namespace that does not exist fails: " .. tostring(msg))
    fails(r, "moving a device to another host's namespace", "cannot move to h2.ns2",
      function() h2.ns2.x = h1.eth0 end)
    fails(r, "a second ns2", "already has a field", function() h2.ns2 = lnst.netns() end)
    fails(r, "a namespace named eth0", "already has a field", function() h2.eth0 = lnst.netns() end)
    fails(r, "a bad namespace name", "not a valid namespace name", function() h2["-x"] = lnst.netns() end)
    fails(r, "a namespace inside a namespace", "not inside namespace", function() h2.ns2.inner = lnst.netns() end)
    fails(r, "a device op in a deleted namespace", "namespace was deleted", function() ns1.x = e end)
    -- the device stays in ns2 at the end: the agent moves it back and deletes ns2
    h2.ns2.eth0 = e
  end,
}
