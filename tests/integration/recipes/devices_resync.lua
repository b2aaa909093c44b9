-- The device table after lost notifications (test_devices_resync.sh): the
-- test changes the host's namespace behind the agent's back while the agent
-- is stopped, so that its notification buffer overflows; the agent must
-- re-read everything and report the differences.
local lnst = require "lnst"
local core = require "lnst.core"
local p = lnst.param

-- Waits until file `path` exists (the test's signal to go on).
local function await(path)
  for _ = 1, 600 do
    local f = io.open(path)
    if f then f:close() return end
    core.sleep(0.1)
  end
  error("no " .. path .. " within 60 s")
end

return lnst.recipe {
  name = "DevicesResync",
  params = { dir = p.str { mandatory = true }, pairs = p.int { default = 3000 } },
  hosts = { h1 = {} },
  test = function(r)
    local h, dir = r.hosts.h1, r.params.dir
    local conn = rawget(h, "conn")
    -- One round trip: events the agent sent before its reply are applied.
    local function devs()
      local ok, _, msg = conn:wait(conn:send("dev.list", {}), 60)
      assert(ok, msg)
      local by = {}
      for _, d in pairs(h._devs) do by[d.name] = d end
      return by
    end
    print("agent pid " .. h.pid)
    io.stdout:flush()
    await(dir .. "/phase1")
    local d = devs()
    r:check(d.z1 ~= nil and d.z2 ~= nil and d.z2.mtu == 1500, "external z1, z2 seen before the stop")
    print("phase1 seen")
    io.stdout:flush()
    await(dir .. "/phase2")
    local n, t0 = 0, core.now()
    repeat
      d, n = devs(), 0
      for name in pairs(d) do if name:match("^[xy]%d+$") then n = n + 1 end end
    until n >= 2 * r.params.pairs or core.now() - t0 > 30
    r:check(n == 2 * r.params.pairs, string.format("%d of %d devices made while stopped are known", n,
      2 * r.params.pairs))
    r:check(d.z1 == nil, "z1, deleted while the agent was stopped, is gone")
    r:check(d.z2 ~= nil and d.z2.mtu == 1400, "z2's mtu changed while stopped is 1400: "
      .. tostring(d.z2 and d.z2.mtu))
  end,
}
