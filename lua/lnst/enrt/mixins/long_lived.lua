-- lnst.enrt.mixins.long_lived: LNST's LongLivedConnectionsMixin (a perf
-- test tweak). At configuration it adds extra addresses for the
-- connections (long_lived_conns_net4/net6: client addresses .1.. on the
-- first perf pair's first device, one per long_lived_conns_per_ip
-- connections, the server address .254 / ::fe on its second device); around
-- every perf test it holds long_lived_conns TCP connections open between
-- them (lnst.tests.long_lived_server on the receiver, one
-- long_lived_client per client address, each returning once its
-- connections are established), then stops them and checks that each side
-- held all of them until the end. The IP version is the first of
-- ip_versions.
local p = require "lnst.param"
local results = require "lnst.results"

local M = {}

local function plan(P)
  local n, per = P.long_lived_conns, P.long_lived_conns_per_ip
  local out, left = {}, n
  while left > 0 do
    out[#out + 1] = math.min(per, left)
    left = left - per
  end
  return out
end

local function net(P)
  if P.ip_versions[1] == "ipv6" then return P.long_lived_conns_net6, 0xfe end
  return P.long_lived_conns_net4, 254
end

M.long_lived = {
  params = {
    long_lived_conns = p.int { mandatory = true, min = 1, doc = "TCP connections held open during each perf test" },
    long_lived_conns_port = p.int { default = 20000, min = 1, max = 65535, doc = "their server port" },
    long_lived_conns_per_ip = p.int { default = 20000, min = 1, max = 28000,
      doc = "connections per client address (each needs an ephemeral port)" },
    long_lived_conns_net4 = p.network { family = 4, default = "203.0.113.0/24",
      doc = "addresses for the connections (IPv4)" },
    long_lived_conns_net6 = p.network { family = 6, default = "2001:db8:103::/64",
      doc = "addresses for the connections (IPv6)" },
  },
  configure = function(r, cfg)
    local enrt = require "lnst.enrt"
    local P = r.params
    local pair = cfg.long_lived_pair or (cfg.perf_pairs or cfg.pairs)[1]
    if not pair then error("long_lived mixin: the recipe configured no endpoint pair", 0) end
    local client, server = pair[1], pair[2]
    local counts = plan(P)
    local nw, srv_i = net(P)
    if #counts >= srv_i then
      error(string.format("parameter 'long_lived_conns': %d connections at %d per address need %d client "
        .. "addresses, more than %s has room for", P.long_lived_conns, P.long_lived_conns_per_ip, #counts, nw), 0)
    end
    local v6 = enrt.family(nw) == "ipv6"
    local ll = { client = client, server = server, counts = counts, clients = {} }
    ll.server_ip = enrt.addr(nw, srv_i)
    server:ip_add(ll.server_ip, v6 and { nodad = true } or nil)
    for i = 1, #counts do
      ll.clients[i] = enrt.addr(nw, i)
      client:ip_add(ll.clients[i], v6 and { nodad = true } or nil)
    end
    cfg.long_lived = ll
    cfg:note(string.format("Long-lived connections: %d from %s.%s [%s] to %s.%s %s port %d", P.long_lived_conns,
      client.host.name, client.name, table.concat(ll.clients, ", "), server.host.name, server.name, ll.server_ip,
      P.long_lived_conns_port))
  end,
  perf_apply = function(r, cfg)
    local enrt = require "lnst.enrt"
    local T = require("lnst.modules").tests
    local P, ll = r.params, cfg.long_lived
    ll.jobs = {}
    ll.server_job = ll.server.host:run(T.long_lived_server { server_ip = enrt.strip(ll.server_ip),
      server_port = P.long_lived_conns_port, connections_count = P.long_lived_conns },
      { bg = true, level = results.NORMAL })
    if ll.server_job.finished then
      error(string.format("long-lived connections: the server on %s did not start: %s", ll.server.host.name,
        tostring(ll.server_job.skipped or (ll.server_job.error and ll.server_job.error.message)
          or (ll.server_job.result and ll.server_job.result.msg))), 0)
    end
    for i, n in ipairs(ll.counts) do
      ll.jobs[i] = ll.client.host:run(T.long_lived_client { server_ip = enrt.strip(ll.server_ip),
        server_port = P.long_lived_conns_port, client_ip = enrt.strip(ll.clients[i]), connections_count = n },
        { bg = true, level = results.NORMAL })
    end
  end,
  perf_remove = function(r, cfg)
    local ll = cfg.long_lived
    local jobs = ll.jobs or {}
    ll.jobs = nil
    for _, j in ipairs(jobs) do
      if not j.finished then j:kill("INT") end
    end
    for _, j in ipairs(jobs) do pcall(j.wait, j, 30) end
    local s = ll.server_job
    ll.server_job = nil
    if s then
      if not s.finished then s:kill("INT") end
      pcall(s.wait, s, 30)
    end
    local held = 0
    local ok = s ~= nil and s.passed == true
    for i, j in ipairs(jobs) do
      local got = type(j.result) == "table" and j.result.connections or 0
      held = held + got
      ok = ok and j.passed == true and got == ll.counts[i]
    end
    local sres = s and type(s.result) == "table" and s.result or {}
    local why = {}
    for _, j in ipairs(jobs) do
      local m = type(j.result) == "table" and j.result.msg or j.skipped or (j.error and j.error.message)
      if m and not j.passed then why[#why + 1] = tostring(m) end
    end
    r:check(ok, string.format("Long-lived connections: clients held %d of %d, server held %s%s", held,
      r.params.long_lived_conns, tostring(sres.connections or 0), #why > 0 and (": " .. why[1]) or ""),
      { clients = held, server = sres.connections, wanted = r.params.long_lived_conns })
  end,
  perf_describe = function(r, cfg)
    return string.format("Long-lived connections: %d held open to %s during the test", r.params.long_lived_conns,
      cfg.long_lived.server_ip)
  end,
}

return M
