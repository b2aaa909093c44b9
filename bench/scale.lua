-- bench/scale.lua: N netns hosts with one NIC each on one network, up and
-- down, with time and memory per step (run by bench/scale.sh through lnst).
local core = require "lnst.core"
local netns = require "lnst.netns"

local function kb(pid, field)
  local f = io.open("/proc/" .. pid .. "/" .. (field == "Pss" and "smaps_rollup" or "status"))
  if not f then return 0 end
  local text = f:read("*a")
  f:close()
  return tonumber(text:match(field .. ":%s+(%d+) kB")) or 0
end

local sizes = {}
for _, a in ipairs(arg) do sizes[#sizes + 1] = tonumber(a) end
print(string.format("%5s %10s %10s %12s %14s %14s %14s", "hosts", "provision", "teardown", "per host",
  "ctl RSS", "agents RSS", "agents PSS"))
for _, n in ipairs(sizes) do
  local reqs = {}
  for i = 1, n do reqs["h" .. i] = { eth0 = { network = "net1" } } end
  local p = netns.new {}
  local t0 = core.now()
  local hosts = p:provision(reqs)
  local t1 = core.now()
  local rss, pss = 0, 0
  for _, h in pairs(hosts) do rss = rss + kb(h.pid, "VmRSS"); pss = pss + kb(h.pid, "Pss") end
  local ctl = kb(core.getpid(), "VmRSS")
  local problems = p:cleanup()
  local t2 = core.now()
  if #problems > 0 then error(table.concat(problems, "\n")) end
  print(string.format("%5d %8.3f s %8.3f s %9.2f ms %11d kB %11d kB %11d kB", n, t1 - t0, t2 - t1,
    (t2 - t0) / n * 1000, ctl, rss, pss))
  -- let the kernel finish dismantling the namespaces before the next size
  core.sleep(math.max(1, n / 100))
end
