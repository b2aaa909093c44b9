-- rr_server / rr_client running neper itself (implementation = "neper")
-- between two namespace hosts: tcp_rr, tcp_crr, udp_rr, and a client with
-- no server (tests/integration/test_modules_neper.sh, which puts neper on
-- the agents' PATH).
local lnst = require "lnst"
local T = lnst.tests

return lnst.recipe {
  name = "ModulesNeper",
  hosts = {
    host1 = { eth0 = { network = "net1" } },
    host2 = { eth0 = { network = "net1" } },
  },
  test = function(r)
    local h1, h2 = r.hosts.host1, r.hosts.host2
    h1.eth0:ip_add("198.51.100.1/24"); h2.eth0:ip_add("198.51.100.2/24")
    h1.eth0:up_and_wait(); h2.eth0:up_and_wait()
    for _, w in ipairs { "tcp_rr", "tcp_crr", "udp_rr" } do
      -- host:run returns once neper's control port listens: no sleep here
      local srv = h2:run(T.rr_server { workload = w, bind = "198.51.100.2", port = 12400, request_size = 10,
        response_size = 100, num_flows = 2, implementation = "neper" }, { bg = true })
      local cli = h1:run(T.rr_client { workload = w, server = "198.51.100.2", port = 12400, test_length = 2,
        num_flows = 2, request_size = 10, response_size = 100, implementation = "neper" })
      srv:kill("INT"):wait(10)
      local d = cli.result.data or {}
      r:check(cli.passed and srv.passed and d.implementation == "neper" and (d.num_transactions or 0) > 0
        and (d.latency_p50 or 0) > 0 and #(cli.result.samples or {}) > 0,
        string.format("neper %s: %s transactions, %.0f per second, p50 %.1f us, %d samples", w,
          tostring(d.num_transactions), d.throughput or 0, (d.latency_p50 or 0) * 1e6, #(cli.result.samples or {})))
    end
    -- nobody listens: neper's retries are said once, with a count
    local c = h1:run(T.rr_client { server = "198.51.100.2", port = 12500, test_length = 1,
      implementation = "neper" }, { expect = false })
    r:check(c.passed and tostring(c.result.msg):find("Connection refused (", 1, true) ~= nil,
      "neper client without a server fails: " .. tostring(c.result.msg))
  end,
}
