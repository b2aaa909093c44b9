-- PerfFlow: iperf3 flows between two namespace hosts through the perf
-- framework (lnst.perf), with CPU measurement, the non-zero evaluator and,
-- when a baseline file is given, the baseline evaluator. Used by
-- tests/integration/test_modules_perf.sh and bench/fidelity.sh.
local lnst = require "lnst"
local p = lnst.param

return lnst.recipe {
  name = "PerfFlow",
  params = {
    perf_tests = p.list { of = p.str {}, default = { "tcp_stream" } },
    perf_duration = p.int { default = 2, min = 1 },
    perf_iterations = p.int { default = 2, min = 1 },
    perf_warmup_duration = p.int { default = 0, min = 0 },
    perf_msg_sizes = p.list { of = p.int { min = 1 }, default = {} },
    perf_parallel_processes = p.int { default = 1, min = 1 },
    perf_parallel_streams = p.int { default = 1, min = 1 },
    ip_versions = p.list { of = p.choice { choices = { "ipv4", "ipv6" } }, default = { "ipv4" } },
    perf_test_simulation = p.bool { default = false },
    baseline = p.str { doc = "baseline file (lnst report run.json --format baseline makes one)" },
    threshold = p.float { default = 50 },
  },
  hosts = {
    host1 = { eth0 = { network = "net1" } },
    host2 = { eth0 = { network = "net1" } },
  },
  test = function(r)
    local h1, h2, P = r.hosts.host1, r.hosts.host2, r.params
    h1.eth0:ip_add("198.51.100.1/24"); h1.eth0:ip_add("2001:db8::1/64", { nodad = true })
    h2.eth0:ip_add("198.51.100.2/24"); h2.eth0:ip_add("2001:db8::2/64", { nodad = true })
    h1.eth0:up_and_wait(); h2.eth0:up_and_wait()
    local perf = lnst.perf
    local combos = perf.flows.generate {
      pairs = { { { host = h1, nic = h1.eth0, ips = { "198.51.100.1", "2001:db8::1" } },
                  { host = h2, nic = h2.eth0, ips = { "198.51.100.2", "2001:db8::2" } } } },
      ip_versions = P.ip_versions, perf_tests = P.perf_tests, msg_sizes = P.perf_msg_sizes,
      duration = P.perf_duration, warmup_duration = P.perf_warmup_duration,
      parallel_processes = P.perf_parallel_processes, parallel_streams = P.perf_parallel_streams,
    }
    for i, combo in ipairs(combos) do
      local flows = perf.iperf(combo.flows)
      local cpu = perf.stat_cpu { h1, h2 }
      local conf = perf.conf { name = combo.description, measurements = { cpu, flows },
        iterations = P.perf_iterations, simulate = P.perf_test_simulation, index = i, total = #combos }
      conf:register_evaluators(flows, { perf.evaluators.nonzero_flow() })
      if P.baseline then
        conf:register_evaluators(flows, { perf.evaluators.baseline { file = P.baseline, threshold = P.threshold } })
      end
      perf.run(r, conf)
    end
  end,
}
