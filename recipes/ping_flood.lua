-- PingFlood: LNST's PingFloodRecipe. host1 sends `count` echo requests at
-- `interval` seconds to host2; the run passes when at least `min_rate`
-- percent of the replies arrive.
--   lnst run recipes/ping_flood.lua -p count=50 -p interval=0.1
local lnst = require "lnst"
local p = lnst.param

local function parse_ping(out)
  local sent, recv = out:match("(%d+) packets transmitted, (%d+) received")
  if not sent then return nil end
  local res = { trans_pkts = tonumber(sent), recv_pkts = tonumber(recv) }
  res.rate = res.trans_pkts > 0 and math.floor(100 * res.recv_pkts / res.trans_pkts) or 0
  local mn, avg, mx, mdev = out:match("= ([%d.]+)/([%d.]+)/([%d.]+)/([%d.]+) ms")
  if mn then
    res.rtt_min, res.rtt_avg, res.rtt_max, res.rtt_mdev = tonumber(mn), tonumber(avg), tonumber(mx), tonumber(mdev)
  end
  return res
end

return lnst.recipe {
  name = "PingFlood",
  description = "Fast ping from host1 to host2; pass when enough replies arrive",
  params = {
    count = p.int { default = 100, min = 1, doc = "echo requests to send" },
    interval = p.float { default = 0.2, min = 0.002, doc = "seconds between requests" },
    size = p.int { default = 56, min = 0, max = 65507, doc = "payload bytes" },
    min_rate = p.int { default = 50, min = 0, max = 100, doc = "percent of replies needed to pass" },
    mtu = p.int { default = 1500, min = 68, max = 65535, doc = "MTU of both NICs" },
    ipv4_1 = p.ip { default = "198.51.100.1/24", family = 4 },
    ipv4_2 = p.ip { default = "198.51.100.2/24", family = 4 },
  },
  hosts = {
    host1 = { eth0 = { network = "net1" } },
    host2 = { eth0 = { network = "net1" } },
  },
  test = function(r)
    local h1, h2, P = r.hosts.host1, r.hosts.host2, r.params
    h1.eth0:ip_add(P.ipv4_1)
    h2.eth0:ip_add(P.ipv4_2)
    h1.eth0.mtu = P.mtu
    h2.eth0.mtu = P.mtu
    h1.eth0:up_and_wait()
    h2.eth0:up_and_wait()
    local dst = P.ipv4_2:match("^[^/]+")
    local job = h1:run({ "ping", "-c", P.count, "-i", P.interval, "-s", P.size, "-W", "2", dst },
      { timeout = P.count * P.interval + 30, expect = nil })
    local res = parse_ping(job.stdout)
    if not r:check(res ~= nil, "ping output has a summary line", { stdout = job.stdout }) then return end
    r:check(res.rate >= P.min_rate,
      string.format("ping rate %d%% >= %d%% (%d of %d replies)", res.rate, P.min_rate, res.recv_pkts, res.trans_pkts),
      res)
  end,
}
