-- bench/devices.lua: the lnst half of bench/devices.sh. Creates n veth
-- pairs on one agent, all requests sent before any reply is awaited
-- (conn:send returns ids, conn:wait(id) collects), then deletes them the
-- same way, and prints the wall time of each phase and the CPU time the
-- agent and the controller spent in it (on-CPU time from schedstat, so a
-- loaded machine changes it much less than the wall time):
--   lnst n=1000 create_ms=... delete_ms=... cpu_create_ms=A+C cpu_delete_ms=A+C
local lnst = require "lnst"
local core = require "lnst.core"
local p = lnst.param

-- Nanoseconds process pid (single-threaded: the agent, the controller)
-- has spent on a CPU.
local function cpu_ns(pid)
  local f = assert(io.open("/proc/" .. pid .. "/schedstat"))
  local ns = tonumber(f:read("*l"):match("^(%d+)"))
  f:close()
  return ns
end

return lnst.recipe {
  name = "BenchDevices",
  params = { n = p.int { default = 1000, min = 1 } },
  hosts = { h1 = {} },
  test = function(r)
    local h, n = r.hosts.h1, r.params.n
    local conn = rawget(h, "conn")
    local ids, ifindex = {}, {}
    local cpu = {}
    local function mark() cpu[#cpu + 1] = { cpu_ns(h.pid), cpu_ns("self") } end
    mark()
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
    mark()
    for i = 1, n do ids[i] = conn:send("link.del", { ifindex = ifindex[i] }) end
    for i = 1, n do
      local ok, res, msg = conn:wait(ids[i], 300)
      if not ok then error(string.format("delete b%d: %s (%s)", i, msg, res)) end
    end
    local t2 = core.now()
    mark()
    -- the device table followed: nothing of the pairs is left in it
    local left = 0
    for _, d in pairs(h._devs) do
      if d.name:match("^[bc]%d+$") then left = left + 1 end
    end
    if left > 0 then error(left .. " devices still in the controller's table") end
    local function phase(k) -- "agent+controller" milliseconds
      return string.format("%.1f+%.1f", (cpu[k + 1][1] - cpu[k][1]) / 1e6, (cpu[k + 1][2] - cpu[k][2]) / 1e6)
    end
    print(string.format("lnst n=%d create_ms=%.1f delete_ms=%.1f cpu_create_ms=%s cpu_delete_ms=%s", n,
      (t1 - t0) * 1000, (t2 - t1) * 1000, phase(1), phase(2)))
  end,
}
