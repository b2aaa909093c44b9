-- XDPRedirectCPU (LNST's XDPRedirectCPURecipe): host1 floods host2.eth0
-- (pktgen); on host2 receive hashing is turned off (ethtool -K rxhash off)
-- and the RSS key zeroed (ethtool -X hkey 00:...), so every packet arrives
-- on one queue, and an XDP program redirects them to the CPUs of
-- perf_tool_cpu (xdp-bench redirect-cpu). See lnst.enrt.xdp for what runs
-- here and what is skipped; rxhash and the RSS key are WARNINGs on a
-- driver without them (veth).
--   lnst run recipes/enrt/xdp_redirect_cpu.lua
local xdp = require "lnst.enrt.xdp"
local p = require "lnst.param"

return xdp.recipe {
  name = "XDPRedirectCPU",
  description = "XDP redirect-cpu rate on host2.eth0 under a pktgen flood from host1",
  command = "redirect-cpu",
  params = {
    backlog_size = p.int { default = 512, min = 1, doc = "xdp-bench redirect-cpu -q (cpumap queue size)" },
    xdp_redirect_program = p.str { default = "l4-dport",
      doc = "xdp-bench redirect-cpu -p (how packets are spread over the CPUs; xdp-tools 1.3.1 has round-robin "
        .. "and l4-hash, not upstream's l4-dport/l4-sport)" },
    xdp_redirect_remote_action = p.str { default = "drop",
      doc = "xdp-bench redirect-cpu -r (what the target CPUs do)" },
    ratep = p.int { default = -1, doc = "pktgen packets/s, -1: unlimited" },
    burst = p.int { default = 1, min = 1, doc = "pktgen burst" },
  },
  -- perf_tool_cpu: the cpumap CPUs on host2 (upstream makes it mandatory),
  -- also the pktgen CPUs on host1 (round-robin over the flows)
  measurement_options = function(r)
    local P = r.params
    if not P.perf_tool_cpu or #P.perf_tool_cpu == 0 then
      return nil, "perf_tool_cpu is not set: XDPRedirectCPU needs the cpumap CPUs of host2 (for example "
        .. "-p 'perf_tool_cpu=[0,1]')"
    end
    return { cpus = P.perf_tool_cpu, program = P.xdp_redirect_program, remote_action = P.xdp_redirect_remote_action,
      qsize = P.backlog_size, ratep = P.ratep, burst = P.burst }
  end,
  prepare = function(r)
    xdp.ethtool(r, { "-K", r.hosts.host2.eth0.name, "rxhash", "off" }, "ethtool -K rxhash off")
    xdp.ethtool(r, { "-X", r.hosts.host2.eth0.name, "hkey", string.rep("00:", 39) .. "00" }, "zero RSS hash key")
  end,
}
