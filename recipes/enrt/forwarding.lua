-- Forwarding (LNST's ForwardingRecipe): host2 forwards (the DUT), host1 is
-- generator and receiver: traffic leaves host1.eth0 (net_ipv4/net_ipv6),
-- is routed by host2 from eth0 to eth1 and comes back to host1.eth1, which
-- sits in a namespace receiver_ns (netns_ipv4/netns_ipv6) so that host1
-- cannot deliver it locally. host2 has static neighbour entries for the
-- receiver (upstream's receiver drops ARP/NDP with XDP). Pings: host1 ->
-- host2, host2 -> receiver, host1 -> receiver; flows host1 -> receiver
-- through host2, and a result per sub-configuration checks from host2's
-- counters that its ingress NIC received and its egress NIC sent the
-- flows' bytes (more than 1 MB each way when perf tests ran).
-- Measured with iperf3 flows: upstream's pktgen ForwardingMeasurement
-- (ratep, burst) and its ntuple flow steering are not ported.
--   lnst run recipes/enrt/forwarding.lua -p perf_duration=5
local lnst = require "lnst"
local enrt = require "lnst.enrt"
local router = require "lnst.enrt.netns_router"
local results = require "lnst.results"

-- A sysfs statistics counter of dev on host h.
local function counter(h, dev, name)
  local j = h:run({ "cat", "/sys/class/net/" .. dev.name .. "/statistics/" .. name }, { level = results.DEBUG })
  return tonumber((j.stdout or ""):match("%d+")) or 0
end

local function snapshot(r, cfg)
  local h2 = r.hosts.host2
  cfg.fwd_counters = { rx = counter(h2, cfg.nics.forwarder_ingress, "rx_bytes"),
    tx = counter(h2, cfg.nics.forwarder_egress, "tx_bytes") }
end

return enrt.recipe {
  name = "Forwarding",
  description = "host2 forwards host1's traffic from one NIC to another, back to a namespace of host1",
  hosts = {
    host1 = { eth0 = { network = "net1" }, eth1 = { network = "net2" } },
    host2 = { eth0 = { network = "net1" }, eth1 = { network = "net2" } },
  },
  mixins = { "offload", "common_hw", "perf_reverse", "drop_caches", "perf_tweaks" },
  params = router.PARAMS,
  defaults = { offload_combinations = enrt.OFFLOADS5 },
  configure = function(r, cfg)
    local P, h1, h2 = r.params, r.hosts.host1, r.hosts.host2
    local nics = router.configure(r, cfg, function()
      h1.receiver_ns = lnst.netns()
      h1.receiver_ns.eth1 = h1.eth1
      h1.receiver_ns:device("lo"):up()
      return h2.eth1, h1.receiver_ns.eth1
    end)
    cfg.nics = nics
    local egress, receiver = nics.forwarder_egress, nics.receiver
    egress:neigh_add { dst = enrt.strip(enrt.addr(P.netns_ipv4, 2)), lladdr = receiver.hwaddr }
    egress:neigh_add { dst = enrt.strip(enrt.addr(P.netns_ipv6, 2)), lladdr = receiver.hwaddr }
    cfg.ping_pairs = { { nics.generator, nics.forwarder_ingress }, { egress, receiver },
      { nics.generator, receiver } }
    cfg.perf_pairs = { { nics.generator, receiver } }
    cfg.offload_devs = { receiver, nics.forwarder_ingress, egress }
    snapshot(r, cfg)
  end,
  extra_tests = function(r, cfg)
    local P, h2 = r.params, r.hosts.host2
    local before = cfg.fwd_counters
    snapshot(r, cfg)
    local rx, tx = cfg.fwd_counters.rx - before.rx, cfg.fwd_counters.tx - before.tx
    local perf = #P.perf_tests > 0 and not P.perf_test_simulation
    local want = perf and 1000000 or 1
    r:check(rx >= want and tx >= want, string.format("Forwarder host2 received %d bytes on %s and sent %d bytes "
      .. "on %s during this sub-configuration's tests (at least %d each expected)", rx,
      cfg.nics.forwarder_ingress.name, tx, cfg.nics.forwarder_egress.name, want), { rx_bytes = rx, tx_bytes = tx,
      host = h2.name })
  end,
}
