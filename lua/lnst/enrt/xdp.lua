-- lnst.enrt.xdp: LNST's XDP recipes (XDPDropRecipe, XDPTxRecipe,
-- XDPRedirectCPURecipe). Configuration: host1.eth0 and host2.eth0 with
-- net_ipv4/net_ipv6 addresses (and, per recipe, o.prepare(r, cfg) on
-- host2: rxhash off and a zero RSS key for redirect-cpu), pings between
-- them. The measurement is upstream's XDPBenchMeasurement: pktgen on host1
-- floods host2.eth0, where `xdp-bench COMMAND` counts what its program
-- did. It needs pktgen (/proc/net/pktgen) on host1 and xdp-bench
-- (xdp-tools) on host2; without them it is skipped with a WARNING naming
-- what is missing. The pktgen/xdp-bench measurement itself is not ported:
-- with both present the WARNING says so.
local enrt = require "lnst.enrt"
local p = require "lnst.param"
local results = require "lnst.results"

local M = {}

-- What the measurement needs and is missing here, as text (nil: nothing).
local function missing(r)
  local h1, h2 = r.hosts.host1, r.hosts.host2
  local out = {}
  if not enrt.probe(h1, enrt.FEATURES.pktgen.cmd, "probe pktgen") then
    out[#out + 1] = "host1 has no pktgen (/proc/net/pktgen: kernel module pktgen)"
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
    xdp_load_mode = p.choice { choices = { "dpa", "load-bytes" }, default = "dpa", doc = "xdp-bench -l" },
    xdp_packet_operation = p.choice { choices = { "no-touch", "read-data", "parse-ip", "swap-macs" },
      default = "no-touch", doc = "xdp-bench -p" },
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
      local P = r.params
      for i, h in ipairs { r.hosts.host1, r.hosts.host2 } do
        cfg:ip_add(h.eth0, enrt.addr(P.net_ipv4, i))
        cfg:ip_add(h.eth0, enrt.addr(P.net_ipv6, i))
        h.eth0:up_and_wait()
      end
      cfg.pairs = { { r.hosts.host1.eth0, r.hosts.host2.eth0 } }
      cfg.devs = { r.hosts.host1.eth0, r.hosts.host2.eth0 }
      if o.prepare then o.prepare(r, cfg) end
    end,
    extra_tests = function(r)
      local P = r.params
      local why = missing(r) or "the pktgen/xdp-bench measurement is not ported yet"
      r:add_result(results.WARNING, string.format("XDP measurement (pktgen from host1, xdp-bench %s -m %s on "
        .. "host2.eth0) not run: %s", o.command, P.xdp_mode, why))
    end,
  }
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
