-- Unit tests for the agent-side test modules' pure parts, on outputs
-- recorded on this project's machine (tests/lua/data/: ping, iperf3 3.12,
-- tcpdump 4.99, /proc/stat). Run from the repo root:
--   luajit tests/lua/test_module_parsers.lua
package.path = "lua/?.lua;lua/?/init.lua;tests/lua/?.lua;" .. package.path
local T = require "testlib"
local json = require "lnst.json"
local ping = require "lnst.tests.ping"
local iperf = require "lnst.tests.iperf"
local pa = require "lnst.tests.packet_assert"
local cpu = require "lnst.tests.cpu_stat_monitor"
local rr = require "lnst.tests.rr_workload"

local data = T.data

-- ---------------------------------------------------------------- ping

T.test("ping: IPv4 summary with rtt", function()
  T.eq(ping.parse(data("ping_ipv4.txt")), { trans_pkts = 5, recv_pkts = 5, rate = 100,
    rtt_min = 0.047, rtt_avg = 0.054, rtt_max = 0.058, rtt_mdev = 0.004 })
end)

T.test("ping: IPv6 summary", function()
  local r = ping.parse(data("ping_ipv6.txt"))
  T.eq({ r.trans_pkts, r.recv_pkts, r.rate, r.rtt_avg }, { 3, 3, 100, 0.063 })
end)

T.test("ping: no reply gives rate 0 and no rtt", function()
  T.eq(ping.parse(data("ping_unreachable.txt")), { trans_pkts = 3, recv_pkts = 0, rate = 0 })
end)

T.test("ping: errors are counted", function()
  T.eq(ping.parse(data("ping_errors.txt")), { trans_pkts = 4, recv_pkts = 0, rate = 0, errors = 4 })
end)

T.test("ping: partial loss rounds the rate down", function()
  local r = ping.parse("3 packets transmitted, 2 received, 33.3333% packet loss, time 2003ms\n"
    .. "rtt min/avg/max/mdev = 0.040/0.050/0.060/0.010 ms\n")
  T.eq(r.rate, 66)
end)

T.test("ping: output without a summary is an error saying so", function()
  local r, why = ping.parse("ping: 198.51.100.2: Name or service not known\n")
  T.eq(r, nil)
  T.eq(why, "no 'N packets transmitted, M received' line in ping's output")
end)

T.test("ping: command line as upstream builds it", function()
  T.eq(ping.argv { dst = "198.51.100.2", count = 100, interval = 0.2, interface = "198.51.100.1", size = 56 },
    { "ping", "198.51.100.2", "-c", 100, "-i", "0.200000", "-I", "198.51.100.1", "-s", 56 })
  T.eq(ping.argv { dst = "2001:db8::2", count = 1, interval = 1 },
    { "ping", "2001:db8::2", "-6", "-c", 1, "-i", "1.000000" })
end)

-- ---------------------------------------------------------------- iperf

