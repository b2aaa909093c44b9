-- lnst.enrt: LNST's ENRT recipe flow (BaseEnrtRecipe + BaremetalEnrtRecipe)
-- with an explicit, ordered list of mixins per recipe instead of Python's
-- method resolution order.
--
--   return enrt.recipe {
--     name = "SimpleNetwork", description = "...",
--     hosts = { host1 = { eth0 = { network = "net1" } }, host2 = { eth0 = { network = "net1" } } },
--     mixins = { "offload", "common_hw", "perf_reverse", "drop_caches", "perf_tweaks" },
--     defaults = { offload_combinations = enrt.OFFLOADS5 },  -- upstream's per-recipe overrides
--     params = { ... },                                      -- the recipe's own
--     requires = { kinds = {...}, tools = {...}, features = {...} },
--     configure = function(r, cfg) ... end,                 -- test-wide configuration
--   }
--
-- The flow (run(r, def)):
--   1. kernel features in requires.features are probed (skip with the reason);
--   2. test-wide configuration: def.configure, then each mixin's configure,
--      then two description results (parameters, configured addresses);
--   3. sub-configurations: the product of the mixins' subconfigs (in list
--      order); each one is applied (mixin apply_sub hooks in order), described,
--      tested (pings, then perf), and removed (reverse order) even on error;
--   4. test-wide deconfiguration (mixins in reverse order, then
--      def.deconfigure), also on error. Everything is also undone by the agents.
--
-- The cfg object carries what the recipe configured: cfg:ip_add(dev, addr)
-- tracks addresses, cfg.pairs (ping and perf endpoint pairs, as device
-- pairs), cfg.ping_pairs / cfg.perf_pairs to differ, cfg.devs (the devices the
-- hw mixins act on: upstream's offload_nics, mtu_hw_config_dev_list, ...).
local param = require "lnst.param"
local results = require "lnst.results"

local M = {}

-- ------------------------------------------------------------------ addresses

-- addr("198.51.100.0/24", 2) -> "198.51.100.2/24"; addr("2001:db8:1::/64", 10)
-- -> "2001:db8:1::a/64". prefix overrides the network's prefix length.
function M.addr(net, i, prefix)
  local ip, why = param.parse_ip(net)
  if not ip then error(string.format("enrt.addr: bad network %q: %s", tostring(net), why), 2) end
  local b = {}
  for k, v in ipairs(ip.bytes) do b[k] = v end
  local carry, k = i, #b
  while carry > 0 and k >= 1 do
    local v = b[k] + carry
    b[k], carry = v % 256, math.floor(v / 256)
    k = k - 1
  end
  local plen = prefix or ip.prefix or (ip.family == 4 and 32 or 128)
  return param.format_ip(ip.family, b) .. "/" .. plen
end

-- The plainest topology, host1.eth0 and host2.eth0 on one network: each
-- gets address i of net_ipv4 and net_ipv6 (recorded in cfg), is up with
-- carrier, and the pair is what pings and flows run between.
function M.configure_eth0_pair(r, cfg)
  local P, h1, h2 = r.params, r.hosts.host1, r.hosts.host2
  for i, dev in ipairs { h1.eth0, h2.eth0 } do
    cfg:ip_add(dev, M.addr(P.net_ipv4, i))
    cfg:ip_add(dev, M.addr(P.net_ipv6, i))
  end
  h1.eth0:up_and_wait()
  h2.eth0:up_and_wait()
  cfg.pairs = { { h1.eth0, h2.eth0 } }
  cfg.devs = { h1.eth0, h2.eth0 }
end

local function strip(a) return (tostring(a):gsub("/%d+$", "")) end
M.strip = strip

local function family(a) return tostring(a):find(":", 1, true) and "ipv6" or "ipv4" end
M.family = family

local function link_local(a) return strip(a):lower():find("^fe80:") ~= nil end

-- The root host of a host or namespace object.
function M.root(x)
  if require("lnst.netns_obj").is_netns(x) then return x:host() end
  return x
end

-- ------------------------------------------------------------------ parameters

local p = param

-- upstream's five combinations (SimpleNetwork, LinuxBridge, ...): all on;
-- gro off; gso+tso off; tso+tx off; rx off.
M.OFFLOADS5 = {
  { gro = "on", gso = "on", tso = "on", tx = "on", rx = "on" },
  { gro = "off", gso = "on", tso = "on", tx = "on", rx = "on" },
  { gro = "on", gso = "off", tso = "off", tx = "on", rx = "on" },
  { gro = "on", gso = "on", tso = "off", tx = "off", rx = "on" },
  { gro = "on", gso = "on", tso = "on", tx = "on", rx = "off" },
}

-- The base parameters (BaseEnrtRecipe and the measurement generators), with
-- upstream's names and defaults; test networks are documentation ranges.
function M.base_params()
  return {
    ip_versions = p.list { of = p.choice { choices = { "ipv4", "ipv6" } }, default = { "ipv4", "ipv6" },
      doc = "IP versions to test" },
    ping_count = p.int { default = 100, min = 1, doc = "echo requests per ping test" },
    ping_interval = p.float { default = 0.2, min = 0.002, doc = "seconds between echo requests" },
    ping_psize = p.int { default = 56, min = 0, max = 65507, doc = "ping payload bytes" },
    ping_parallel = p.bool { default = false, doc = "ping every address pair at once (else the first)" },
    ping_bidirect = p.bool { default = false, doc = "also ping back from the second endpoint" },
    perf_tests = p.list { of = p.choice { choices = { "tcp_stream", "udp_stream", "sctp_stream", "mptcp_stream" } },
      default = { "tcp_stream", "udp_stream", "sctp_stream" }, doc = "iperf3 flow types" },
    perf_duration = p.int { default = 60, min = 1, doc = "seconds per measurement" },
    perf_iterations = p.int { default = 5, min = 1, doc = "iterations per perf configuration" },
    perf_warmup_duration = p.int { default = 0, min = 0, doc = "warm-up seconds (added before and after)" },
    perf_msg_sizes = p.list { of = p.int { min = 1 }, default = { 123 }, doc = "iperf3 -l block sizes" },
    perf_parallel_streams = p.int { default = 1, min = 1, doc = "iperf3 -P streams per process" },
    perf_parallel_processes = p.int { default = 1, min = 1, doc = "flows run at once (ports from 12000)" },
    perf_tool_cpu = p.list { of = p.int { min = 0 }, doc = "CPUs to pin iperf3 to" },
    perf_tool_cpu_policy = p.choice { choices = { "all", "round-robin" }, default = "all",
      doc = "how perf_tool_cpu is shared among the processes" },
    perf_test_simulation = p.bool { default = false, doc = "dry run: no jobs, zero results (fails the evaluator)" },
    net_perf_tool = p.choice { choices = { "iperf", "neper" }, default = "iperf",
      doc = "flow measurement tool (neper: request/response perf_tests tcp_rr, tcp_crr, udp_rr)" },
    net_ipv4 = p.network { family = 4, default = "198.51.100.0/24", doc = "IPv4 test network" },
    net_ipv6 = p.network { family = 6, default = "2001:db8:101::/64", doc = "IPv6 test network" },
  }
end

-- A copy of a param spec with another default (upstream's re-declared params).
local function with_default(spec, value, where)
  local c = {}
  for k, v in pairs(spec) do c[k] = v end
  setmetatable(c, getmetatable(spec))
  local x, why = c:check(value)
  if x == nil then error(string.format("%s: bad default: %s", where, why), 3) end
  c.default = x
  return c
end

-- ------------------------------------------------------------------ features

-- Kernel features a recipe may need beyond device kinds and tools: each is
-- probed with a command on every host; a failure skips the run.
M.FEATURES = {
  lwtunnel = { what = "lightweight tunnels (CONFIG_LWTUNNEL)",
    cmd = "ip route add 203.0.113.254/32 encap ip id 1 dst 198.51.100.254 dev lo && "
      .. "ip route del 203.0.113.254/32 dev lo" },
  esp = { what = "IPsec ESP (xfrm esp4, rfc4106(gcm(aes)))",
    cmd = "ip xfrm state add src 198.51.100.253 dst 198.51.100.254 proto esp spi 0x77 mode transport "
      .. "aead 'rfc4106(gcm(aes))' 0x0102030405060708090a0b0c0d0e0f1011121314 128 && "
      .. "ip xfrm state del src 198.51.100.253 dst 198.51.100.254 proto esp spi 0x77" },
  ah_comp = { what = "IPsec AH and IPComp (xfrm ah4, ipcomp4)",
    cmd = "ip xfrm state add src 198.51.100.253 dst 198.51.100.254 proto ah spi 0x78 mode transport "
      .. "auth 'hmac(sha256)' 0x0102030405060708090a0b0c0d0e0f10 && "
      .. "ip xfrm state del src 198.51.100.253 dst 198.51.100.254 proto ah spi 0x78 && "
      .. "ip xfrm state add src 198.51.100.253 dst 198.51.100.254 proto comp spi 0x79 mode transport "
      .. "comp deflate && ip xfrm state del src 198.51.100.253 dst 198.51.100.254 proto comp spi 0x79" },
  pktgen = { what = "pktgen (/proc/net/pktgen)", cmd = "test -d /proc/net/pktgen" },
  -- rdma_rxe loads on demand (the VM guest's module helper): a probe link on lo says
  rxe = { what = "soft RoCE (rdma_rxe)", cmd = "test -d /sys/module/rdma_rxe || { n=lnstprobe$$; "
    .. "rdma link add $n type rxe netdev lo && rdma link delete $n; }" },
  siw = { what = "soft iWARP (siw)", cmd = "test -d /sys/module/siw" },
  l2tp = { what = "L2TP (l2tp_eth, l2tp_netlink)", cmd = "ip l2tp show tunnel" },
  mptcp = { what = "MPTCP", cmd = "test \"$(cat /proc/sys/net/mptcp/enabled)\" = 1" },
  sctp = { what = "SCTP", cmd = "grep -q '^SCTP' /proc/net/protocols" },
  nf_conntrack = { what = "conntrack (nf_conntrack)",
    cmd = "test -d /sys/module/nf_conntrack || modprobe -n nf_conntrack" },
  flowtable = { what = "nftables flowtables (nf_flow_table)",
    cmd = "nft add table inet lnst_probe && (nft add flowtable inet lnst_probe ft "
      .. "'{ hook ingress priority 0; devices = { lo }; }'; rc=$?; nft delete table inet lnst_probe; exit $rc)" },
}

-- Runs a shell command whose failure is an answer, not a FAIL: returns
-- ok, its stdout and the first line of its stderr.
function M.probe(h, cmd, desc)
  local j = h:run({ "sh", "-c", "(" .. cmd .. "); echo \"lnst-probe-rc=$?\"" },
    { level = results.DEBUG, timeout = 20, desc = desc })
  local rc = tonumber((j.stdout or ""):match("lnst%-probe%-rc=(%d+)%s*$"))
  return rc == 0, (j.stdout or ""):gsub("lnst%-probe%-rc=%d+%s*$", ""), (j.stderr or ""):match("[^\n]+")
end

-- Probes requires.features on every host; skips the run naming what is missing.
function M.check_features(r, names)
  if not names or #names == 0 then return end
  local hosts = {}
  for n in pairs(r.hosts) do hosts[#hosts + 1] = n end
  table.sort(hosts)
  local missing = {}
  for _, fname in ipairs(names) do
    local f = M.FEATURES[fname]
    if not f then error("enrt: unknown kernel feature '" .. tostring(fname) .. "'", 2) end
    for _, hn in ipairs(hosts) do
      local ok, _, why = M.probe(r.hosts[hn], f.cmd, "probe " .. fname)
      if not ok then
        missing[#missing + 1] = string.format("host %s: kernel feature %s (%s) not available%s", hn, fname, f.what,
          why and (": " .. why) or "")
      end
    end
  end
  if #missing > 0 then M.skip(r, table.concat(missing, "; ")) end
end

-- Ends the run as SKIPPED with the reason (as r:require does).
function M.skip(r, reason)
  r:_add(results.skip_record(reason))
  error(results.skip_signal(reason), 0)
end

-- ------------------------------------------------------------------ config

local Config = {}
Config.__index = Config

function M.config()
  return setmetatable({ tracked = {}, order = {}, pairs = {}, devs = {} }, Config)
end

local function dev_key(dev) return tostring(dev.host.name) .. "." .. tostring(dev.name) end
M.dev_key = dev_key

-- dev:ip_add, tracked (upstream's configure_and_track_ip). IPv6 addresses
-- skip DAD: the test networks are private to the run.
function Config:ip_add(dev, addr)
  local opts = family(addr) == "ipv6" and { nodad = true } or nil
  dev:ip_add(addr, opts)
  if not self.tracked[dev] then
    self.tracked[dev] = {}
    self.order[#self.order + 1] = dev
  end
  table.insert(self.tracked[dev], addr)
end

-- Tracked addresses of a device, optionally of one family, without link-local ones.
function Config:ips(dev, fam)
  local out = {}
  for _, a in ipairs(self.tracked[dev] or {}) do
    if (not fam or family(a) == fam) and not link_local(a) then out[#out + 1] = a end
  end
  return out
end

function Config:describe()
  local lines = {}
  for _, dev in ipairs(self.order) do
    lines[#lines + 1] = string.format("Configured %s.ips = [%s]", dev_key(dev), table.concat(self.tracked[dev], ", "))
  end
  for _, l in ipairs(self.extra_desc or {}) do lines[#lines + 1] = l end
  return lines
end

-- Forgets a device's tracked addresses (a device of one sub-configuration).
function Config:untrack(dev)
  if not self.tracked[dev] then return end
  self.tracked[dev] = nil
  for i, d in ipairs(self.order) do
    if d == dev then table.remove(self.order, i) break end
  end
end

function Config:note(line)
  self.extra_desc = self.extra_desc or {}
  table.insert(self.extra_desc, line)
end

-- ------------------------------------------------------------------ mixins

local MIXINS = {
  offload = "lnst.enrt.mixins.offload",
  common_hw = "lnst.enrt.mixins.hw",
  mtu = "lnst.enrt.mixins.hw",
  perf_reverse = "lnst.enrt.mixins.perf_tweaks",
  drop_caches = "lnst.enrt.mixins.perf_tweaks",
  perf_tweaks = "lnst.enrt.mixins.perf_tweaks",
  firewall = "lnst.enrt.mixins.firewall",
  conntrack = "lnst.enrt.mixins.firewall",
  long_lived = "lnst.enrt.mixins.long_lived",
  bonding = "lnst.enrt.mixins.bonding",
  ipsec = "lnst.enrt.mixins.ipsec",
  macsec = "lnst.enrt.mixins.macsec",
}
M.MIXIN_NAMES = {}
for k in pairs(MIXINS) do M.MIXIN_NAMES[#M.MIXIN_NAMES + 1] = k end
table.sort(M.MIXIN_NAMES)

function M.mixin(name)
  local mod = MIXINS[name]
  if not mod then
    error(string.format("enrt: unknown mixin '%s' (known: %s)", tostring(name), table.concat(M.MIXIN_NAMES, ", ")), 3)
  end
  local m = require(mod)[name]
  if not m then error("enrt: module " .. mod .. " has no mixin " .. name, 3) end
  return m
end

-- ------------------------------------------------------------------ plan
-- Pure functions (no hosts): unit-tested in tests/lua/test_enrt.lua.

-- The product of the mixins' sub-configurations, in mixin order: each
-- sub-configuration is a list of { mixin =, variant = } parts.
function M.sub_configurations(mixins, P, cfg)
  local subs = { {} }
  for _, m in ipairs(mixins) do
    if m.subconfigs then
      local variants = m.subconfigs(P, cfg)
      local nxt = {}
      for _, s in ipairs(subs) do
        for _, v in ipairs(variants) do
          local c = {}
          for i, x in ipairs(s) do c[i] = x end
          c[#c + 1] = { mixin = m, variant = v }
          nxt[#nxt + 1] = c
        end
      end
      subs = nxt
    end
  end
  return subs
end

-- Ping configurations (upstream's generate_ping_configurations): one list
-- per endpoint pair and IP version, the lists run one after another and the
-- pings of a list at the same time. pairs: { { dev1, dev2, reachable = },
-- ... }; ips(dev, family) gives the addresses.
function M.ping_plan(P, pairs_, ips)
  local out = {}
  for _, pair in ipairs(pairs_) do
    for _, ipv in ipairs(P.ip_versions) do
      if not (ipv == "ipv6" and pair.reachable == false) then
        local src, dst = ips(pair[1], ipv), ips(pair[2], ipv)
        local list = {}
        for i = 1, math.min(#src, #dst) do
          local c = { client = pair[1].host, client_dev = pair[1], client_bind = strip(src[i]),
            destination = pair[2].host, destination_dev = pair[2], destination_address = strip(dst[i]),
            count = P.ping_count, interval = P.ping_interval, size = P.ping_psize, reachable = pair.reachable,
            ipver = ipv }
          list[#list + 1] = c
          if P.ping_bidirect then
            list[#list + 1] = { client = c.destination, client_dev = pair[2], client_bind = c.destination_address,
              destination = c.client, destination_dev = pair[1], destination_address = c.client_bind,
              count = c.count, interval = c.interval, size = c.size, reachable = c.reachable, ipver = ipv }
          end
          if not P.ping_parallel then break end
        end
        if #list > 0 then out[#out + 1] = list end
      end
    end
  end
  return out
end

-- Flow combinations (BaseFlowMeasurementGenerator): pairs × IP versions ×
-- perf_tests × msg sizes, perf_parallel_processes flows each, ports from
-- 12000; then every sub-configuration part's flow filter (offload drops
-- sctp_stream) and the perf_reverse swap.
function M.perf_plan(P, pairs_, ips, sub)
  local flow = require "lnst.perf.flow"
  local eps = {}
  for i, pair in ipairs(pairs_) do
    local a, b = pair[1], pair[2]
    if P.perf_reverse then a, b = b, a end
    eps[i] = { { host = a.host, nic = a, ips = ips(a) }, { host = b.host, nic = b, ips = ips(b) } }
  end
  local combos = flow.generate { pairs = eps, ip_versions = P.ip_versions, perf_tests = P.perf_tests,
    msg_sizes = P.perf_msg_sizes, duration = P.perf_duration, warmup_duration = P.perf_warmup_duration,
    parallel_processes = P.perf_parallel_processes, parallel_streams = P.perf_parallel_streams,
    cpupin = P.perf_tool_cpu, cpupin_policy = P.perf_tool_cpu_policy }
  local out = {}
  for _, combo in ipairs(combos) do
    local keep = true
    for _, part in ipairs(sub or {}) do
      if part.mixin.keep_flows and not part.mixin.keep_flows(part.variant, combo.flows) then keep = false end
    end
    if keep then out[#out + 1] = combo end
  end
  return out
end

-- ------------------------------------------------------------------ running

local function describe_params(P)
  local keys = {}
  for k in pairs(P) do keys[#keys + 1] = k end
  table.sort(keys)
  local lines = { "Summary of used Recipe parameters:" }
  for _, k in ipairs(keys) do
    lines[#lines + 1] = string.format("  %s = %s", k, require("lnst.inspect")(P[k]))
  end
  return table.concat(lines, "\n")
end

local function desc_result(r, text)
  r:_add { type = "result", result = results.PASS, description = text, source = "TestResult" }
end

-- Runs hooks: each is fn or nil; collects the first error, keeps going when
-- keep_going (removals), else stops at the first.
local function call_all(list, keep_going)
  local first
  for _, fn in ipairs(list) do
    local ok, err = xpcall(fn, function(e) return results.is_skip(e) and e or debug.traceback(tostring(e), 2) end)
    if not ok then
      first = first or err
      if not keep_going then break end
    end
  end
  if first then error(first, 0) end
end

local function ips_fn(cfg)
  return function(dev, fam) return cfg:ips(dev, fam) end
end

-- The ping tests of one sub-configuration.
function M.do_ping_tests(r, def, cfg)
  local P = r.params
  local lists = M.ping_plan(P, cfg.ping_pairs or cfg.pairs, ips_fn(cfg))
  for _, list in ipairs(lists) do
    if def.ping_test then def.ping_test(r, cfg, list) else require("lnst.perf").ping(r, list) end
  end
end

-- The perf tests of one sub-configuration.
function M.do_perf_tests(r, def, cfg, mixins, sub)
  local P = r.params
  if def.perf == false or #(P.perf_tests or {}) == 0 then return end
  local perf = require "lnst.perf"
  local rr = P.net_perf_tool == "neper" and require("lnst.enrt.rr") or nil
  local combos = rr and rr.generate(P, cfg.perf_pairs or cfg.pairs, ips_fn(cfg))
    or M.perf_plan(P, cfg.perf_pairs or cfg.pairs, ips_fn(cfg), sub)
  local probed = {}
  for i, combo in ipairs(combos) do
    local f1 = combo.flows[1]
    local needs = f1.type == "sctp_stream" and "sctp" or f1.type == "udp_rr" and "udp_rr" or nil
    if needs and probed[needs] == nil then
      local cmd = needs == "sctp" and M.FEATURES.sctp.cmd or "command -v udp_rr || test -x /root/neper/udp_rr"
      probed[needs] = M.probe(f1.generator, cmd, "probe " .. needs)
      if not probed[needs] then
        r:add_result(results.WARNING, needs == "sctp" and ("sctp_stream perf tests skipped: the kernel of "
          .. f1.generator.name .. " has no SCTP") or ("udp_rr perf tests skipped: neper's udp_rr is not "
          .. "installed on " .. f1.generator.name .. " (the LuaJIT rr implementation has tcp_rr and tcp_crr only)"))
      end
    end
    if not needs or probed[needs] then
      local flows = rr and rr.measurement(combo.flows) or perf.iperf(combo.flows)
      local hosts, seen = {}, {}
      for _, f in ipairs(combo.flows) do
        for _, h in ipairs { M.root(f.generator), M.root(f.receiver) } do
          if not seen[h] then seen[h] = true; hosts[#hosts + 1] = h end
        end
      end
      table.sort(hosts, function(a, b) return a.name < b.name end)
      local measurements = { perf.stat_cpu(hosts), flows }
      local tw, itw = {}, {}
      for _, m in ipairs(mixins) do
        if m.perf_apply then tw[#tw + 1] = m end
        if m.iteration_apply then itw[#itw + 1] = m end
      end
      local tweak = {
        apply = function() for _, m in ipairs(tw) do m.perf_apply(r, cfg, combo.flows) end end,
        remove = function()
          local fns = {}
          for k = #tw, 1, -1 do fns[#fns + 1] = function() tw[k].perf_remove(r, cfg, combo.flows) end end
          call_all(fns, true)
        end,
        describe = function()
          local d = {}
          for _, m in ipairs(tw) do
            local s = m.perf_describe and m.perf_describe(r, cfg, combo.flows)
            if s then d[#d + 1] = s end
          end
          return #d > 0 and table.concat(d, "\n") or nil
        end,
      }
      local iteration_tweak = {
        apply = function() for _, m in ipairs(itw) do m.iteration_apply(r, cfg) end end,
      }
      local conf = perf.conf { name = combo.description, measurements = measurements,
        iterations = P.perf_iterations, simulate = P.perf_test_simulation, tweak = tweak,
        iteration_tweak = iteration_tweak, index = i, total = #combos }
      conf:register_evaluators(flows, def.flow_evaluators and def.flow_evaluators(r, cfg)
        or { perf.evaluators.nonzero_flow() })
      perf.run(r, conf)
    end
  end
end

local function sub_description(r, cfg, sub, mixins)
  local lines = { "Sub configuration description:" }
  for _, part in ipairs(sub) do
    if part.mixin.describe_sub then lines[#lines + 1] = "  " .. part.mixin.describe_sub(part.variant) end
  end
  for _, m in ipairs(mixins) do
    local d = m.describe and m.describe(r, cfg)
    if d then lines[#lines + 1] = "  " .. d end
  end
  if #lines == 1 then lines[#lines + 1] = "  (none)" end
  return table.concat(lines, "\n")
end

-- The whole flow; def is the enrt.recipe definition (mixins resolved).
function M.run(r, def)
  local mixins = def._mixins
  local cfg = M.config()
  local P = r.params
  r.enrt = cfg
  M.check_features(r, def.requires and def.requires.features)
  local ok, err = xpcall(function()
    def.configure(r, cfg)
    for _, m in ipairs(mixins) do if m.configure then m.configure(r, cfg) end end
    desc_result(r, describe_params(P))
    desc_result(r, table.concat(cfg:describe(), "\n"))
    for _, sub in ipairs(M.sub_configurations(mixins, P, cfg)) do
      local applied = {}
      local sok, serr = xpcall(function()
        for _, part in ipairs(sub) do
          applied[#applied + 1] = part
          if part.mixin.apply_variant then part.mixin.apply_variant(r, cfg, part.variant) end
        end
        for _, m in ipairs(mixins) do
          if m.apply_sub then
            applied[#applied + 1] = { mixin = m, hook = true }
            m.apply_sub(r, cfg)
          end
        end
        desc_result(r, sub_description(r, cfg, sub, mixins))
        M.do_ping_tests(r, def, cfg)
        M.do_perf_tests(r, def, cfg, mixins, sub)
        if def.extra_tests then def.extra_tests(r, cfg) end
      end, function(e) return results.is_skip(e) and e or debug.traceback(tostring(e), 2) end)
      local fns = {}
      for k = #applied, 1, -1 do
        local part = applied[k]
        if part.hook then
          if part.mixin.remove_sub then fns[#fns + 1] = function() part.mixin.remove_sub(r, cfg) end end
        elseif part.mixin.remove_variant then
          fns[#fns + 1] = function() part.mixin.remove_variant(r, cfg, part.variant) end
        end
      end
      local rok, rerr = pcall(call_all, fns, true)
      if not sok then error(serr, 0) end
      if not rok then error(rerr, 0) end
    end
  end, function(e) return results.is_skip(e) and e or debug.traceback(tostring(e), 2) end)
  local fns = {}
  for k = #mixins, 1, -1 do
    if mixins[k].deconfigure then fns[#fns + 1] = function() mixins[k].deconfigure(r, cfg) end end
  end
  if def.deconfigure then fns[#fns + 1] = function() def.deconfigure(r, cfg) end end
  local dok, derr = pcall(call_all, fns, true)
  if not ok then error(err, 0) end
  if not dok then error(derr, 0) end
end

-- ------------------------------------------------------------------ declaration

local DEF_FIELDS = { name = true, description = true, hosts = true, mixins = true, defaults = true, params = true,
  requires = true, configure = true, deconfigure = true, ping_test = true, perf = true, flow_evaluators = true,
  extra_tests = true }

-- The parameters of a definition: base, then each mixin's, then the
-- recipe's own; then the defaults overrides.
function M.params_of(def, mixins)
  local params = M.base_params()
  for _, m in ipairs(mixins) do
    for k, v in pairs(m.params or {}) do params[k] = v end
  end
  for k, v in pairs(def.params or {}) do params[k] = v end
  for k, v in pairs(def.defaults or {}) do
    if not params[k] then error(string.format("enrt.recipe %s: default for unknown parameter '%s'", def.name, k), 3) end
    params[k] = with_default(params[k], v, "enrt.recipe " .. tostring(def.name) .. " parameter " .. k)
  end
  return params
end

function M.recipe(def)
  if type(def) ~= "table" then error("enrt.recipe takes a table", 2) end
  for k in pairs(def) do
    if not DEF_FIELDS[k] then error(string.format("enrt.recipe: unknown field '%s'", tostring(k)), 2) end
  end
  if type(def.configure) ~= "function" then error("enrt.recipe: 'configure' must be a function(r, cfg)", 2) end
  local mixins = {}
  for i, name in ipairs(def.mixins or {}) do mixins[i] = M.mixin(name) end
  def._mixins = mixins
  local requires
  if def.requires then
    requires = {}
    for k, v in pairs(def.requires) do requires[k] = v end
  end
  local info = debug.getinfo(2, "S")
  local recipe = require("lnst.recipe").new {
    name = def.name, description = def.description, hosts = def.hosts, requires = requires,
    params = M.params_of(def, mixins),
    test = function(r) return M.run(r, def) end,
  }
  recipe.source = info and info.short_src or recipe.source
  recipe.enrt = { mixins = def.mixins or {}, def = def } -- def: for tests/lua/test_enrt_recipes.lua
  return recipe
end

return M
