-- lnst.enrt.mixins.firewall: LNST's FirewallMixin/NftablesMixin (with
-- FirewallControl's apply/restore) and NftablesConntrackMixin.
--
--   firewall   one sub-configuration per entry of cfg.firewall_rulesets (set
--              by the recipe's configure): { desc = "...", [host] = "nft
--              ruleset text", ... }. Applying one saves every listed host's
--              current ruleset (`nft list ruleset`) and loads `flush
--              ruleset` + the new one (`nft -f -`); removing it loads the
--              saved one back the same way. No entry: one sub-configuration
--              that leaves the firewall alone.
--   conntrack  test-wide: a ruleset on host2 that makes conntrack track
--              every connection to it (ct state new/established), and
--              net.netfilter.nf_conntrack_tcp_timeout_syn_sent = 3600 (as
--              upstream); both undone at deconfiguration (the sysctl is
--              also restored by the agent). Upstream also unloads the
--              conntrack modules afterwards (modprobe -r); here the hosts
--              are network namespaces that share the kernel with other
--              runs, so the modules stay loaded.
local results = require "lnst.results"

local M = {}

local function host_name(h) return tostring(h.name) end

-- Loads ruleset text on a host (nft -f -, through argv: no shell quoting of
-- the rules); raises with the host and nft's message on failure.
function M.nft_load(h, text, what)
  local j = h:run({ "sh", "-c", "printf '%s\\n' \"$1\" | nft -f -", "sh", "flush ruleset\n" .. text },
    { level = results.NORMAL, desc = "nft -f - (" .. what .. ")" })
  if not j.passed then
    error(string.format("firewall: host %s: nft could not load the %s: %s", host_name(h), what,
      (j.stderr or ""):match("[^\n]+") or ("exit " .. tostring(j.exit_code))), 0)
  end
end

-- The current ruleset of a host (FirewallControl's "list, then apply").
function M.nft_list(h)
  local j = h:run({ "nft", "list", "ruleset" }, { level = results.DEBUG })
  if not j.passed then
    error(string.format("firewall: host %s: nft list ruleset failed: %s", host_name(h),
      (j.stderr or ""):match("[^\n]+") or ("exit " .. tostring(j.exit_code))), 0)
  end
  return j.stdout or ""
end

-- The hosts of a ruleset entry, in name order.
local function entry_hosts(entry)
  local hosts = {}
  for k in pairs(entry) do
    if type(k) == "table" then hosts[#hosts + 1] = k end
  end
  table.sort(hosts, function(a, b) return host_name(a) < host_name(b) end)
  return hosts
end

M.firewall = {
  subconfigs = function(_, cfg)
    local list = {}
    for _, e in ipairs(cfg.firewall_rulesets or {}) do list[#list + 1] = e end
    if #list == 0 then list[1] = {} end
    return list
  end,
  describe_sub = function(entry)
    local hosts = entry_hosts(entry)
    if #hosts == 0 then return "Firewall: unchanged" end
    local names = {}
    for i, h in ipairs(hosts) do
      local n = 0
      for _ in entry[h]:gmatch("[^\n]+") do n = n + 1 end
      names[i] = string.format("%s (%d lines)", host_name(h), n)
    end
    return string.format("Firewall: nftables ruleset %s on %s", entry.desc or "", table.concat(names, ", "))
  end,
  apply_variant = function(_, cfg, entry)
    cfg._fw_saved = {}
    for _, h in ipairs(entry_hosts(entry)) do
      local old = M.nft_list(h)
      cfg._fw_saved[#cfg._fw_saved + 1] = { host = h, text = old }
      M.nft_load(h, entry[h], "ruleset " .. (entry.desc or ""))
    end
  end,
  remove_variant = function(_, cfg)
    local saved = cfg._fw_saved or {}
    cfg._fw_saved = nil
    local first
    for k = #saved, 1, -1 do
      local ok, err = pcall(M.nft_load, saved[k].host, saved[k].text, "saved ruleset")
      if not ok then first = first or err end
    end
    if first then error(first, 0) end
  end,
}

-- The conntrack ruleset: every connection to the host is tracked.
M.CONNTRACK_RULESET = [[
table inet lnst_conntrack {
  chain input {
    type filter hook input priority filter; policy accept;
    ct state established,related counter accept
    ct state new counter accept
  }
  chain output {
    type filter hook output priority filter; policy accept;
    ct state established,related counter accept
    ct state new counter accept
  }
}]]

M.conntrack = {
  configure = function(r, cfg)
    local h = r.hosts.host2
    cfg._ct_saved = M.nft_list(h)
    M.nft_load(h, M.CONNTRACK_RULESET, "conntrack ruleset")
    cfg._ct_loaded = true
    local old = h:sysctl_set("net.netfilter.nf_conntrack_tcp_timeout_syn_sent", 3600)
    cfg._ct_sysctl = old
  end,
  describe = function(r)
    return string.format("conntrack: every connection to %s tracked (table inet lnst_conntrack), "
      .. "nf_conntrack_tcp_timeout_syn_sent = 3600", r.hosts.host2.name)
  end,
  deconfigure = function(r, cfg)
    local h = r.hosts.host2
    if cfg._ct_sysctl ~= nil then
      h:sysctl_set("net.netfilter.nf_conntrack_tcp_timeout_syn_sent", cfg._ct_sysctl)
      cfg._ct_sysctl = nil
    end
    if cfg._ct_loaded then
      cfg._ct_loaded = nil
      M.nft_load(h, cfg._ct_saved or "", "saved ruleset")
    end
  end,
}

return M
