-- lnst.mapper: maps a recipe's hosts and NICs onto pool machines.
--
--   local matches, why = mapper.match(recipe.hosts, pools, { multimatch = false })
--
-- reqs is a recipe's `hosts` table: { host = { params = { k = v }, nic =
-- { network = LABEL, k = v, ... } } } (every NIC key but `network` is a NIC
-- parameter). pools is a list { { name =, dir =, machines = { { id =,
-- params = {}, interfaces = { { id =, label =, params = {} } } } } } } as
-- core.pool_load returns them.
--
-- The search is LNST's: deterministic backtracking over hosts (sorted by
-- name), machines (sorted by id) and interfaces (sorted by id); host and NIC
-- parameters must be equal as strings (empty ones are not compared); recipe
-- networks map one-to-one onto pool labels; a match lies within one pool,
-- and pools are tried in the order given. With multimatch every match is
-- returned, in that same order; otherwise the first.
--
-- A match: { pool =, pool_dir =, networks = { net = label }, hosts = { host =
-- { machine = m, nics = { nic = iface } } } }.
--
-- When nothing matches, the second result explains it, per pool and per
-- host: which machines and interfaces were tried and which parameter,
-- label or lack of machines ruled them out.
local util = require "lnst.util"

local M = {}

local function str(v) return v == nil and nil or tostring(v) end

