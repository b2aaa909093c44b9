-- lnst.tests.sock: TCP sockets through LuaJIT FFI, for the agent-side test
-- modules that open connections themselves (long_lived_connections,
-- rr_workload). Shipped to agents with the modules that require it.
--
-- Plain non-blocking sockets and epoll, errors as (nil, "what: strerror").
-- Addresses are IPv4 or IPv6 text; no name resolution.
local ffi = require "ffi"
local bit = require "bit"

local C = ffi.C

ffi.cdef [[
typedef unsigned int lnst_sock_len;
struct lnst_sock_in { unsigned short family; unsigned short port; unsigned char addr[4]; unsigned char zero[8]; };
struct lnst_sock_in6 { unsigned short family; unsigned short port; unsigned int flowinfo;
                       unsigned char addr[16]; unsigned int scope_id; };
struct lnst_sock_epoll_event { unsigned int events; unsigned long long data; } __attribute__((packed));
struct lnst_sock_rlimit { unsigned long cur, max; };
int socket(int domain, int type, int protocol);
int bind(int fd, const void *addr, lnst_sock_len len);
int listen(int fd, int backlog);
int accept4(int fd, void *addr, lnst_sock_len *len, int flags);
int connect(int fd, const void *addr, lnst_sock_len len);
int close(int fd);
long read(int fd, void *buf, unsigned long n);
long write(int fd, const void *buf, unsigned long n);
int setsockopt(int fd, int level, int name, const void *val, lnst_sock_len len);
int getsockopt(int fd, int level, int name, void *val, lnst_sock_len *len);
int inet_pton(int af, const char *src, void *dst);
int epoll_create1(int flags);
int epoll_ctl(int epfd, int op, int fd, struct lnst_sock_epoll_event *ev);
int epoll_wait(int epfd, struct lnst_sock_epoll_event *evs, int max, int timeout);
int getrlimit(int res, struct lnst_sock_rlimit *r);
int setrlimit(int res, const struct lnst_sock_rlimit *r);
char *strerror(int errnum);
]]

local M = {}

local AF_INET, AF_INET6 = 2, 10
local SOCK_STREAM, SOCK_NONBLOCK, SOCK_CLOEXEC = 1, 2048, 524288
local SOL_SOCKET, SO_REUSEADDR, SO_ERROR, SO_LINGER = 1, 2, 4, 13
local IPPROTO_TCP, TCP_NODELAY = 6, 1
local IP_BIND_ADDRESS_NO_PORT = 24
local SOL_IP = 0

M.EAGAIN, M.EINPROGRESS, M.EINTR = 11, 115, 4
M.EPOLLIN, M.EPOLLOUT, M.EPOLLERR, M.EPOLLHUP = 1, 4, 8, 16
local EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD = 1, 2, 3

function M.errno() return ffi.errno() end

function M.strerror(e) return ffi.string(C.strerror(e or ffi.errno())) end

local function fail(what)
  local e = ffi.errno()
  return nil, what .. ": " .. M.strerror(e), e
end

-- A sockaddr for ip/port: returns cdata, length, family; or nil, why.
function M.sockaddr(ip, port)
  local a4 = ffi.new("struct lnst_sock_in")
  if C.inet_pton(AF_INET, ip, a4.addr) == 1 then
    a4.family = AF_INET
    a4.port = bit.rshift(bit.bswap(port), 16)
    return a4, ffi.sizeof(a4), AF_INET
  end
  local a6 = ffi.new("struct lnst_sock_in6")
  if C.inet_pton(AF_INET6, ip, a6.addr) == 1 then
    a6.family = AF_INET6
    a6.port = bit.rshift(bit.bswap(port), 16)
    return a6, ffi.sizeof(a6), AF_INET6
  end
  return nil, string.format("'%s' is not an IPv4 or IPv6 address", tostring(ip))
end

local one = ffi.new("int[1]", 1)

local function new_socket(family)
  local fd = C.socket(family, bit.bor(SOCK_STREAM, SOCK_NONBLOCK, SOCK_CLOEXEC), 0)
  if fd < 0 then return fail("socket") end
  return fd
end

-- A listening TCP socket (non-blocking) on ip:port.
function M.listen(ip, port, backlog)
  local sa, len, family = M.sockaddr(ip, port)
  if not sa then return nil, len end
  local fd, why = new_socket(family)
  if not fd then return nil, why end
  C.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, one, 4)
  if C.bind(fd, sa, len) < 0 then
    local _, w = fail(string.format("bind %s port %d", ip, port))
    C.close(fd)
    return nil, w
  end
  if C.listen(fd, backlog or 4096) < 0 then
    local _, w = fail("listen")
    C.close(fd)
    return nil, w
  end
  return fd
