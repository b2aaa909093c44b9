-- MPTCP (LNST's MPTCPRecipe): two NICs per host on two networks (eth0 on
-- net1 with net_ipv4/net_ipv6, eth1 on net2 with net2_ipv4/net2_ipv6);
-- host1 announces its eth1 addresses as MPTCP subflow endpoints (`ip mptcp
-- endpoint add ADDR dev eth1 subflow`), both hosts allow one subflow and
-- one accepted address (`ip mptcp limits set`), host1 routes net1 through
-- eth1 too (metric 10000, a static neighbour for host2.eth0's IPv6 address)
-- and rp_filter is off on host2, so the second subflow (host1.eth1 -> host2.eth0) can go over
-- net2. Flows are mptcp_stream (iperf3 through mptcpize) host1.eth0 ->
-- host2.eth0; after the perf tests a check that host1.eth1 sent data
-- proves the second subflow carried some of it.
--   lnst run recipes/enrt/mptcp.lua -p perf_duration=5
local enrt = require "lnst.enrt"
local p = require "lnst.param"
local results = require "lnst.results"

local function tx_bytes(h, dev)
  local j = h:run({ "cat", "/sys/class/net/" .. dev.name .. "/statistics/tx_bytes" }, { level = results.DEBUG })
  return tonumber((j.stdout or ""):match("%d+")) or 0
end

local function ipm(h, args)
  local argv = { "ip", "mptcp" }
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  local j = h:run(argv, { level = results.NORMAL })
  if not j.passed then
    error(string.format("MPTCP: host %s: %s failed: %s", h.name, table.concat(argv, " "),
      (j.stderr or ""):match("[^\n]+") or ("exit " .. tostring(j.exit_code))), 0)
  end
  return j
end

return enrt.recipe {
  name = "MPTCP",
  description = "MPTCP flows with a second subflow over a second network",
  requires = { tools = { "mptcpize" }, features = { "mptcp" } },
  hosts = {
    host1 = { eth0 = { network = "net1" }, eth1 = { network = "net2" } },
    host2 = { eth0 = { network = "net1" }, eth1 = { network = "net2" } },
  },
  mixins = { "common_hw", "perf_reverse", "drop_caches", "perf_tweaks" },
  params = {
    net2_ipv4 = p.network { family = 4, default = "203.0.113.0/24", doc = "IPv4 network of eth1" },
    net2_ipv6 = p.network { family = 6, default = "2001:db8:102::/64", doc = "IPv6 network of eth1" },
  },
  defaults = { perf_tests = { "mptcp_stream" } },
  configure = function(r, cfg)
    local P, h1, h2 = r.params, r.hosts.host1, r.hosts.host2
    for i, h in ipairs { h1, h2 } do
      cfg:ip_add(h.eth0, enrt.addr(P.net_ipv4, i))
      cfg:ip_add(h.eth0, enrt.addr(P.net_ipv6, i))
      cfg:ip_add(h.eth1, enrt.addr(P.net2_ipv4, i))
      cfg:ip_add(h.eth1, enrt.addr(P.net2_ipv6, i))
      h.eth0:up_and_wait()
      h.eth1:up_and_wait()
      ipm(h, { "limits", "set", "subflows", "1", "add_addr_accepted", "1" })
    end
    for _, a in ipairs { enrt.addr(P.net2_ipv4, 1), enrt.addr(P.net2_ipv6, 1) } do
      ipm(h1, { "endpoint", "add", enrt.strip(a), "dev", h1.eth1.name, "subflow" })
    end
    -- the same prefixes as eth0's connected routes, with a worse metric: only
    -- the subflow bound to eth1 (endpoint dev eth1) takes them
    h1.eth1:route_add { dst = P.net_ipv4, metric = 10000 }
    h1.eth1:route_add { dst = P.net_ipv6, metric = 10000 }
    -- host2.eth1 answers ARP for host2.eth0's IPv4 address, but IPv6
    -- neighbour discovery only for its own: a static neighbour instead
    h1.eth1:neigh_add { dst = enrt.strip(enrt.addr(P.net_ipv6, 2)), lladdr = h2.eth1.hwaddr }
    h2:sysctl_set("net.ipv4.conf.all.rp_filter", 0)
    h2:sysctl_set("net/ipv4/conf/" .. h2.eth1.name .. "/rp_filter", 0)
    cfg.pairs = { { h1.eth0, h2.eth0 } }
    cfg.devs = { h1.eth0, h1.eth1, h2.eth0, h2.eth1 }
    cfg.mptcp_tx0 = tx_bytes(h1, h1.eth1)
    cfg:note("MPTCP: host1 subflow endpoints " .. enrt.addr(P.net2_ipv4, 1) .. ", " .. enrt.addr(P.net2_ipv6, 1)
      .. " on eth1; limits subflows 1, add_addr_accepted 1 on both hosts")
  end,
  extra_tests = function(r, cfg)
    local P, h1 = r.params, r.hosts.host1
    local mp = false
    for _, t in ipairs(P.perf_tests) do mp = mp or t == "mptcp_stream" end
    if not mp or P.perf_test_simulation then return end
    local sent = tx_bytes(h1, h1.eth1) - cfg.mptcp_tx0
    cfg.mptcp_tx0 = cfg.mptcp_tx0 + sent
    r:check(sent > 1000000, string.format("MPTCP second subflow: host1.%s sent %d bytes during the perf tests "
      .. "(more than 1 MB expected)", h1.eth1.name, sent), { tx_bytes = sent })
  end,
  deconfigure = function(r)
    for _, h in ipairs { r.hosts.host1, r.hosts.host2 } do
      h:run({ "ip", "mptcp", "endpoint", "flush" }, { level = results.NORMAL })
      h:run({ "ip", "mptcp", "limits", "set", "subflows", "0", "add_addr_accepted", "0" }, { level = results.NORMAL })
    end
  end,
}
