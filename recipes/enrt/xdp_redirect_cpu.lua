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
    backlog_size = p.int { default = 2048, min = 1, doc = "xdp-bench redirect-cpu -q (cpumap queue size)" },
    xdp_redirect_program = p.choice { choices = { "pass", "drop", "redirect" }, default = "pass",
      doc = "xdp-bench redirect-cpu -r (what the target CPU does)" },
  },
  prepare = function(r)
    xdp.ethtool(r, { "-K", r.hosts.host2.eth0.name, "rxhash", "off" }, "ethtool -K rxhash off")
    xdp.ethtool(r, { "-X", r.hosts.host2.eth0.name, "hkey", string.rep("00:", 39) .. "00" }, "zero RSS hash key")
  end,
}
