-- lnst.enrt.xdp: LNST's XDP recipes (XDPDropRecipe, XDPTxRecipe,
-- XDPRedirectCPURecipe). Configuration: host1.eth0 and host2.eth0 with
-- net_ipv4/net_ipv6 addresses (and, per recipe, o.prepare(r, cfg) on
-- host2: rxhash off and a zero RSS key for redirect-cpu), pings between
-- them. The measurement is upstream's XDPBenchMeasurement (or
-- XDPRedirectCPUMeasurement), lnst.perf.xdp: per IP version and message
-- size, pktgen on host1 floods host2.eth0, where `xdp-bench COMMAND`
-- counts what its program did, perf_iterations times, with a CPU
-- measurement of both hosts and the nonzero evaluator. It needs pktgen
-- (/proc/net/pktgen, loaded with modprobe when absent) on host1 and
-- xdp-bench (xdp-tools) on host2; without them it is skipped with a
-- WARNING naming what is missing (as on this machine's kernel, which has
-- no pktgen: `lnst run --vm` runs it on Debian's kernel).
local enrt = require "lnst.enrt"
local p = require "lnst.param"
local results = require "lnst.results"
local xdp_perf = require "lnst.perf.xdp"

local M = {}

-- What the measurement needs and is missing here, as text (nil: nothing).
local function missing(r)
  local h1, h2 = r.hosts.host1, r.hosts.host2
  local out = {}
  local load = "test -d /proc/net/pktgen || { m=$(command -v modprobe || cat /proc/sys/kernel/modprobe); "
    .. "\"$m\" -q -- pktgen; test -d /proc/net/pktgen; }"
  if not enrt.probe(h1, load, "probe pktgen") then
    out[#out + 1] = "host1 has no pktgen (/proc/net/pktgen is absent and modprobe pktgen failed: "
      .. "kernel module pktgen, CONFIG_NET_PKTGEN)"
  end
  if not enrt.probe(h2, "command -v xdp-bench", "probe xdp-bench") then
    out[#out + 1] = "host2 has no xdp-bench (xdp-tools)"
  end
  return #out > 0 and table.concat(out, "; ") or nil
end

-- o: name, description, command (xdp-bench command), params, prepare(r, cfg).
function M.recipe(o)
  local params = {
    xdp_mode = p.choice { choices = { "native", "skb" }, default = "native", doc = "xdp-bench -m" },
    xdp_load_mode = p.choice { choices = { "dpa", "load-bytes" }, doc = "xdp-bench -l (unset: not passed)" },
    xdp_packet_operation = p.choice { choices = { "no-touch", "read-data", "parse-ip", "swap-macs" },
      doc = "xdp-bench -p (unset: not passed)" },
    xdp_remote_action = p.choice { choices = { "disabled", "drop", "pass", "redirect" },
      doc = "xdp-bench --remote-action (unset: not passed)" },
  }
  for k, v in pairs(o.params or {}) do params[k] = v end
  return enrt.recipe {
    name = o.name, description = o.description,
    requires = { kinds = { "veth" } },
    hosts = { host1 = { eth0 = { network = "net1" } }, host2 = { eth0 = { network = "net1" } } },
    mixins = { "common_hw" },
    params = params,
    defaults = { perf_tests = {} },
    perf = false,
    configure = function(r, cfg)
      enrt.configure_eth0_pair(r, cfg)
      if o.prepare then o.prepare(r, cfg) end
    end,
    extra_tests = function(r, cfg)
      local P = r.params
      local why = missing(r) or (o.measurement_options and select(2, o.measurement_options(r)))
      if why then
        r:add_result(results.WARNING, string.format("XDP measurement (pktgen from host1, xdp-bench %s -m %s on "
          .. "host2.eth0) not run: %s", o.command, P.xdp_mode, why))
        return
      end
      M.measure(r, cfg, o)
    end,
  }
end

-- The measurements: one perf configuration per IP version and message
-- size, each perf_iterations times (M.recipe's extra_tests).
function M.measure(r, cfg, o)
  local P = r.params
  local perf = require "lnst.perf"
  local h1, h2 = r.hosts.host1, r.hosts.host2
  local combos = xdp_perf.plan { generator = h1.eth0, receiver = h2.eth0,
    ips = function(dev, ipv) return cfg:ips(dev, ipv) end, ip_versions = P.ip_versions,
    msg_sizes = P.perf_msg_sizes, parallel_processes = P.perf_parallel_processes, duration = P.perf_duration,
    warmup_duration = P.perf_warmup_duration, cpupin = P.perf_tool_cpu }
  local mopts = { command = o.command, xdp_mode = P.xdp_mode, load_mode = P.xdp_load_mode,
    packet_operation = P.xdp_packet_operation, remote_action = P.xdp_remote_action,
    receiver_mac = h2.eth0.hwaddr }
  if o.measurement_options then
    for k, v in pairs(o.measurement_options(r)) do mopts[k] = v end
  end
  for i, combo in ipairs(combos) do
    local m = xdp_perf.measurement(combo.flows, mopts)
    local conf = perf.conf { name = combo.description, measurements = { perf.stat_cpu { h1, h2 }, m },
      iterations = P.perf_iterations, simulate = P.perf_test_simulation, index = i, total = #combos }
    conf:register_evaluators(m, { perf.evaluators.nonzero_flow { metrics = m:metrics() } })
    perf.run(r, conf)
  end
end

-- An ethtool setting on host2.eth0 that the driver may not support: a
-- WARNING with ethtool's reason then (veth has no RSS hash to turn off).
function M.ethtool(r, args, what)
  local h = r.hosts.host2
  local ok, _, why = enrt.probe(h, "ethtool " .. table.concat(args, " "), what)
  if ok then
    r:add_result(results.PASS, string.format("%s on host2.%s", what, h.eth0.name))
  else
    r:add_result(results.WARNING, string.format("%s on host2.%s not applied: %s", what, h.eth0.name,
      why or "ethtool failed"))
  end
end

return M
