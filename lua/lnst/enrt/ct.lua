-- lnst.enrt.ct: LNST's conntrack insertion-rate recipes
-- (CTInsertionRateNftables, CTFulltableInsertionRate): tcp_crr transactions
-- (a new connection each, msg size 1) from host1.eth0 to host2.eth0, whose
-- nftables ruleset makes conntrack track every connection (the conntrack
-- mixin); only the generator's transaction rate is evaluated (the server
-- side of tcp_crr counts nothing upstream). recipe(o): o.name,
-- o.description, o.mixins (the mixins after conntrack and the common ones).
local enrt = require "lnst.enrt"
local p = require "lnst.param"

local M = {}

function M.recipe(o)
  local mixins = { "conntrack", "common_hw", "perf_reverse", "drop_caches" }
  for _, m in ipairs(o.mixins or {}) do mixins[#mixins + 1] = m end
  return enrt.recipe {
    name = o.name,
    description = o.description,
    requires = { tools = { "nft" }, features = { "nf_conntrack" } },
    hosts = {
      host1 = { eth0 = { network = "net1" } },
      host2 = { eth0 = { network = "net1" } },
    },
    mixins = mixins,
    params = {
      perf_tests = p.list { of = p.choice { choices = { "tcp_crr" } }, default = { "tcp_crr" },
        doc = "neper workload (upstream: constant tcp_crr)" },
    },
    defaults = { net_perf_tool = "neper", perf_msg_sizes = { 1 } },
    configure = enrt.configure_eth0_pair,
    flow_evaluators = function()
      return { require("lnst.perf").evaluators.nonzero_flow { metrics = { "generator_results" } } }
    end,
  }
end

return M
