-- iface_stats_monitor: LNST's InterfaceStatsMonitor, run on the agent
-- (docs/test-modules.md). Every `interval` seconds, until SIGINT, reads the
-- device's 64-bit counters over rtnetlink (RTM_GETLINK, IFLA_STATS64) in the
-- agent's network namespace. Result: { data = { { timestamp = wall clock,
-- rx_bytes = N, ... }, ... } }: absolute counters, one entry at the start
-- and one per interval (the last one when the stop came).
local ffi = require "ffi"
local bit = require "bit"

local M = {}

M.STATS64 = { "rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "rx_errors", "tx_errors",
  "rx_dropped", "tx_dropped", "multicast", "collisions", "rx_length_errors", "rx_over_errors",
  "rx_crc_errors", "rx_frame_errors", "rx_fifo_errors", "rx_missed_errors", "tx_aborted_errors",
  "tx_carrier_errors", "tx_fifo_errors", "tx_heartbeat_errors", "tx_window_errors",
  "rx_compressed", "tx_compressed", "rx_nohandler" }
local INDEX = {}
for i, name in ipairs(M.STATS64) do INDEX[name] = i - 1 end

local declared = false
local function cdef()
  if declared then return end
  declared = true
  ffi.cdef [[
    struct lnst_isr_nlmsghdr { uint32_t len; uint16_t type, flags; uint32_t seq, pid; };
    struct lnst_isr_ifinfomsg { uint8_t family, pad; uint16_t type; int32_t index; uint32_t flags, change; };
    struct lnst_isr_rtattr { uint16_t len, type; };
    int socket(int domain, int type, int protocol);
    long write(int fd, const void *buf, unsigned long n);
    long read(int fd, void *buf, unsigned long n);
    int close(int fd);
    char *strerror(int errnum);
  ]]
end

local RTM_NEWLINK, RTM_GETLINK, NLMSG_ERROR = 16, 18, 2
local IFLA_IFNAME, IFLA_STATS64 = 3, 23

-- Reads the counters of device `name`: { rx_bytes = N, ... } or nil, why.
local function read_stats(fd, name, seq)
  local C = ffi.C
  local hlen, ilen = ffi.sizeof("struct lnst_isr_nlmsghdr"), ffi.sizeof("struct lnst_isr_ifinfomsg")
  local alen = 4 + #name + 1
  local total = hlen + ilen + bit.band(alen + 3, bit.bnot(3))
  local req = ffi.new("uint8_t[?]", total)
  local h = ffi.cast("struct lnst_isr_nlmsghdr *", req)
  h.len, h.type, h.flags, h.seq = total, RTM_GETLINK, 1, seq
  local a = ffi.cast("struct lnst_isr_rtattr *", req + hlen + ilen)
  a.len, a.type = alen, IFLA_IFNAME
  ffi.copy(req + hlen + ilen + 4, name)
  if C.write(fd, req, total) ~= total then return nil, "netlink write: " .. ffi.string(C.strerror(ffi.errno())) end
  local buf = ffi.new("uint8_t[32768]")
  local n = tonumber(C.read(fd, buf, 32768))
  if n < hlen then return nil, "netlink read: " .. ffi.string(C.strerror(ffi.errno())) end
  local rh = ffi.cast("struct lnst_isr_nlmsghdr *", buf)
  if rh.type == NLMSG_ERROR then
    local err = -ffi.cast("int32_t *", buf + hlen)[0]
    return nil, string.format("no device '%s' (%s)", name, ffi.string(C.strerror(err)))
  end
  if rh.type ~= RTM_NEWLINK then return nil, "unexpected netlink reply type " .. rh.type end
  local off, stop = hlen + ilen, math.min(n, rh.len)
  while off + 4 <= stop do
    local ra = ffi.cast("struct lnst_isr_rtattr *", buf + off)
    if ra.len < 4 then break end
    if ra.type == IFLA_STATS64 then
      local v = ffi.cast("uint64_t *", buf + off + 4)
      local count = math.floor((ra.len - 4) / 8)
      local out = {}
      for sname, i in pairs(INDEX) do
        if i < count then out[sname] = tonumber(v[i]) end
      end
      return out
    end
    off = off + bit.band(ra.len + 3, bit.bnot(3))
  end
  return nil, "the kernel sent no IFLA_STATS64 for " .. name
end

function M.run(p, api)
  cdef()
  local fd = ffi.C.socket(16, 3 + 524288, 0) -- AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, NETLINK_ROUTE
  if fd < 0 then error("netlink socket: " .. ffi.string(ffi.C.strerror(ffi.errno())), 0) end
  local stats = p.stats or { "rx_bytes", "tx_bytes", "rx_packets", "tx_packets" }
  for _, s in ipairs(stats) do
    if not INDEX[s] then
      error(string.format("unknown statistic '%s' (known: %s)", s, table.concat(M.STATS64, ", ")), 0)
    end
  end
  local seq = 0
  local function sample()
    seq = seq + 1
    local all, why = read_stats(fd, p.device, seq)
    if not all then error(string.format("host %s: %s", api.host, why), 0) end
    local e = { timestamp = api.time() }
    for _, s in ipairs(stats) do e[s] = all[s] end
    return e
  end
  local data = { sample() }
  api.ready() -- traffic started after host:run returns is counted
  local interval = p.interval or 1.0
  local next_t = api.monotonic() + interval
  while true do
    local stopped = api.sleep(next_t - api.monotonic())
    data[#data + 1] = sample()
    if stopped then break end
    next_t = next_t + interval
  end
  ffi.C.close(fd)
  return { data = data }, true
end

return M
