-- Every test module for real between two namespace hosts
-- (tests/integration/test_modules.sh checks the lines this recipe adds).
-- `only` picks one group: ping, iperf, packet_assert, monitors, long_lived, rr.
local lnst = require "lnst"
local p = lnst.param
local T = lnst.tests

local function check_ping(r, h1, h2)
  local v4 = h1:run(T.ping { dst = "198.51.100.2", count = 3, interval = 0.05 })
  r:check(v4.passed and v4.result.rate == 100 and v4.result.trans_pkts == 3 and v4.result.rtt_avg > 0,
    string.format("ping ipv4: %s%% of %s, rtt avg %s ms", tostring(v4.result.rate), tostring(v4.result.trans_pkts),
      tostring(v4.result.rtt_avg)))
  local v6 = h1:run(T.ping { dst = "2001:db8::2", count = 2, interval = 0.05, interface = h1.eth0, size = 100 })
  r:check(v6.passed and v6.result.rate == 100, "ping ipv6 through eth0: " .. tostring(v6.result.rate) .. "%")
  -- an address nobody has: ping runs and reports 0 %, and the module passes
  -- (lost replies are a measurement, not an error)
  local lost = h1:run(T.ping { dst = "198.51.100.99", count = 2, interval = 0.1 })
  r:check(lost.passed and lost.result.rate == 0, "ping unreachable peer: rate " .. tostring(lost.result.rate) .. "%")
  local bg = h2:run(T.ping { dst = "198.51.100.1", count = 1000, interval = 0.01 }, { bg = true })
  lnst.pause() -- no-op without a terminal
  r:wait(0.3)
  bg:kill("INT"):wait(5)
  r:check(bg.passed and bg.result.trans_pkts > 0 and bg.result.trans_pkts < 1000,
    "ping stopped with SIGINT still reports: " .. tostring(bg.result.trans_pkts) .. " sent")
end

local function iperf_pair(r, h1, h2, what, cli, srv)
  srv.bind, srv.port = srv.bind or "198.51.100.2", srv.port or 12000
  local s = h2:run(T.iperf_server(srv), { bg = true })
  cli.server, cli.port, cli.duration = cli.server or srv.bind, srv.port, cli.duration or 1
  local c = h1:run(T.iperf_client(cli))
  if not c.passed then s:kill("INT") end -- a one-off server waits for its client
  s:wait(10)
  if c.skipped or s.skipped then
    r:add_result(lnst.WARNING, string.format("iperf %s skipped: %s", what, tostring(c.skipped or s.skipped)))
    return c, s
  end
  local bps = c.passed and c.result.data["end"].sum_sent.bits_per_second or 0
  r:check(c.passed and s.passed and bps > 0, string.format("iperf %s: %.0f bit/s", what, bps))
  return c, s
end

