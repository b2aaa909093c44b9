-- The lnst side of bench/fidelity.sh: one iperf3 tcp_stream through the
-- perf framework between two namespace hosts (the same flags as the bare
-- run: iperf3 -s -B ... -J -1 / iperf3 -c ... -b 0/1000 -J -t DURATION),
-- then a line for the script:
--   FIDELITY iperf_bps=N receiver_bps=N cpu_controller=S cpu_agents=S cpu_modules=S
-- iperf_bps is iperf3's own end.sum_received.bits_per_second (what the bare
-- run reports too); receiver_bps is the perf framework's receiver average.
-- CPU seconds are each process's own (children excluded): the controller
-- (this process), the agents, and the module processes (their rusage), so
-- iperf3 itself is not counted.
local lnst = require "lnst"
local p = lnst.param

-- CPU time of a process (its own, children excluded), in seconds: from
-- /proc/PID/schedstat (nanoseconds on the CPU), else utime + stime of
-- /proc/PID/stat (10 ms ticks).
local function cpu_seconds(pid)
  local sf = io.open("/proc/" .. pid .. "/schedstat")
  local ns = sf and tonumber((sf:read("*l") or ""):match("^(%d+)"))
  if sf then sf:close() end
  if ns then return ns / 1e9 end
  local f = io.open("/proc/" .. pid .. "/stat")
  if not f then return 0 end
  local s = f:read("*a")
  f:close()
  local rest = s:match("%) (.*)$") -- fields after the command name
  local fields = {}
  for x in rest:gmatch("%S+") do fields[#fields + 1] = x end
  -- rest starts at field 3 (state); utime and stime are fields 14 and 15
  return (tonumber(fields[12]) + tonumber(fields[13])) / 100
end

return lnst.recipe {
  name = "Fidelity",
  params = { duration = p.int { default = 10, min = 1 } },
  hosts = {
    host1 = { eth0 = { network = "net1" } },
    host2 = { eth0 = { network = "net1" } },
  },
  test = function(r)
    local h1, h2 = r.hosts.host1, r.hosts.host2
    h1.eth0:ip_add("198.51.100.1/24"); h2.eth0:ip_add("198.51.100.2/24")
    h1.eth0:up_and_wait(); h2.eth0:up_and_wait()
    local perf = lnst.perf
    local combo = perf.flows.generate {
      pairs = { { { host = h1, nic = h1.eth0 }, { host = h2, nic = h2.eth0 } } },
      ip_versions = { "ipv4" }, perf_tests = { "tcp_stream" }, duration = r.params.duration,
    }[1]
    local flows = perf.iperf(combo.flows)
    local conf = perf.conf { name = combo.description, measurements = { flows }, iterations = 1 }
    local agg = perf.run(r, conf)[flows][1]
    local modules_cpu = 0
    for _, j in ipairs { flows.clients[1], flows.servers[1] } do
      if j and j.cpu then modules_cpu = modules_cpu + j.cpu.user + j.cpu.system end
    end
    local client = flows.clients[1]
    local iperf_bps = client and client.passed and client.result.data["end"].sum_received.bits_per_second or 0
    print(string.format("FIDELITY iperf_bps=%.0f receiver_bps=%.0f cpu_controller=%.3f cpu_agents=%.3f"
      .. " cpu_modules=%.3f", iperf_bps, agg.receiver_results:average(),
      cpu_seconds("self"), cpu_seconds(h1.pid) + cpu_seconds(h2.pid), modules_cpu))
  end,
}
