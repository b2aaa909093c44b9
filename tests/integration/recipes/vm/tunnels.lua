-- Tunnels without a passing ENRT recipe yet (stand-ins for Ip6TnlTunnel
-- and Ip6GreTunnel, whose ENRT ports count encapsulated packets with a
-- tcpdump filter, "ip6 proto 41" / "ip6 proto gre", that misses the
-- encapsulation-limit option these tunnels put first; and gretap, which has
-- none): two hosts on one network, an underlay on eth0, a tunnel device of
-- `kind` on each host between the two underlay addresses, inner addresses
-- on the tunnels, pings through the tunnel both ways and, with
-- perf_duration > 0, an iperf3 TCP stream through it. SKIPPED on a kernel
-- without the kind. The stand-ins ping with -c N -w 10: N replies within
-- 10 s, so that a slow guest (TCG) losing the first packets while links
-- settle still passes.
local lnst = require "lnst"
local p = lnst.param
local d = lnst.device

-- kind -> underlay family, device parameters, inner families
local KINDS = {
  gretap = { under = 4, params = {}, v4 = true, v6 = true },
  ip6tnl = { under = 6, params = { mode = "ip6ip6" }, v6 = true },
  ip6gre = { under = 6, params = {}, v4 = true, v6 = true },
}

return lnst.recipe {
  name = "Tunnels",
  params = {
    kind = p.choice { choices = { "gretap", "ip6tnl", "ip6gre" }, mandatory = true },
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
      local params = { remote = under(3 - i), ["local"] = under(i) }
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
