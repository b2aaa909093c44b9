-- SoftwareRDMA (LNST's SoftwareRDMARecipe): SimpleNetwork's configuration
-- (IPv4 only) plus a software RDMA link on each host's eth0 (`rdma link
-- add rxe0 type rxe netdev eth0`, rxe1 on host2, or siw*; deleted at the end),
-- then per sub-configuration the RDMA bandwidth measurement
-- (lnst.enrt.rdma: ib_send_bw from host1 to host2, perf_iterations runs
-- of perf_duration seconds, each bandwidth non-zero; perf_reverse swaps).
--   lnst run --vm recipes/enrt/software_rdma.lua -p software_rdma_type=rxe -p perf_duration=5
local enrt = require "lnst.enrt"
local p = require "lnst.param"
local results = require "lnst.results"

local rdma = require "lnst.enrt.rdma"

-- host i's RDMA device: rxe0 on host1, rxe1 on host2 (upstream: rxe0 on
-- both; RDMA device names are global to a kernel in its default shared
-- netns mode, and the hosts here may share one)
local function dev_name(P, i) return P.software_rdma_type .. (i - 1) end

return enrt.recipe {
  name = "SoftwareRDMA",
  description = "RDMA bandwidth (ib_send_bw) over a software RDMA link (rxe or siw) between two hosts",
  requires = { tools = { "rdma", "ib_send_bw" } },
  hosts = {
    host1 = { eth0 = { network = "net1" } },
    host2 = { eth0 = { network = "net1" } },
  },
  mixins = { "offload", "common_hw", "perf_reverse", "drop_caches", "perf_tweaks" },
  params = {
    software_rdma_type = p.choice { choices = { "rxe", "siw" }, mandatory = true,
      doc = "software RDMA driver (soft RoCE or soft iWARP)" },
  },
  defaults = { offload_combinations = enrt.OFFLOADS5, ip_versions = { "ipv4" }, perf_tests = {} },
  perf = false,
  configure = function(r, cfg)
    local P, h1, h2 = r.params, r.hosts.host1, r.hosts.host2
    enrt.check_features(r, { P.software_rdma_type })
    for i, dev in ipairs { h1.eth0, h2.eth0 } do cfg:ip_add(dev, enrt.addr(P.net_ipv4, i)) end
    h1.eth0:up_and_wait()
    h2.eth0:up_and_wait()
    for i, h in ipairs { h1, h2 } do
      local j = h:run({ "rdma", "link", "add", dev_name(P, i), "type", P.software_rdma_type, "netdev", h.eth0.name },
        { level = results.NORMAL })
      if not j.passed then error(string.format("host %s: rdma link add %s failed: %s", h.name, dev_name(P, i),
        tostring((j.stderr or ""):match("[^\n]+"))), 0) end
      cfg.rdma_links = cfg.rdma_links or {}
      cfg.rdma_links[i] = h
    end
    if P.software_rdma_type == "rxe" then
      -- rxe receives RoCEv2 on a UDP socket (port 4791) it opens in the
      -- kernel's initial network namespace only (Linux 6.1's rxe_net_init):
      -- hosts that are other namespaces (netns and vm provisioners) never
      -- get the packets
      local deaf = {}
      for _, h in ipairs { h1, h2 } do
        if not enrt.probe(h, "grep -q ':12B7 ' /proc/net/udp /proc/net/udp6", "probe RoCEv2 UDP socket") then
          deaf[#deaf + 1] = string.format("host %s: no RoCEv2 socket (UDP 4791) in its network namespace: the "
            .. "kernel's rxe only listens in the initial one", h.name)
        end
      end
      if #deaf > 0 then enrt.skip(r, table.concat(deaf, "; ")) end
    end
    cfg.pairs = { { h1.eth0, h2.eth0 } }
    cfg.devs = { h1.eth0, h2.eth0 }
  end,
  extra_tests = function(r, cfg)
    local a, b, ia, ib = cfg.pairs[1][1], cfg.pairs[1][2], dev_name(r.params, 1), dev_name(r.params, 2)
    if r.params.perf_reverse then a, b, ia, ib = b, a, ib, ia end
    rdma.measure(r, cfg, { a, ia }, { b, ib })
  end,
  deconfigure = function(r, cfg)
    for i, h in pairs(cfg.rdma_links or {}) do
      h:run({ "rdma", "link", "delete", dev_name(r.params, i) }, { level = results.NORMAL })
    end
  end,
}

