-- Tunnels (stand-ins for ENRT's GreTunnel, IpIpTunnel, SitTunnel,
-- Ip6TnlTunnel and GeneveTunnel recipes): two hosts on one network, an
-- underlay on eth0, a tunnel device of `kind` on each host between the two
-- underlay addresses, inner addresses on the tunnels, pings through the
-- tunnel both ways and, with perf_duration > 0, an iperf3 TCP stream
-- through it. SKIPPED on a kernel without the kind.
local lnst = require "lnst"
local p = lnst.param
local d = lnst.device

-- kind -> underlay family, device parameters, inner families, ip -d shows
local KINDS = {
  gre = { under = 4, params = { key = 7 }, v4 = true, v6 = true },
  gretap = { under = 4, params = {}, v4 = true, v6 = true },
  ipip = { under = 4, params = { mode = "ipip" }, v4 = true },
  sit = { under = 4, params = { mode = "ip6ip" }, v6 = true },
  ip6tnl = { under = 6, params = { mode = "ip6ip6" }, v6 = true },
  ip6gre = { under = 6, params = {}, v4 = true, v6 = true },
  geneve = { under = 4, params = { id = 42 }, v4 = true, v6 = true, no_local = true },
}

return lnst.recipe {
  name = "Tunnels",
  params = {
    kind = p.choice { choices = { "gre", "gretap", "ipip", "sit", "ip6tnl", "ip6gre", "geneve" }, mandatory = true },
    ping_count = p.int { default = 3, min = 1 },
    perf_duration = p.int { default = 0, min = 0, doc = "seconds of iperf3 through the tunnel (0: none)" },
  },
  hosts = {
    host1 = { eth0 = { network = "net1" } },
    host2 = { eth0 = { network = "net1" } },
  },
  test = function(r)
    local P = r.params
    local k = KINDS[P.kind]
    r:require { kinds = { P.kind }, tools = P.perf_duration > 0 and { "iperf3" } or {} }
    local hs = { r.hosts.host1, r.hosts.host2 }
    local function under(i) return k.under == 4 and "198.51.100." .. i or "2001:db8:1::" .. i end
    for i, h in ipairs(hs) do
      h.eth0:ip_add(k.under == 4 and under(i) .. "/24" or under(i) .. "/64", { nodad = k.under == 6 or nil })
      h.eth0:up()
    end
    for i, h in ipairs(hs) do
      local params = { remote = under(3 - i) }
      if not k.no_local then params["local"] = under(i) end
      for pk, pv in pairs(k.params) do params[pk] = pv end
      h.tnl = d[P.kind](params)
      if k.v4 then h.tnl:ip_add("203.0.113." .. i .. "/24") end
      if k.v6 then h.tnl:ip_add("2001:db8:2::" .. i .. "/64", { nodad = true }) end
      h.tnl:up()
    end
    local j = hs[1]:run({ "ip", "-d", "link", "show", hs[1].tnl.name })
    r:check(j.stdout:find(P.kind, 1, true) ~= nil, P.kind .. " device as the kernel shows it", { ip = j.stdout })
    for i, h in ipairs(hs) do
      if k.v4 then h:run({ "ping", "-c", P.ping_count, "-i", "0.2", "-w", "10", "203.0.113." .. (3 - i) }) end
      if k.v6 then h:run({ "ping", "-c", P.ping_count, "-i", "0.2", "-w", "10", "2001:db8:2::" .. (3 - i) }) end
    end
    if P.perf_duration > 0 then
      local dst = k.v4 and "203.0.113.2" or "2001:db8:2::2"
      local srv = hs[2]:run({ "iperf3", "-s", "-1", "-B", dst }, { bg = true })
      r:wait(0.5)
      local c = hs[1]:run({ "iperf3", "-c", dst, "-t", P.perf_duration, "-J" }, { timeout = P.perf_duration + 30 })
      srv:wait(10)
      local bps = c.stdout:match('"sum_received":%s*{.-"bits_per_second":%s*([%d%.e+]+)')
      r:check(bps and tonumber(bps) > 0, string.format("iperf3 through %s: %s Mbit/s", P.kind,
        bps and string.format("%.0f", tonumber(bps) / 1e6) or "?"))
    end
  end,
}
