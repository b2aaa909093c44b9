-- long_lived_connections: LNST's LongLivedServer and LongLivedClient, run on
-- the agent (docs/test-modules.md). params.role is "server" or "client".
-- The server listens on server_ip:server_port and holds every connection it
-- accepts; the client opens connections_count TCP connections from
-- client_ip and holds them. Both run for `duration` seconds, or until SIGINT
-- when duration is 0, and pass when they hold exactly connections_count
-- connections, as upstream counts them: the sockets each side opened or
-- accepted and still holds. A connection the peer closes during the hold is
-- counted in closed_by_peer (information: stopping one side first closes
-- the other's connections, so it cannot decide the verdict). Each announces readiness (api.ready): the server
-- when it listens, the client when all its connections are established.
-- Result: { connections = held, closed_by_peer = N, ... }.
local bit = require "bit"

local M = {}

local function run_server(p, api, S)
  S.raise_nofile(p.connections_count + 64)
  local lfd, why = S.listen(p.server_ip, p.server_port)
  if not lfd then error(string.format("host %s: %s", api.host, why), 0) end
  local ep = assert(S.epoll(1024))
  ep.add(lfd, S.EPOLLIN)
  api.ready()
  local held, accepted, closed = {}, 0, 0
  local nheld = 0
  local deadline = p.duration > 0 and api.monotonic() + p.duration or nil
  local buf = require("ffi").new("uint8_t[4096]")
  while not api.stop_requested() and not (deadline and api.monotonic() >= deadline) do
    local n, evs = ep.wait(100)
    for i = 0, (n or 0) - 1 do
      local fd = tonumber(evs[i].data)
      if fd == lfd then
        while true do
          local c = S.accept(lfd)
          if not c then break end
          ep.add(c, S.EPOLLIN)
          held[c] = true
          nheld, accepted = nheld + 1, accepted + 1
        end
      elseif held[fd] then
        local r = S.read(fd, buf, 4096)
        if r == 0 or (r == nil and bit.band(evs[i].events, S.EPOLLERR + S.EPOLLHUP) ~= 0) then
          ep.del(fd) -- still held (counted), no longer watched
          closed = closed + 1
        end
      end
    end
  end
  return { connections = nheld, accepted = accepted, closed_by_peer = closed }, nheld == p.connections_count
end

local function run_client(p, api, S)
  S.raise_nofile(p.connections_count + 64)
  local ep = assert(S.epoll(1024))
  local pending, established, failed, first_err = {}, {}, 0, nil
  local npending, nest = 0, 0
  for _ = 1, p.connections_count do
    local fd, why = S.connect(p.server_ip, p.server_port, p.client_ip)
    if fd then
      ep.add(fd, S.EPOLLOUT)
      pending[fd] = true
      npending = npending + 1
    else
      failed = failed + 1
      first_err = first_err or why
    end
  end
  local connect_deadline = api.monotonic() + 30
  while npending > 0 and api.monotonic() < connect_deadline and not api.stop_requested() do
    local n, evs = ep.wait(100)
    for i = 0, (n or 0) - 1 do
      local fd = tonumber(evs[i].data)
      if pending[fd] then
        pending[fd] = nil
        npending = npending - 1
        local e = S.connect_error(fd)
        if e == 0 then
          ep.mod(fd, S.EPOLLIN)
          established[fd] = true
          nest = nest + 1
        else
          failed = failed + 1
          first_err = first_err or string.format("connect to %s port %d: %s", p.server_ip, p.server_port,
            S.strerror(e))
          ep.del(fd)
          S.close(fd)
        end
      elseif established[fd] and bit.band(evs[i].events, S.EPOLLERR + S.EPOLLHUP) ~= 0 then
        established[fd] = nil
        nest = nest - 1
        ep.del(fd)
        S.close(fd)
      end
    end
  end
  if npending > 0 then
    failed = failed + npending
    first_err = first_err or string.format("%d connections were not established within 30 s", npending)
  end
  api.ready()
  -- hold: a connection the server resets or closes shows as HUP/ERR or EOF
  local buf = require("ffi").new("uint8_t[64]")
  local closed = 0
  local deadline = p.duration > 0 and api.monotonic() + p.duration or nil
  while not api.stop_requested() and not (deadline and api.monotonic() >= deadline) do
    local n, evs = ep.wait(100)
    for i = 0, (n or 0) - 1 do
      local fd = tonumber(evs[i].data)
      if established[fd] and (bit.band(evs[i].events, S.EPOLLERR + S.EPOLLHUP) ~= 0 or S.read(fd, buf, 64) == 0) then
        ep.del(fd) -- still held (counted), no longer watched
        closed = closed + 1
      end
    end
  end
  local res = { connections = nest, failed = failed, closed_by_peer = closed }
  if first_err then res.msg = first_err end
  return res, nest == p.connections_count
end

function M.run(p, api)
  local S = require "lnst.tests.sock"
  if p.role == "server" then return run_server(p, api, S) end
  return run_client(p, api, S)
end

return M
