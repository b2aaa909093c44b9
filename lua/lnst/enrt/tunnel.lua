-- lnst.enrt.tunnel: LNST's BaseTunnelRecipe. A tunnel recipe builds a
-- carrier network (def.carrier(r, cfg) -> carrier device of host1, of host2)
-- and a tunnel over it (def.tunnel(r, cfg, c1, c2) -> tunnel devices); pings
-- and perf flows go through the tunnel, and every ping is checked with a
-- capture on the receiving carrier device (tcpdump through the
-- packet_assert module, filter def.capture(cfg, ping_conf) -> { p_filter =,
-- grep_for = }): at least ping_count packets must be seen there, proving
-- the pings crossed the tunnel.
--
-- p2p(kind, opts) builds the usual point-to-point tunnel recipes (gre,
-- ipip, sit, ip6tnl, ip6gre, geneve, vxlan): carrier addresses from
-- net_ipv4/net_ipv6, tunnel addresses from tunnel_net_ipv4/_ipv6 with a
-- route to the peer's tunnel network, or LWT (external device, addresses on
-- lo, `encap` routes) with opts.lwt.
local enrt = require "lnst.enrt"
local results = require "lnst.results"
local p = require "lnst.param"

local M = {}

-- The capture-checked ping of a tunnel recipe (upstream's overridden ping_test).
local function ping_test(def)
  return function(r, cfg, list)
    local T = require("lnst.modules").tests
    local caps = {}
    for i, c in ipairs(list) do
      local dev = cfg.capture_dev and cfg.capture_dev(c) or cfg.carrier[c.destination_dev]
      local f = def.capture(cfg, c)
      caps[i] = { dev = dev, f = f, job = dev.host:run(T.packet_assert { interface = dev, p_filter = f.p_filter,
        grep_for = f.grep_for }, { bg = true, level = results.NORMAL }) }
    end
    require("lnst.perf").ping(r, list)
    r:wait(0.5)
    for i, cap in ipairs(caps) do
      cap.job:kill("INT")
      pcall(cap.job.wait, cap.job, 10)
      local got = cap.job.result and cap.job.result.p_recv or 0
      local want = cap.f.p_min or list[i].count
      r:check(cap.job.passed and got >= want, string.format("Packet assert on %s (%s): %d packets, expected at "
        .. "least %d%s", enrt.dev_key(cap.dev), cap.f.p_filter, got, want,
        cap.job.passed and "" or (": " .. tostring(cap.job.skipped or (cap.job.error and cap.job.error.message)
          or "tcpdump failed"))), { p_recv = got, filter = cap.f.p_filter, grep_for = cap.f.grep_for })
    end
  end
end

-- The capture-checked ping for other recipes too (IPsec): def.capture(cfg,
-- ping_conf) -> { p_filter, grep_for, p_min (default: the ping count) },
-- captured on cfg.capture_dev(ping_conf) or cfg.carrier[destination_dev].
M.capture_ping = ping_test

-- def: an enrt.recipe definition with carrier, tunnel and capture instead
-- of configure.
function M.recipe(def)
  local carrier, tunnel = def.carrier, def.tunnel
  local d = {}
  for k, v in pairs(def) do
    if k ~= "carrier" and k ~= "tunnel" and k ~= "capture" then d[k] = v end
  end
  d.configure = function(r, cfg)
    local c1, c2 = carrier(r, cfg)
    local t1, t2 = tunnel(r, cfg, c1, c2)
    cfg.carrier = { [t1] = c1, [t2] = c2 } -- a ping to t2 is captured on host2's carrier
    cfg.pairs = cfg.pairs and #cfg.pairs > 0 and cfg.pairs or { { t1, t2 } }
    if not cfg.devs or #cfg.devs == 0 then cfg.devs = { c1, c2 } end
  end
  d.ping_test = ping_test(def)
  return enrt.recipe(d)
end

M.PARAMS = {
  tunnel_net_ipv4 = p.network { family = 4, default = "203.0.113.0/24",
    doc = "tunnel addresses: .1/.2 /25-halves (host1 in the lower, host2 in the upper half)" },
  tunnel_net_ipv6 = p.network { family = 6, default = "2001:db8:7::/48",
    doc = "tunnel addresses: 2001:db8:7:1::/64 on host1, :2:: on host2" },
}

-- A capture filter for IPv6 packets of protocol proto (a number), also when
-- a destination options header comes first: ip6tnl and ip6gre devices add
-- one with the tunnel encapsulation limit option (RFC 2473; encaplimit 4 by
-- default), and "ip6 proto N" only looks at the fixed header's next header.
function M.ip6_proto_filter(proto)
  return string.format("ip6 proto %d or (ip6 proto 60 and ip6[40] == %d)", proto, proto)
end

-- Carrier: addresses on host1.eth0/host2.eth0 from net_ipv4/net_ipv6 (.1, .2).
function M.simple_carrier(r, cfg, families)
  local P, h1, h2 = r.params, r.hosts.host1, r.hosts.host2
  for i, dev in ipairs { h1.eth0, h2.eth0 } do
    if families.ipv4 then cfg:ip_add(dev, enrt.addr(P.net_ipv4, i)) end
    if families.ipv6 then cfg:ip_add(dev, enrt.addr(P.net_ipv6, i)) end
  end
  h1.eth0:up_and_wait()
  h2.eth0:up_and_wait()
  return h1.eth0, h2.eth0
end

-- The two tunnel subnets: host i gets tunnel_net_ipv4's i-th /25 (.1 /
-- .129) and tunnel_net_ipv6's :i::/64.
function M.tunnel_addrs(P, i)
  local v4 = enrt.addr(P.tunnel_net_ipv4, (i - 1) * 128 + 1, 25)
  local net6 = enrt.addr(P.tunnel_net_ipv6, 0):gsub("/%d+$", "")
  local v6 = net6:gsub("::$", "") .. ":" .. i .. "::1/64"
  local v4net = enrt.addr(P.tunnel_net_ipv4, (i - 1) * 128, 25)
  local v6net = net6:gsub("::$", "") .. ":" .. i .. "::/64"
  return v4, v6, v4net, v6net