-- The recipe's hosts as ordered requirement records.
local function requirements(reqs)
  local hosts = {}
  for _, hname in ipairs(util.sorted_keys(reqs)) do
    local h = { name = hname, params = {}, nics = {} }
    for k, v in pairs(reqs[hname].params or {}) do
      if str(v) ~= "" then h.params[k] = str(v) end
    end
    for _, nic in ipairs(util.sorted_keys(reqs[hname])) do
      if nic ~= "params" then
        local spec = reqs[hname][nic]
        local n = { name = nic, network = spec.network, params = {} }
        for k, v in pairs(spec) do
          if k ~= "network" and k ~= "params" and str(v) ~= "" then n.params[k] = str(v) end
        end
        for k, v in pairs(spec.params or {}) do
          if str(v) ~= "" then n.params[k] = str(v) end
        end
        h.nics[#h.nics + 1] = n
      end
    end
    hosts[#hosts + 1] = h
  end
  return hosts
end

-- Why `have` lacks what `want` asks, or nil when every wanted value is there.
local function params_mismatch(want, have)
  for _, k in ipairs(util.sorted_keys(want)) do
    local hv, wv = have[k], want[k]
    if hv == nil then
      return string.format("has no parameter '%s' (wanted '%s')", k, wv)
    end
    hv = tostring(hv)
    if k == "hwaddr" then hv, wv = hv:upper(), wv:upper() end
    if hv ~= wv then
      return string.format("%s is '%s', wanted '%s'", k, hv, want[k])
    end
  end
  return nil
end

local function sorted_by_id(list)
  local out = {}
  for i, x in ipairs(list) do out[i] = x end
  table.sort(out, function(a, b) return a.id < b.id end)
  return out
end

local function describe_req(h)
  local ps = {}
  for _, k in ipairs(util.sorted_keys(h.params)) do ps[#ps + 1] = k .. "=" .. h.params[k] end
  return #ps > 0 and string.format("host %s (%s)", h.name, table.concat(ps, ", ")) or "host " .. h.name
end

local function describe_nic(n)
  local ps = { "network " .. n.network }
  for _, k in ipairs(util.sorted_keys(n.params)) do ps[#ps + 1] = k .. "=" .. n.params[k] end
  return string.format("NIC %s (%s)", n.name, table.concat(ps, ", "))
end

-- The state of one search over one pool.
local function new_search(hreqs, pool)
  local s = {
    hreqs = hreqs, pool = pool, machines = sorted_by_id(pool.machines),
    used_m = {}, used_if = {}, fwd = {}, back = {}, assign = {},
    best = nil, -- the furthest partial assignment that failed, for diagnostics
  }
  s.ifaces = {}
  for _, m in ipairs(s.machines) do s.ifaces[m.id] = sorted_by_id(m.interfaces or {}) end
  return s
end

-- Why iface f of machine m cannot take NIC n now; nil when it can.
local function iface_refusal(s, n, m, f)
  local taken = s.used_if[m.id .. "\0" .. f.id]
  if taken then return string.format("interface %s is taken by %s", f.id, taken) end
  local why = params_mismatch(n.params, f.params or {})
  if why then return string.format("interface %s %s", f.id, why) end
  local fwd, back = s.fwd[n.network], s.back[f.label]
  if fwd ~= nil and fwd ~= f.label then
    return string.format("interface %s is on label %s, but network %s is already label %s",
      f.id, f.label, n.network, fwd)
  end
  if back ~= nil and back ~= n.network then
    return string.format("interface %s is on label %s, which is already network %s", f.id, f.label, back)
  end
  return nil
end

-- Why machine m cannot take host h now (as far as one can tell without
-- searching): a list of reasons.
local function machine_refusal(s, h, m)
  if s.used_m[m.id] then return { "taken by host " .. s.used_m[m.id] } end
  local why = params_mismatch(h.params, m.params or {})
  if why then return { why } end
  local ifaces = s.ifaces[m.id]
  if #ifaces < #h.nics then
    return { string.format("has %d interface%s, the host needs %d", #ifaces, #ifaces == 1 and "" or "s", #h.nics) }
  end
  local out, cands = {}, {}
  for _, n in ipairs(h.nics) do
    local ok, refusals = {}, {}
    for _, f in ipairs(ifaces) do
      local r = iface_refusal(s, n, m, f)
      if r then refusals[#refusals + 1] = r else ok[#ok + 1] = f.id end
    end
    if #ok == 0 then
      out[#out + 1] = string.format("%s: no interface fits: %s", describe_nic(n), table.concat(refusals, "; "))
    end
    cands[#cands + 1] = string.format("%s -> %s", n.name, #ok > 0 and table.concat(ok, "|") or "none")
  end
  if #out == 0 then
    out[1] = string.format("its interfaces cannot take all the host's NICs at once (candidates: %s; "
      .. "each interface serves one NIC and network labels map one-to-one)", table.concat(cands, ", "))
  end
  return out
end

local function snapshot(s)
  local hosts = {}
  for hname, a in pairs(s.assign) do
    local nics = {}
    for nic, f in pairs(a.nics) do nics[nic] = f end
    hosts[hname] = { machine = a.machine, nics = nics }
  end
  local nets = {}
  for k, v in pairs(s.fwd) do nets[k] = v end
  return { pool = s.pool.name, pool_dir = s.pool.dir, networks = nets, hosts = hosts }
end

local function describe_partial(s, upto)
  local parts = {}
  for i = 1, upto - 1 do
    local h = s.hreqs[i]
    local a = s.assign[h.name]
    local nics = {}
    for _, n in ipairs(h.nics) do
      local f = a.nics[n.name]
      nics[#nics + 1] = string.format("%s -> %s", n.name, f.id)
    end
    parts[#parts + 1] = string.format("%s -> %s%s", h.name, a.machine.id,
      #nics > 0 and " (" .. table.concat(nics, ", ") .. ")" or "")
  end
  return table.concat(parts, "; ")
end

local host_step

local function nic_step(s, hi, ni, m, out, all)
  local h = s.hreqs[hi]
  if ni > #h.nics then return host_step(s, hi + 1, out, all) end
  local n = h.nics[ni]
  for _, f in ipairs(s.ifaces[m.id]) do
    if not iface_refusal(s, n, m, f) then
      local key = m.id .. "\0" .. f.id
      local created = s.fwd[n.network] == nil
      if created then s.fwd[n.network], s.back[f.label] = f.label, n.network end
      s.used_if[key] = string.format("NIC %s of host %s", n.name, h.name)
      s.assign[h.name].nics[n.name] = f
      if nic_step(s, hi, ni + 1, m, out, all) then return true end
      s.assign[h.name].nics[n.name] = nil
      s.used_if[key] = nil
      if created then s.fwd[n.network], s.back[f.label] = nil, nil end
    end
  end
  return false
end

host_step = function(s, hi, out, all)
  if hi > #s.hreqs then
    out[#out + 1] = snapshot(s)
    return not all
  end
  local h = s.hreqs[hi]
  local placed = false
  for _, m in ipairs(s.machines) do
    if not s.used_m[m.id] and not params_mismatch(h.params, m.params or {}) then
      s.used_m[m.id] = h.name
      s.assign[h.name] = { machine = m, nics = {} }
      local before = #out
      if nic_step(s, hi, 1, m, out, all) then return true end
      placed = placed or #out > before
      s.assign[h.name] = nil
      s.used_m[m.id] = nil
    end
  end
  -- Remember where the search got furthest, and why it stopped there.
  if not placed and (not s.best or hi > s.best.hi) then
    local reasons = {}
    for _, m in ipairs(s.machines) do
      reasons[#reasons + 1] = { id = m.id, why = machine_refusal(s, h, m) }
    end
    s.best = { hi = hi, partial = describe_partial(s, hi), reasons = reasons }
  end
  return false
end

-- Whether host h alone fits machine m (its parameters, and all its NICs at once).
local function fits_alone(h, m, pool)
  if params_mismatch(h.params, m.params or {}) then return false end
  local one = new_search({ h }, pool)
  one.used_m[m.id] = h.name
  one.assign[h.name] = { machine = m, nics = {} }
  local found = {}
  nic_step(one, 1, 1, m, found, false)
  return #found > 0
end

-- The no-match explanation of one pool.
local function explain_pool(hreqs, pool, s, lines)
  local nm = #s.machines
  lines[#lines + 1] = string.format("pool %s (%s): %d machine%s", pool.name, pool.dir or "?", nm, nm == 1 and "" or "s")
  if nm < #hreqs then
    lines[#lines + 1] = string.format("  the recipe has %d hosts, the pool only %d machines", #hreqs, nm)
    return
  end
  -- Each host on its own, against a fresh pool.
  local alone_ok = true
  for _, h in ipairs(hreqs) do
    local fits, refusals = {}, {}
    for _, m in ipairs(s.machines) do
      if fits_alone(h, m, pool) then
        fits[#fits + 1] = m.id
      else
        refusals[#refusals + 1] = { id = m.id, why = machine_refusal(new_search({ h }, pool), h, m) }
      end
    end
    if #fits > 0 then
      lines[#lines + 1] = string.format("  %s: fits %s", describe_req(h), table.concat(fits, ", "))
    else
      alone_ok = false
      lines[#lines + 1] = string.format("  %s: no machine fits", describe_req(h))
      for _, r in ipairs(refusals) do
        lines[#lines + 1] = string.format("    %s: %s", r.id, table.concat(r.why, "; "))
      end
    end
  end
  if alone_ok and s.best then
    local h = hreqs[s.best.hi]
    lines[#lines + 1] = "  every host fits some machine on its own, but not all together (machines and"
      .. " interfaces serve one host or NIC each; network labels map one-to-one)."
    lines[#lines + 1] = string.format("  The search got furthest with %s; then %s found no machine:",
      s.best.partial ~= "" and s.best.partial or "no host placed", describe_req(h))
    for _, r in ipairs(s.best.reasons) do
      lines[#lines + 1] = string.format("    %s: %s", r.id, table.concat(r.why, "; "))
    end
  end
end

-- Returns the list of matches (all with opts.multimatch, else the first),
-- or nil and the explanation.
function M.match(reqs, pools, opts)
  opts = opts or {}
  local hreqs = requirements(reqs)
  local out, searches = {}, {}
  for _, pool in ipairs(pools) do
    local s = new_search(hreqs, pool)
    searches[#searches + 1] = s
    if host_step(s, 1, out, opts.multimatch) then break end
  end
  if #out > 0 then return out end
  if #pools == 0 then return nil, "no machine pool is configured (give --pool DIR or [pools] in lnst.conf)" end
  local lines = { "no machine pool can provision this recipe:" }
  for i, pool in ipairs(pools) do explain_pool(hreqs, pool, searches[i], lines) end
  return nil, table.concat(lines, "\n")
end

-- One line per host: "host1 -> m1 (eth0 -> eth1)", for summaries and logs.
function M.describe(match)
  local lines = {}
  for _, hname in ipairs(util.sorted_keys(match.hosts)) do
    local a = match.hosts[hname]
    local nics = {}
    for _, nic in ipairs(util.sorted_keys(a.nics)) do nics[#nics + 1] = nic .. " -> " .. a.nics[nic].id end
    lines[#lines + 1] = string.format("%s -> %s%s", hname, a.machine.id,
      #nics > 0 and " (" .. table.concat(nics, ", ") .. ")" or "")
  end
  return table.concat(lines, "; ")
end

return M