local function check_iperf(r, h1, h2)
  iperf_pair(r, h1, h2, "tcp", { blksize = 1000, mss = 1200, client_port = 12100 }, { oneoff = true })
  iperf_pair(r, h1, h2, "udp", { udp = true, blksize = 1000 }, { oneoff = true })
  iperf_pair(r, h1, h2, "tcp ipv6 parallel", { parallel = 2, cpu_bind = { 0 } },
    { bind = "2001:db8::2", oneoff = true, cpu_bind = { 0 } })
  iperf_pair(r, h1, h2, "mptcp", { mptcp = true }, { oneoff = true, mptcp = true })
  iperf_pair(r, h1, h2, "sctp", { sctp = true }, { oneoff = true })
  -- no server: iperf3 says why, the module fails with it
  local c = h1:run(T.iperf_client { server = "198.51.100.2", port = 12999, duration = 1 }, { expect = false })
  r:check(c.passed and tostring(c.result.msg):find("Connection refused", 1, true) ~= nil,
    "iperf client without a server fails: " .. tostring(c.result.msg))
  -- iperf3 refusing its options prints no JSON: the reason is its stderr
  local bad = h1:run(T.iperf_client { server = "198.51.100.2", duration = 1, opts = "--no-such-option" },
    { expect = false })
  r:check(bad.passed and tostring(bad.result.msg):find("unrecognized option", 1, true) ~= nil,
    "iperf client with a bad option fails: " .. tostring(bad.result.msg))
  -- a test cut short by its server (not one-off, stopped mid-test): iperf3
  -- prints the second it measured and "the server has terminated", or, when
  -- the reset comes first, a write error; either way the client fails
  -- with iperf3's reason
  local s2 = h2:run(T.iperf_server { bind = "198.51.100.2", port = 12001 }, { bg = true })
  local c2 = h1:run(T.iperf_client { server = "198.51.100.2", port = 12001, duration = 5 },
    { bg = true, expect = false })
  r:wait(1.5)
  s2:kill("INT"):wait(10)
  c2:wait(20)
  r:check(c2.passed and s2.passed, "iperf client cut short by its server fails: "
    .. tostring(c2.result.msg))
  -- a client told to stop mid-test reports what it measured
  local s3 = h2:run(T.iperf_server { bind = "198.51.100.2", port = 12002, oneoff = true }, { bg = true })
  local c3 = h1:run(T.iperf_client { server = "198.51.100.2", port = 12002, duration = 5 }, { bg = true })
  r:wait(1.5)
  c3:kill("INT"):wait(10)
  s3:wait(10)
  local secs = c3.passed and c3.result.data["end"].sum_sent.seconds or 0
  r:check(c3.passed and s3.passed and secs > 0.5 and secs < 4,
    string.format("iperf client stopped with SIGINT still reports: %.1f s measured", secs))
  -- a server that cannot bind: it fails before getting ready
  local s = h2:run(T.iperf_server { bind = "203.0.113.77", port = 12000 }, { bg = true, expect = false })
  s:wait(10)
  r:check(s.passed and tostring(s.result.msg):find("before listening", 1, true) ~= nil,
    "iperf server on a foreign address fails: " .. tostring(s.result.msg))
end

local function check_packet_assert(r, h1, h2)
  local pa = h2:run(T.packet_assert { interface = h2.eth0, p_filter = "icmp", grep_for = { "echo request" } },
    { bg = true })
  h1:run(T.ping { dst = "198.51.100.2", count = 5, interval = 0.02 })
  pa:kill("INT"):wait(10)
  r:check(pa.passed and pa.result.p_recv == 5, "packet_assert counted " .. tostring(pa.result.p_recv)
    .. " echo requests")
  local timed = h2:run(T.packet_assert { interface = "eth0", p_filter = "udp port 9", duration = 0.5 })
  r:check(timed.passed and timed.result.p_recv == 0, "packet_assert for 0.5 s saw " .. tostring(timed.result.p_recv))
end

