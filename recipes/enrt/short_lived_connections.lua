-- ShortLivedConnections (LNST's ShortLivedConnectionsRecipe): request/
-- response workloads (net_perf_tool neper: tcp_rr keeps its connection,
-- tcp_crr opens one per transaction, udp_rr needs neper's binary) between
-- host1.eth0 and host2.eth0 (.10 and .11 of net_ipv4), for each message
-- size (request = response size). IPv4 only by default, as upstream.
--   lnst run recipes/enrt/short_lived_connections.lua -p perf_duration=10
local enrt = require "lnst.enrt"
local p = require "lnst.param"

return enrt.recipe {
  name = "ShortLivedConnections",
  description = "Request/response transaction rates (tcp_rr, tcp_crr, udp_rr) over a simple network",
  hosts = {
    host1 = { eth0 = { network = "net1" } },
    host2 = { eth0 = { network = "net1" } },
  },
  mixins = { "common_hw", "perf_reverse", "drop_caches" },
  params = {
    perf_tests = p.list { of = p.choice { choices = { "tcp_rr", "tcp_crr", "udp_rr" } },
      default = { "tcp_rr", "tcp_crr", "udp_rr" }, doc = "request/response workloads" },
  },
  defaults = { net_perf_tool = "neper", ip_versions = { "ipv4" },
    perf_msg_sizes = { 1000, 5000, 7000, 10000, 12000 } },
  configure = function(r, cfg)
    local P = r.params
    for i, h in ipairs { r.hosts.host1, r.hosts.host2 } do
      cfg:ip_add(h.eth0, enrt.addr(P.net_ipv4, 9 + i))
      cfg:ip_add(h.eth0, enrt.addr(P.net_ipv6, 9 + i))
      h.eth0:up_and_wait()
    end
    cfg.pairs = { { r.hosts.host1.eth0, r.hosts.host2.eth0 } }
    cfg.devs = { r.hosts.host1.eth0, r.hosts.host2.eth0 }
  end,
}