end

-- Accepts one connection: fd, or nil when none is pending, or nil, why.
function M.accept(lfd)
  local fd = C.accept4(lfd, nil, nil, bit.bor(SOCK_NONBLOCK, SOCK_CLOEXEC))
  if fd < 0 then
    local e = ffi.errno()
    if e == M.EAGAIN or e == M.EINTR then return nil end
    return fail("accept")
  end
  C.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, one, 4)
  return fd
end

-- Starts a non-blocking connect to ip:port, from bind_ip when given.
-- Returns fd (the connection completes later: wait for EPOLLOUT, then
-- M.connect_error(fd)) or nil, why.
function M.connect(ip, port, bind_ip)
  local sa, len, family = M.sockaddr(ip, port)
  if not sa then return nil, len end
  local fd, why = new_socket(family)
  if not fd then return nil, why end
  C.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, one, 4)
  if bind_ip then
    local ba, blen = M.sockaddr(bind_ip, 0)
    if not ba then C.close(fd); return nil, blen end
    -- many connections from one address: pick the port at connect time
    C.setsockopt(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, one, 4)
    if C.bind(fd, ba, blen) < 0 then
      local _, w = fail("bind " .. bind_ip)
      C.close(fd)
      return nil, w
    end
  end
  if C.connect(fd, sa, len) < 0 and ffi.errno() ~= M.EINPROGRESS then
    local _, w = fail(string.format("connect to %s port %d", ip, port))
    C.close(fd)
    return nil, w
  end
  return fd
end

-- The pending error of a socket (0 when the connect succeeded).
function M.connect_error(fd)
  local v, len = ffi.new("int[1]"), ffi.new("lnst_sock_len[1]", 4)
  if C.getsockopt(fd, SOL_SOCKET, SO_ERROR, v, len) < 0 then return ffi.errno() end
  return v[0]
end

-- Closes with a reset instead of TIME_WAIT (connect-per-transaction loads).
function M.close_reset(fd)
  local linger = ffi.new("int[2]", 1, 0)
  C.setsockopt(fd, SOL_SOCKET, SO_LINGER, linger, 8)
  C.close(fd)
end

function M.close(fd) C.close(fd) end

-- read/write: bytes moved, 0 on EOF (read), nil when it would block, or
-- nil, why on an error.
function M.read(fd, buf, n)
  local r = C.read(fd, buf, n)
  if r < 0 then
    local e = ffi.errno()
    if e == M.EAGAIN or e == M.EINTR then return nil end
    return fail("read")
  end
  return tonumber(r)
end

function M.write(fd, buf, n)
  local r = C.write(fd, buf, n)
  if r < 0 then
    local e = ffi.errno()
    if e == M.EAGAIN or e == M.EINTR then return nil end
    return fail("write")
  end
  return tonumber(r)
end

-- epoll: an object with add/mod/del(fd, events) and wait(timeout_ms) ->
-- count, events array (events[i].data is the fd).
function M.epoll(max)
  local ep = C.epoll_create1(SOCK_CLOEXEC)
  if ep < 0 then return fail("epoll_create1") end
  max = max or 256
  local evs = ffi.new("struct lnst_sock_epoll_event[?]", max)
  local ev = ffi.new("struct lnst_sock_epoll_event")
  local E = {}
  local function ctl(op, fd, events)
    ev.events = events or 0
    ev.data = fd
    if C.epoll_ctl(ep, op, fd, ev) < 0 then return fail("epoll_ctl") end
    return true
  end
  function E.add(fd, events) return ctl(EPOLL_CTL_ADD, fd, events) end
  function E.mod(fd, events) return ctl(EPOLL_CTL_MOD, fd, events) end
  function E.del(fd) return ctl(EPOLL_CTL_DEL, fd, 0) end
  function E.wait(timeout_ms)
    local n = C.epoll_wait(ep, evs, max, timeout_ms)
    if n < 0 then
      if ffi.errno() == M.EINTR then return 0, evs end
      return fail("epoll_wait")
    end
    return n, evs
  end
  function E.close() C.close(ep) end
  return E
end

-- Raises the open-file limit to at least n (up to the hard limit).
-- Returns the new soft limit.
function M.raise_nofile(n)
  local RLIMIT_NOFILE = 7
  local r = ffi.new("struct lnst_sock_rlimit")
  if C.getrlimit(RLIMIT_NOFILE, r) < 0 then return nil end
  if r.cur < n then
    r.cur = math.min(n, tonumber(r.max))
    C.setrlimit(RLIMIT_NOFILE, r)
    C.getrlimit(RLIMIT_NOFILE, r)
  end
  return tonumber(r.cur)
end

return M