local function check_monitors(r, h1, h2)
  local cpu = h1:run(T.cpu_stat_monitor { interval = 100 }, { bg = true })
  local ifs = h2:run(T.iface_stats_monitor { device = h2.eth0, interval = 0.1 }, { bg = true })
  h1:run(T.ping { dst = "198.51.100.2", count = 10, interval = 0.03 })
  r:wait(0.2)
  cpu:kill("INT"):wait(5)
  ifs:kill("INT"):wait(5)
  local samples = cpu.passed and cpu.result.data or {}
  local first = samples[1] or {}
  r:check(#samples >= 3 and type(first.cpu) == "table" and first.cpu.user ~= nil and first.duration > 0,
    "cpu_stat_monitor: " .. #samples .. " samples")
  local st = ifs.passed and ifs.result.data or {}
  local last = st[#st] or {}
  r:check(#st >= 3 and last.rx_packets - st[1].rx_packets >= 10,
    string.format("iface_stats_monitor: %d samples, %s packets received", #st,
      tostring(last.rx_packets and last.rx_packets - st[1].rx_packets)))
  local bad = h2:run(T.iface_stats_monitor { device = "nosuchdev0", interval = 0.1 }, { bg = true, expect = false })
  bad:wait(5)
  r:check(bad.passed and tostring(bad.error and bad.error.message):find("nosuchdev0", 1, true) ~= nil,
    "iface_stats_monitor on a missing device fails: " .. tostring(bad.error and bad.error.message))
end

local function check_long_lived(r, h1, h2)
  local srv = h2:run(T.long_lived_server { server_ip = "198.51.100.2", server_port = 12300,
    connections_count = 200 }, { bg = true })
  local cli = h1:run(T.long_lived_client { server_ip = "198.51.100.2", server_port = 12300,
    client_ip = "198.51.100.1", connections_count = 200 }, { bg = true })
  r:wait(0.3)
  srv:kill("INT") -- both at once: each counts what it holds when told to stop
  cli:kill("INT")
  srv:wait(10)
  cli:wait(10)
  r:check(srv.passed and srv.result.connections == 200,
    "long_lived server held " .. tostring(srv.result.connections) .. " connections")
  r:check(cli.passed and cli.result.connections == 200, "long_lived client held "
    .. tostring(cli.result.connections) .. " connections")
  local refused = h1:run(T.long_lived_client { server_ip = "198.51.100.2", server_port = 12399,
    client_ip = "198.51.100.1", connections_count = 3, duration = 1 }, { expect = false })
  r:check(refused.passed and tostring(refused.result.msg):find("refused", 1, true) ~= nil,
    "long_lived client without a server fails: " .. tostring(refused.result.msg))
end

local function check_rr(r, h1, h2)
  for _, w in ipairs { "tcp_rr", "tcp_crr" } do
    local srv = h2:run(T.rr_server { workload = w, bind = "198.51.100.2", port = 12400, request_size = 10,
      response_size = 100, implementation = "luajit" }, { bg = true })
    local cli = h1:run(T.rr_client { workload = w, server = "198.51.100.2", port = 12400, test_length = 2,
      num_flows = 4, request_size = 10, response_size = 100, implementation = "luajit" })
    srv:kill("INT"):wait(10)
    local d = cli.result.data or {}
    r:check(cli.passed and d.num_transactions > 0 and #cli.result.samples >= 3 and d.latency_p50 > 0,
      string.format("%s: %s transactions, %.0f per second, p50 %.1f us", w, tostring(d.num_transactions),
        d.throughput or 0, (d.latency_p50 or 0) * 1e6))
    r:check(srv.passed and srv.result.data.num_transactions >= d.num_transactions,
      string.format("%s server served %s", w, tostring(srv.result.data and srv.result.data.num_transactions)))
  end
  local udp = h1:run(T.rr_client { workload = "udp_rr", server = "198.51.100.2", implementation = "luajit" })
  r:check(udp.skipped ~= nil, "udp_rr without neper: " .. tostring(udp.skipped))
end

return lnst.recipe {
  name = "ModulesAll",
  params = { only = p.str {} },
  hosts = {
    host1 = { eth0 = { network = "net1" } },
    host2 = { eth0 = { network = "net1" } },
  },
  test = function(r)
    local h1, h2 = r.hosts.host1, r.hosts.host2
    h1.eth0:ip_add("198.51.100.1/24"); h1.eth0:ip_add("2001:db8::1/64", { nodad = true })
    h2.eth0:ip_add("198.51.100.2/24"); h2.eth0:ip_add("2001:db8::2/64", { nodad = true })
    h1.eth0:up_and_wait(); h2.eth0:up_and_wait()
    local groups = { ping = check_ping, iperf = check_iperf, packet_assert = check_packet_assert,
      monitors = check_monitors, long_lived = check_long_lived, rr = check_rr }
    local order = { "ping", "iperf", "packet_assert", "monitors", "long_lived", "rr" }
    for _, g in ipairs(order) do
      if not r.params.only or r.params.only == g then groups[g](r, h1, h2) end
    end
  end,
}