T.test("iperf: a client's TCP test", function()
  local doc = assert(iperf.parse(data("iperf3_client_tcp.json"), json.decode))
  T.eq(doc.start.test_start.protocol, "TCP")
  T.eq(#doc.intervals, 2)
  T.ok(doc["end"].sum_sent.bits_per_second > 0, "throughput")
end)

T.test("iperf: UDP and MPTCP outputs parse", function()
  T.eq(assert(iperf.parse(data("iperf3_client_udp.json"), json.decode)).start.test_start.protocol, "UDP")
  T.ok(iperf.parse(data("iperf3_client_mptcp.json"), json.decode), "mptcp")
  T.ok(iperf.parse(data("iperf3_server_tcp.json"), json.decode), "server")
end)

T.test("iperf: iperf3's own error is the reason", function()
  local doc, why = iperf.parse(data("iperf3_client_refused.json"), json.decode)
  T.eq(doc, nil)
  T.eq(why, "iperf3: unable to connect to server: Connection refused")
  local _, sctp = iperf.parse(data("iperf3_client_sctp.json"), json.decode)
  T.eq(sctp, "iperf3: unable to start stream listener: Protocol not supported")
end)

T.test("iperf: a client cut short by its server fails with the data, unless it was stopped", function()
  -- recorded: a 5 s client whose (not one-off) server got SIGINT after 1.5 s
  local doc = assert(iperf.parse(data("iperf3_client_server_terminated.json"), json.decode))
  T.ok(doc["end"].sum_sent.seconds < 2, "one second measured")
  local res, passed = iperf.client_result(doc, false)
  T.eq({ res.msg, passed, res.data == doc }, { "iperf3: the server has terminated", false, true })
  res, passed = iperf.client_result(doc, true)
  T.eq({ res.msg, passed }, { nil, true })
  local full = assert(iperf.parse(data("iperf3_client_tcp.json"), json.decode))
  T.eq({ select(2, iperf.client_result(full, false)) }, { true })
end)

T.test("iperf: a server's output with several documents gives its test", function()
  local text = data("iperf3_server_tcp.json") .. data("iperf3_client_refused.json")
  T.ok(iperf.parse(data("iperf3_client_refused.json") .. text, json.decode), "test after an error")
end)

T.test("iperf: no JSON at all", function()
  local doc, why = iperf.parse("iperf3: error - unable to connect\n", json.decode)
  T.eq(doc, nil)
  T.eq(why, "iperf3 printed no JSON with a complete test (start, end, intervals, end.streams)")
  local _, bad = iperf.parse("{ \"start\": ", json.decode)
  T.ok(bad:find("iperf3 printed no valid JSON", 1, true), bad)
end)

T.test("iperf: command lines", function()
  T.eq(iperf.argv { role = "server", bind = "198.51.100.2", port = 12000, oneoff = true, cpu_bind = { 0, 1 } },
    { "taskset", "-c", "0,1", "iperf3", "-s", "-B", "198.51.100.2", "-J", "-p", "12000", "-1" })
  T.eq(iperf.argv { role = "client", server = "198.51.100.2", duration = 60, warmup_duration = 2, udp = true,
      blksize = 123, port = 12000, client_port = 12000, parallel = 2, mss = 1400, opts = "-Z  --omit 1" },
    { "iperf3", "-c", "198.51.100.2", "-b", "0/1000", "-J", "-t", "64", "--udp", "-M", "1400", "-l", "123",
      "-P", "2", "-p", "12000", "--cport", "12000", "-Z", "--omit", "1" })
  T.eq(iperf.argv { role = "client", server = "2001:db8::2", duration = 5, mptcp = true },
    { "mptcpize", "run", "iperf3", "-c", "2001:db8::2", "-b", "0/1000", "-J", "-t", "5" })
end)

T.test("iperf: listening sockets in /proc/net/tcp", function()
  local tcp = "  sl  local_address rem_address   st tx_queue rx_queue\n"
    .. "   0: 026433C6:2EE7 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0\n"
    .. "   1: 026433C6:2EE8 016433C6:C350 01 00000000:00000000 00:00000000 00000000     0\n"
  T.eq(iperf.listening({ tcp }, 12007), true)
  T.eq(iperf.listening({ tcp }, 12008), false) -- established, not listening
  T.eq(iperf.listening({ "", tcp }, 1), false)
end)

-- ---------------------------------------------------------------- tcpdump

T.test("packet_assert: counts lines matching every pattern", function()
  local out = data("tcpdump_icmp.txt")
  T.eq(pa.count(out, {}), 12)
  T.eq(pa.count(out, { "echo request" }), 5)
  T.eq(pa.count(out, { "^%S+ IP ", "echo reply" }), 3)
  T.eq(pa.count(out, { "IP6", "echo" }), 4)
  T.eq(pa.count(out, { "nothing like this" }), 0)
end)

T.test("packet_assert: tcpdump's command line", function()
  T.eq(pa.argv { interface = "eth0", p_filter = "icmp", promiscuous = false },
    { "tcpdump", "-p", "-nn", "-U", "--immediate-mode", "-i", "eth0", "icmp" })
  T.eq(pa.argv { interface = "eth1", p_filter = "", promiscuous = true },
    { "tcpdump", "-nn", "-U", "--immediate-mode", "-i", "eth1" })
end)

-- ---------------------------------------------------------------- /proc/stat

T.test("cpu_stat_monitor: parses the cpu lines", function()
  local s = cpu.parse(data("proc_stat_1.txt"))
  T.ok(s.cpu and s.cpu0 and s.cpu1, "cpu, cpu0, cpu1")
  T.eq(s.intr, nil)
  local n = 0
  for _ in pairs(s.cpu) do n = n + 1 end
  T.eq(n, 10)
end)

T.test("cpu_stat_monitor: deltas between two samples", function()
  local a = cpu.parse("cpu  10 0 5 100 0 0 1 0 0 0\ncpu0 10 0 5 100 0 0 1 0 0 0\n")
  local b = cpu.parse("cpu  15 0 7 180 1 0 2 0 0 0\ncpu0 15 0 7 180 1 0 2 0 0 0\n")
  local d = cpu.delta(a, b)
  T.eq(d.cpu, { user = 5, nice = 0, system = 2, idle = 80, iowait = 1, irq = 0, softirq = 1, steal = 0,
    guest = 0, guest_nice = 0 })
  local r1, r2 = cpu.parse(data("proc_stat_1.txt")), cpu.parse(data("proc_stat_2.txt"))
  local real = cpu.delta(r1, r2)
  T.ok(real.cpu.idle >= 0 and real.cpu.user >= 0, "counters only grow")
end)

-- ---------------------------------------------------------------- rr / neper

T.test("rr: neper's key=value output", function()
  local d = rr.parse_neper("num_flows=1\nthroughput=25001.53\nlocal_hosts=198.51.100.1\n"
    .. "latency_p99=0.000051\n")
  T.eq(d, { num_flows = 1, throughput = 25001.53, local_hosts = "198.51.100.1", latency_p99 = 0.000051 })
end)

T.test("rr: neper's samples CSV summed over flows", function()
  local csv = "tid,flow_id,time,transactions,utime,stime,maxrss,minflt,majflt,nvcsw,nivcsw\n"
    .. "0,0,100.000000,10,0.1,0.2,1,0,0,0,0\n"
    .. "0,1,100.000000,20,0.1,0.2,1,0,0,0,0\n"
    .. "0,0,101.000000,30,0.3,0.4,1,0,0,0,0\n"
    .. "0,1,101.000000,45,0.3,0.5,1,0,0,0,0\n"
  T.eq(rr.parse_neper_samples(csv), {
    { time = 100, transactions = 30, utime = 0.1, stime = 0.2 },
    { time = 101, transactions = 75, utime = 0.3, stime = 0.5 },
  })
  T.eq(rr.parse_neper_samples(""), {})
end)

T.test("rr: a real neper tcp_rr client's output and samples (2 flows, -p 50,90,99)", function()
  local d = rr.parse_neper(T.data("neper_tcp_rr_client.txt"))
  T.eq({ d.num_flows, d.num_transactions, d.throughput, d.num_samples }, { 2, 92327, 46131.97, 22 })
  T.eq({ d.latency_p50, d.latency_p90, d.latency_p99 }, { 0.00003295, 0.00004735, 0.00009215 })
  T.eq(d.percentiles, "50,90,99,")
  local s = rr.parse_neper_samples(T.data("neper_tcp_rr_client_samples.csv"))
  T.eq(#s, 22)
  T.eq({ s[1].time, s[1].transactions, s[2].transactions }, { 21571.628961422, 1, 2 })
  T.eq({ s[22].time, s[22].transactions, s[22].utime, s[22].stime },
    { 21573.632149177, 46207 + 46205, 0.058579, 0.751717 })
  for i = 2, #s do T.ok(s[i].time > s[i - 1].time and s[i].transactions >= s[i - 1].transactions, "sample " .. i) end
end)

T.test("rr: neper's repeated stderr lines are said once with a count", function()
  T.eq(rr.squeeze("connect: Connection refused\nconnect: Connection refused\nconnect: Connection refused\n"
    .. "Could not connect\n"), "connect: Connection refused (3 times)\nCould not connect")
  T.eq(rr.squeeze(""), "")
  T.eq(rr.squeeze("a\nb\na\n"), "a\nb\na")
end)

T.test("rr: latency histogram percentiles within 5 %", function()
  local h = rr.histogram()
  for i = 1, 1000 do h.add(i * 1e-6) end -- 1..1000 us
  T.eq(h.count, 1000)
  T.eq(h.min, 1e-6)
  T.eq(h.max, 1e-3)
  local p50, p99 = h.percentile(0.5), h.percentile(0.99)
  T.ok(math.abs(p50 - 500e-6) / 500e-6 < 0.05, "p50 " .. p50)
  T.ok(math.abs(p99 - 990e-6) / 990e-6 < 0.05, "p99 " .. p99)
  T.eq(rr.histogram().percentile(0.5), 0)
end)

T.run()
