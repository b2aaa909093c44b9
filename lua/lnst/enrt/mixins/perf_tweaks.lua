-- lnst.enrt.mixins.perf_tweaks: LNST's perf-test tweak mixins.
--   perf_reverse  (PerfReversibleFlowMixin): perf_reverse swaps generator
--                 and receiver (lnst.enrt.perf_plan does the swap);
--   drop_caches   (DropCachesPerfTestMixin, per iteration):
--                 echo 1 > /proc/sys/vm/drop_caches when drop_caches is set;
--   perf_tweaks   (CommonPerfTestTweakMixin): UDP fragmentation limits for
--                 udp flows (net.ipv4.ipfrag_high_thresh/ipfrag_time, the
--                 ip6frag ones for IPv6) on the flows' hosts, and the SCTP
--                 firewall for sctp flows (iptables -I OUTPUT ! -o NIC -p
--                 sctp -j DROP on both endpoints); both removed afterwards.
local p = require "lnst.param"
local results = require "lnst.results"

local M = {}

M.perf_reverse = {
  params = { perf_reverse = p.bool { default = false, doc = "swap generator and receiver" } },
}

M.drop_caches = {
  params = { drop_caches = p.bool { default = false, doc = "drop the page cache before every iteration" } },
  iteration_apply = function(r)
    if not r.params.drop_caches then return end
    local names = {}
    for n in pairs(r.hosts) do names[#names + 1] = n end
    table.sort(names)
    for _, n in ipairs(names) do
      r.hosts[n]:run({ "sh", "-c", "echo 1 > /proc/sys/vm/drop_caches" }, { level = results.DEBUG })
    end
  end,
}

local function flow_hosts(flows)
  local seen, out = {}, {}
  for _, f in ipairs(flows) do
    for _, h in ipairs { f.generator, f.receiver } do
      if not seen[h] then seen[h] = true; out[#out + 1] = h end
    end
  end
  return out
end

local function frag_keys(ipver)
  if ipver == "ipv6" then return "net.ipv6.ip6frag_high_thresh", "net.ipv6.ip6frag_time" end
  return "net.ipv4.ipfrag_high_thresh", "net.ipv4.ipfrag_time"
end

M.perf_tweaks = {
  params = {
    udp_fragmentation_threshold = p.int { default = 104857600, min = 1, doc = "ipfrag_high_thresh for udp flows" },
    udp_fragmentation_time = p.int { default = 1, min = 0, doc = "ipfrag_time for udp flows" },
  },
  perf_apply = function(r, cfg, flows)
    local P = r.params
    cfg._tweak_undo = {}
    local undo = cfg._tweak_undo
    local f1 = flows[1]
    if f1.type == "udp_stream" then
      local kt, kd = frag_keys(f1.ipver)
      for _, h in ipairs(flow_hosts(flows)) do
        local t = h:sysctl_set(kt, P.udp_fragmentation_threshold)
        undo[#undo + 1] = function() h:sysctl_set(kt, t) end
        local d = h:sysctl_set(kd, P.udp_fragmentation_time)
        undo[#undo + 1] = function() h:sysctl_set(kd, d) end
      end
    elseif f1.type == "sctp_stream" then
      for _, f in ipairs(flows) do
        for _, side in ipairs { { f.generator, f.generator_nic }, { f.receiver, f.receiver_nic } } do
          local h, nic = side[1], side[2]
          local cmd = f.ipver == "ipv6" and "ip6tables" or "iptables"
          h:run({ cmd, "-I", "OUTPUT", "!", "-o", nic, "-p", "sctp", "-j", "DROP" }, { level = results.NORMAL })
          undo[#undo + 1] = function()
            h:run({ cmd, "-D", "OUTPUT", "!", "-o", nic, "-p", "sctp", "-j", "DROP" }, { level = results.NORMAL })
          end
        end
      end
    end
  end,
  perf_remove = function(_, cfg)
    local undo = cfg._tweak_undo or {}
    cfg._tweak_undo = nil
    for k = #undo, 1, -1 do undo[k]() end
  end,
  perf_describe = function(r, _, flows)
    local f1 = flows[1]
    if f1.type == "udp_stream" then
      return string.format("UDP fragmentation: %s = %d, %s = %d", (frag_keys(f1.ipver)),
        r.params.udp_fragmentation_threshold, select(2, frag_keys(f1.ipver)), r.params.udp_fragmentation_time)
    elseif f1.type == "sctp_stream" then
      return "SCTP firewall: sctp dropped on every interface but the flows' own"
    end
  end,
}

return M
