-- NftablesRuleScale (LNST's NftablesRuleScaleRecipe): SimpleNetnsRouter's
-- topology (host2 routes between eth0 and a namespace) with an nftables
-- ruleset on host2's forward hook: the rules of `rule` repeated `scale`
-- times in chain `chainname` of table `tablename` (family `family`), the
-- `extras` (verbatim table members, e.g. further chains) before it, and
-- with `flowtable` a flowtable on eth0 and pn0 that TCP/UDP flows are
-- offloaded to. One sub-configuration with the ruleset loaded (nft -f,
-- the previous ruleset restored after it); pings and flows cross it.
--   lnst run recipes/enrt/nftables_rule_scale.lua -p "rule=[counter]" -p scale=1000 -p perf_duration=5
local lnst = require "lnst"
local enrt = require "lnst.enrt"
local d = require "lnst.device"
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
    netns_ipv4 = p.network { family = 4, default = "203.0.113.0/24", doc = "network between host2 and its namespace" },
    netns_ipv6 = p.network { family = 6, default = "2001:db8:102::/64", doc = "the same, IPv6" },
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
    local P, h1, h2 = r.params, r.hosts.host1, r.hosts.host2
    if P.flowtable then enrt.check_features(r, { "flowtable" }) end
    for i, h in ipairs { h1, h2 } do
      cfg:ip_add(h.eth0, enrt.addr(P.net_ipv4, i))
      cfg:ip_add(h.eth0, enrt.addr(P.net_ipv6, i))
      h.eth0:up_and_wait()
    end
    h2.host2ns = lnst.netns()
    local a, b = d.veth_pair { name = "pn0", peer_name = "np0" }
    h2.pn0 = a
    h2.host2ns.np0 = b
    local ns = h2.host2ns
    cfg:ip_add(h2.pn0, enrt.addr(P.netns_ipv4, 1))
    cfg:ip_add(h2.pn0, enrt.addr(P.netns_ipv6, 1))
    cfg:ip_add(ns.np0, enrt.addr(P.netns_ipv4, 2))
    cfg:ip_add(ns.np0, enrt.addr(P.netns_ipv6, 2))
    h2.pn0:up()
    ns.np0:up_and_wait()
    h2:sysctl_set("net.ipv4.ip_forward", 1)
    h2:sysctl_set("net.ipv6.conf.all.forwarding", 1)
    ns:route_add { dst = "default", via = enrt.strip(enrt.addr(P.netns_ipv4, 1)) }
    ns:route_add { dst = "default", via = enrt.strip(enrt.addr(P.netns_ipv6, 1)), family = "ipv6" }
    h1.eth0:route_add { dst = P.netns_ipv4, via = enrt.strip(enrt.addr(P.net_ipv4, 2)) }
    h1.eth0:route_add { dst = P.netns_ipv6, via = enrt.strip(enrt.addr(P.net_ipv6, 2)) }
    cfg.pairs = { { h1.eth0, ns.np0 } }
    cfg.devs = { h1.eth0, h2.eth0 }
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