end

-- A point-to-point tunnel recipe. o: name, description, requires, params,
-- defaults, mixins (default offload, common_hw, perf_reverse, drop_caches,
-- perf_tweaks), carrier ("ipv4" or "ipv6", or the carrier_ipversion
-- parameter when nil), device(r, i, c_local, c_remote, carrier_family) -> a
-- device spec for host i, capture(cfg, ping_conf, carrier_family) -> {
-- p_filter, grep_for }, lwt = true for an external device with addresses on
-- lo and encap routes (o.encap_id, default 1234), inner ("ipv4"/"ipv6"
-- list: the IP versions the tunnel carries; default both). An LWT device
-- that carries Ethernet frames (geneve) needs o.l2: IPv6 then gets static
-- neighbours for the peer's address on lo (neighbour discovery only
-- answers for addresses of the receiving device; ARP answers for any).
function M.p2p(o)
  local params = {}
  for k, v in pairs(M.PARAMS) do params[k] = v end
  for k, v in pairs(o.params or {}) do params[k] = v end
  if not o.carrier then
    params.carrier_ipversion = p.choice { choices = { "ipv4", "ipv6" }, default = o.carrier_default or "ipv4",
      doc = "IP version of the carrier network" }
  end
  local function cfam(P) return o.carrier or P.carrier_ipversion end
  return M.recipe {
    name = o.name, description = o.description, requires = o.requires, params = params, defaults = o.defaults,
    hosts = o.hosts or { host1 = { eth0 = { network = "net1" } }, host2 = { eth0 = { network = "net1" } } },
    mixins = o.mixins or { "offload", "common_hw", "perf_reverse", "drop_caches", "perf_tweaks" },
    carrier = o.carrier_fn or function(r, cfg)
      local fam = cfam(r.params)
      return M.simple_carrier(r, cfg, { [fam] = true })
    end,
    tunnel = function(r, cfg, c1, c2)
      local P = r.params
      local fam = cfam(P)
      cfg._carrier_family = fam
      local ca = { cfg:ips(c1, fam)[1], cfg:ips(c2, fam)[1] }
      local cs = { c1, c2 }
      local devs = {}
      for i = 1, 2 do
        local h = cs[i].host
        h.tnl = o.device(r, i, cs[i], enrt.strip(ca[i]), enrt.strip(ca[3 - i]), fam)
        devs[i] = h.tnl
      end
      local inner = o.inner or { "ipv4", "ipv6" }
      local want = {}
      for _, v in ipairs(inner) do want[v] = true end
      if o.lwt then
        local los = {}
        for i = 1, 2 do
          devs[i]:up()
          los[i] = cs[i].host:device("lo")
          local v4, v6 = M.tunnel_addrs(P, i)
          if want.ipv4 then cfg:ip_add(los[i], (v4:gsub("/%d+$", "/32"))) end
          if want.ipv6 then cfg:ip_add(los[i], (v6:gsub("/%d+$", "/128"))) end
        end
        for i = 1, 2 do
          local v4, v6 = M.tunnel_addrs(P, 3 - i)
          local encap = { type = fam == "ipv6" and "ip6" or "ip", id = o.encap_id or 1234,
            dst = enrt.strip(ca[3 - i]) }
          if want.ipv4 then devs[i]:route_add { dst = (v4:gsub("/%d+$", "/32")), encap = encap } end
          if want.ipv6 then devs[i]:route_add { dst = (v6:gsub("/%d+$", "/128")), encap = encap } end
          if want.ipv6 and o.l2 then devs[i]:neigh_add { dst = enrt.strip(v6), lladdr = devs[3 - i].hwaddr } end
        end
        return los[1], los[2]
      end
      for i = 1, 2 do
        local v4, v6 = M.tunnel_addrs(P, i)
        if want.ipv4 then cfg:ip_add(devs[i], v4) end
        if want.ipv6 then cfg:ip_add(devs[i], v6) end
        devs[i]:up()
      end
      for i = 1, 2 do
        local _, _, n4, n6 = M.tunnel_addrs(P, 3 - i)
        if want.ipv4 then devs[i]:route_add { dst = n4 } end
        if want.ipv6 then devs[i]:route_add { dst = n6 } end
      end
      return devs[1], devs[2]
    end,
    capture = function(cfg, c) return o.capture(cfg, c, cfg._carrier_family) end,
  }
end

return M
