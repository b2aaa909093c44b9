-- bench/devices.lua: the lnst half of bench/devices.sh. Creates n veth
-- pairs on one agent, all requests sent before any reply is awaited
-- (conn:send returns ids, conn:wait(id) collects), then deletes them the
-- same way, and prints the wall time of each phase:
--   lnst n=1000 create_ms=... delete_ms=...
local lnst = require "lnst"
local core = require "lnst.core"
local p = lnst.param

return lnst.recipe {
  name = "BenchDevices",
  params = { n = p.int { default = 1000, min = 1 } },
  hosts = { h1 = {} },
  test = function(r)
    local h, n = r.hosts.h1, r.params.n
    local conn = rawget(h, "conn")
    local ids, ifindex = {}, {}
    local t0 = core.now()
    for i = 1, n do
      ids[i] = conn:send("link.create", { kind = "veth", name = "b" .. i, peer_name = "c" .. i })
    end
    for i = 1, n do
      local ok, res, msg = conn:wait(ids[i], 120)
      if not ok then error(string.format("create b%d: %s (%s)", i, msg, res)) end
      ifindex[i] = res.ifindex
    end
    local t1 = core.now()
    for i = 1, n do ids[i] = conn:send("link.del", { ifindex = ifindex[i] }) end
    for i = 1, n do
      local ok, res, msg = conn:wait(ids[i], 300)
      if not ok then error(string.format("delete b%d: %s (%s)", i, msg, res)) end
    end
    local t2 = core.now()
    -- the device table followed: nothing of the pairs is left in it
    local left = 0
    for _, d in pairs(h._devs) do
      if d.name:match("^[bc]%d+$") then left = left + 1 end
    end
    if left > 0 then error(left .. " devices still in the controller's table") end
    print(string.format("lnst n=%d create_ms=%.1f delete_ms=%.1f", n, (t1 - t0) * 1000, (t2 - t1) * 1000))
  end,
}
