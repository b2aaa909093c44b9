-- NftablesRuleScale (LNST's NftablesRuleScaleRecipe): SimpleNetnsRouter's
-- topology (host2 routes between eth0 and a namespace) with an nftables
-- ruleset on host2's forward hook: the rules of `rule` repeated `scale`
-- times in chain `chainname` of table `tablename` (family `family`), the
-- `extras` (verbatim table members, e.g. further chains) before it, and
-- with `flowtable` a flowtable on eth0 and pn0 that TCP/UDP flows are
-- offloaded to. One sub-configuration with the ruleset loaded (nft -f,
-- the previous ruleset restored after it); pings and flows cross it.
--   lnst run recipes/enrt/nftables_rule_scale.lua -p "rule=[counter]" -p scale=1000 -p perf_duration=5
local enrt = require "lnst.enrt"
local router = require "lnst.enrt.netns_router"
local p = require "lnst.param"

return enrt.recipe {
  name = "NftablesRuleScale",
  description = "Forwarding through an nftables ruleset of rule x scale rules on a router",
  requires = { kinds = { "veth" }, tools = { "nft" } },
  hosts = {
    host1 = { eth0 = { network = "net1" } },
    host2 = { eth0 = { network = "net1" } },
  },
  mixins = { "firewall", "common_hw", "perf_reverse", "drop_caches", "perf_tweaks" },
  params = {
    netns_ipv4 = router.PARAMS.netns_ipv4,
    netns_ipv6 = router.PARAMS.netns_ipv6,
    rule = p.list { of = p.str {}, mandatory = true, doc = "nft rule statements, each one rule, repeated scale times" },
    scale = p.int { mandatory = true, min = 1, doc = "how many times the rules are repeated" },
    family = p.choice { choices = { "ip", "ip6", "inet" }, default = "inet", doc = "table family" },
    tablename = p.str { default = "lnst_scale", doc = "table name" },
    chainname = p.str { default = "forward", doc = "base chain name" },
    chainspec = p.str { default = "type filter hook forward priority filter; policy accept;",
      doc = "base chain specification" },
    extras = p.list { of = p.str {}, default = {}, doc = "further table members (chains, sets), verbatim" },
    flowtable = p.bool { default = false, doc = "offload tcp/udp flows to a flowtable on eth0 and pn0" },
  },
  configure = function(r, cfg)
    local P, h2 = r.params, r.hosts.host2
    if P.flowtable then enrt.check_features(r, { "flowtable" }) end
    router.configure(r, cfg)
    local lines = { string.format("table %s %s {", P.family, P.tablename) }
    for _, e in ipairs(P.extras) do lines[#lines + 1] = "  " .. e end
    if P.flowtable then
      lines[#lines + 1] = string.format("  flowtable ft { hook ingress priority filter; devices = { %s, %s }; }",
        h2.eth0.name, h2.pn0.name)
    end
    lines[#lines + 1] = string.format("  chain %s {", P.chainname)
    lines[#lines + 1] = "    " .. P.chainspec
    if P.flowtable then lines[#lines + 1] = "    meta l4proto { tcp, udp } flow add @ft" end
    for _ = 1, P.scale do
      for _, rule in ipairs(P.rule) do lines[#lines + 1] = "    " .. rule end
    end
    lines[#lines + 1] = "  }"
    lines[#lines + 1] = "}"
    cfg.firewall_rulesets = { { desc = string.format("%s %s: %d x %d rules%s", P.family, P.tablename, P.scale,
      #P.rule, P.flowtable and ", flowtable" or ""), [h2] = table.concat(lines, "\n") } }
  end,
}
