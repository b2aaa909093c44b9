-- lnst.netcfg: routes, neighbours, policy rules, sysctl and ethtool settings.
-- lnst.host adds M.host to the methods of hosts (and so of namespaces);
-- lnst.device adds M.device to device methods and M.get / M.set as device
-- fields:
--   h1.eth0:route_add { dst = "203.0.113.0/24", via = "198.51.100.254" }
--   h1:route_add { dst = "203.0.113.0/24", nexthops = { { via = a, dev = h1.eth0 }, { via = b } } }
--   h1.eth0:neigh_add { dst = "198.51.100.7", lladdr = "02:00:00:00:00:07" }
--   h1:rule_add { from = "198.51.100.0/24", table = 100 }
--   h1:sysctl_set("net.ipv4.ip_forward", 1); h1:sysctl_get("net.ipv4.ip_forward") --> "1"
--   h1.eth0.offloads = { gro = false, tso = false }; h1.eth0.offloads.gro --> false
-- Every change is recorded as a result and undone by the agent at the end of
-- the run. Reading an ethtool field is one request to the agent.
local M = { host = {}, device = {}, get = {}, set = {} }

-- ---- helpers ------------------------------------------------------------------

local function is_proxy(x)
  return type(x) == "table" and rawget(x, "ifindex") ~= nil and rawget(x, "host") ~= nil
end

local function where(h)
  return h.name
end

-- A request for host h, recorded; raises at the recipe's line on failure.
local function host_op(h, method, what, params, level)
  local ok, res, msg = h:call_raw(method, params)
  h:record { type = "device_config", action = method, host = h.name, level = 2,
    result = ok and "PASS" or "FAIL",
    description = string.format("%s: %s%s", h.name, what, ok and "" or (" failed: " .. tostring(msg))) }
  if not ok then
    error(string.format("host %s: %s failed: %s (%s)", h.name, what, msg, res), level or 3)
  end
  h:checkpoint()
  return res
end

-- A request for a device, recorded; returns the result.
local function dev_op(dev, method, what, params, level)
  local h = rawget(dev, "host")
  local name = dev.name
  params.ifindex = dev.ifindex
  local ok, res, msg = h:call_raw(method, params)
  h:record { type = "device_config", action = method, host = h.name, dev = name, level = 2,
    result = ok and "PASS" or "FAIL",
    description = string.format("%s.%s: %s%s", h.name, name, what, ok and "" or (" failed: " .. tostring(msg))) }
  if not ok then
    error(string.format("host %s, device %s: %s failed: %s (%s)", h.name, name, what, msg, res), level or 3)
  end
  h:checkpoint()
  return res
end

-- The ifindex of `dev` (a proxy or a device name) on host/namespace h.
local function ifindex_of(h, dev, ctx, level)
  if type(dev) == "string" then
    local p = h:device(dev)
    if not p then error(string.format("%s: %s: no device named '%s'", where(h), ctx, dev), level) end
    return p.ifindex
  end
  if is_proxy(dev) then
    if rawget(dev, "host") ~= h then
      error(string.format("%s: %s: device %s is not in %s", where(h), ctx, tostring(dev), where(h)), level)
    end
    return dev.ifindex
  end
  error(string.format("%s: %s: 'dev' must be a device or a device name", where(h), ctx), level)
end

local function check_table(t, fname, example, level)
  if type(t) ~= "table" then
    error(string.format("%s: takes a table like %s", fname, example), level)
  end
end

local function check_keys(t, known, fname, level)
  for k in pairs(t) do
    if not known[k] then
      local names = {}
      for n in pairs(known) do names[#names + 1] = n end
      table.sort(names)
      error(string.format("%s: unknown key '%s' (known: %s)", fname, tostring(k), table.concat(names, ", ")), level)
    end
  end
end

-- ---- routes -----------------------------------------------------------------------

local ROUTE_KEYS = { dst = true, via = true, dev = true, table = true, metric = true, src = true, scope = true,
  type = true, proto = true, onlink = true, nexthops = true, encap = true, family = true }
local NEXTHOP_KEYS = { via = true, dev = true, weight = true, onlink = true }
local ROUTE_EXAMPLE = '{dst = "203.0.113.0/24", via = "198.51.100.254"}'

-- Wire params of a route description; dev: the device it was called on.
local function route_params(h, spec, dev, fname)
  check_table(spec, fname, ROUTE_EXAMPLE, 4)
  check_keys(spec, ROUTE_KEYS, fname, 4)
  local p = {}
  for k, v in pairs(spec) do
    if k == "dev" then
      p.ifindex = ifindex_of(h, v, fname, 4)
    elseif k == "nexthops" then
      check_table(v, fname .. " nexthops", '{{via = "198.51.100.1"}, {via = "198.51.100.2", weight = 2}}', 4)
      p.nexthops = {}
      for i, nh in ipairs(v) do
        check_table(nh, fname .. " nexthop " .. i, '{via = "198.51.100.1", dev = h.eth0}', 4)
        check_keys(nh, NEXTHOP_KEYS, fname .. " nexthop " .. i, 4)
        local n = { via = nh.via, weight = nh.weight, onlink = nh.onlink }
        if nh.dev ~= nil then n.ifindex = ifindex_of(h, nh.dev, fname, 4) end
        p.nexthops[i] = n
      end
    else
      p[k] = v
    end
  end
  if dev then
    if spec.dev ~= nil then error(fname .. ": called on a device, so 'dev' is not needed", 3) end
    if spec.nexthops ~= nil then error(fname .. ": multipath routes go through host:route_add{nexthops = ...}", 3) end
    p.ifindex = dev.ifindex
  end
  return p
end

local function route_desc(spec)
  local parts = { tostring(spec.dst) }
  if spec.via then parts[#parts + 1] = "via " .. tostring(spec.via) end
  if spec.nexthops then parts[#parts + 1] = string.format("(%d nexthops)", #spec.nexthops) end
  if spec.encap then parts[#parts + 1] = "encap " .. tostring(spec.encap.type or "ip") end
  if spec.table then parts[#parts + 1] = "table " .. tostring(spec.table) end
  if spec.metric then parts[#parts + 1] = "metric " .. tostring(spec.metric) end
  return table.concat(parts, " ")
end

-- Adds device names (dev) next to ifindexes, for reading.
local function name_devs(h, list)
  for _, e in ipairs(list) do
    local d = e.ifindex and h._devs[e.ifindex]
    if d then e.dev = d.name end
    for _, nh in ipairs(e.nexthops or {}) do
      local nd = nh.ifindex and h._devs[nh.ifindex]
      if nd then nh.dev = nd.name end
    end
  end
  return list
end

function M.host.route_add(h, spec)
  host_op(h, "route.add", "route_add " .. route_desc(spec or {}), route_params(h, spec, nil, "route_add"))
end

function M.host.route_del(h, spec)
  host_op(h, "route.del", "route_del " .. route_desc(spec or {}), route_params(h, spec, nil, "route_del"))
end

-- Routes as the kernel has them: {dst, via, dev, ifindex, table, metric,
-- proto, scope, type, src, nexthops, encap, family}. opts: table (number or
-- "all"; default main), family ("ipv4"/"ipv6").
function M.host.routes(h, opts)
  local list = h:call("route.list", opts or {})
  return name_devs(h, list)
end

function M.device.route_add(dev, spec)
  local h = rawget(dev, "host")
  dev_op(dev, "route.add", "route_add " .. route_desc(spec or {}), route_params(h, spec, dev, "route_add"))
  return dev
end

function M.device.route_del(dev, spec)
  local h = rawget(dev, "host")
  dev_op(dev, "route.del", "route_del " .. route_desc(spec or {}), route_params(h, spec, dev, "route_del"))
  return dev
end

-- The routes that go out through this device.
function M.device.routes(dev, opts)
  local out, ifindex = {}, dev.ifindex
  for _, r in ipairs(M.host.routes(rawget(dev, "host"), opts)) do
    local mine = r.ifindex == ifindex
    for _, nh in ipairs(r.nexthops or {}) do mine = mine or nh.ifindex == ifindex end
    if mine then out[#out + 1] = r end
  end
  return out
end

-- ---- neighbours ----------------------------------------------------------------------

local NEIGH_KEYS = { dst = true, lladdr = true, state = true, router = true, proxy = true }

local function neigh_params(spec, fname)
  if type(spec) == "string" then spec = { dst = spec } end
  check_table(spec, fname, '{dst = "198.51.100.7", lladdr = "02:00:00:00:00:07"}', 4)
  check_keys(spec, NEIGH_KEYS, fname, 4)
  local p = {}
  for k, v in pairs(spec) do p[k] = v end
  return p
end

function M.device.neigh_add(dev, spec)
  local p = neigh_params(spec, "neigh_add")
  dev_op(dev, "neigh.add", string.format("neigh_add %s lladdr %s", tostring(p.dst), tostring(p.lladdr)), p)
  return dev
end

-- dev:neigh_del("198.51.100.7") or dev:neigh_del{dst = ..., proxy = true}
function M.device.neigh_del(dev, spec)
  local p = neigh_params(spec, "neigh_del")
  p.lladdr, p.state = nil, nil
  dev_op(dev, "neigh.del", "neigh_del " .. tostring(p.dst), p)
  return dev
end

function M.device.neighs(dev)
  local h = rawget(dev, "host")
  local list = h:call("neigh.list", { ifindex = dev.ifindex })
  return name_devs(h, list)
end

function M.host.neighs(h, opts)
  local p = {}
  if opts and opts.dev ~= nil then p.ifindex = ifindex_of(h, opts.dev, "neighs", 3) end
  if opts and opts.family then p.family = opts.family end
  local list = h:call("neigh.list", p)
  return name_devs(h, list)
end

-- ---- rules ----------------------------------------------------------------------------

local RULE_KEYS = { family = true, priority = true, table = true, from = true, to = true, iif = true, oif = true,
  fwmark = true, fwmask = true, action = true, ["not"] = true }

local function rule_params(h, spec, fname)
  check_table(spec, fname, '{from = "198.51.100.0/24", table = 100}', 4)
  check_keys(spec, RULE_KEYS, fname, 4)
  local p = {}
  for k, v in pairs(spec) do
    if (k == "iif" or k == "oif") and is_proxy(v) then
      if rawget(v, "host") ~= h then error(string.format("%s: %s is not in %s", fname, tostring(v), h.name), 3) end
      p[k] = v.name
    else
      p[k] = v
    end
  end
  return p
end

local function rule_desc(p)
  local parts = {}
  for _, k in ipairs({ "priority", "from", "to", "iif", "oif", "fwmark", "table", "action" }) do
    if p[k] ~= nil then parts[#parts + 1] = k .. " " .. tostring(p[k]) end
  end
  return table.concat(parts, " ")
end

function M.host.rule_add(h, spec)
  local p = rule_params(h, spec, "rule_add")
  host_op(h, "rule.add", "rule_add " .. rule_desc(p), p)
end

function M.host.rule_del(h, spec)
  local p = rule_params(h, spec, "rule_del")
  host_op(h, "rule.del", "rule_del " .. rule_desc(p), p)
end

function M.host.rules(h, opts)
  local list = h:call("rule.list", opts or {})
  return list
end

-- ---- sysctl ------------------------------------------------------------------------------

-- Sets a kernel parameter (restored at the end of the run); returns the
-- value it replaced.
function M.host.sysctl_set(h, key, value)
  if type(key) ~= "string" then error("sysctl_set: the key must be a string like \"net.ipv4.ip_forward\"", 2) end
  if type(value) ~= "string" and type(value) ~= "number" and type(value) ~= "boolean" then
    error("sysctl_set: the value must be a string, a number or a boolean", 2)
  end
  local res = host_op(h, "sysctl.set", string.format("sysctl %s = %s", key, tostring(value)),
    { key = key, value = value }, 3)
  return res.old
end

-- The value of a kernel parameter, as the kernel prints it (a string).
function M.host.sysctl_get(h, key)
  if type(key) ~= "string" then error("sysctl_get: the key must be a string like \"net.ipv4.ip_forward\"", 2) end
  local ok, res, msg = h:call_raw("sysctl.get", { key = key })
  if not ok then error(string.format("host %s: sysctl_get %s failed: %s (%s)", h.name, key, msg, res), 2) end
  return res.value
end

-- ---- ethtool -------------------------------------------------------------------------------

local function eth_get(dev, what, level)
  local h = rawget(dev, "host")
  local ok, res, msg = h:call_raw("ethtool.get", { ifindex = dev.ifindex, what = what })
  if not ok then
    error(string.format("host %s, device %s: reading %s failed: %s (%s)", h.name, dev.name, what, msg, res), level)
  end
  return res
end

local function eth_set(dev, what, values, level)
  local desc = {}
  for k, v in pairs(values) do desc[#desc + 1] = k .. "=" .. tostring(v) end
  table.sort(desc)
  return dev_op(dev, "ethtool.set", string.format("ethtool %s %s", what, table.concat(desc, " ")),
    { what = what, values = values }, level)
end

-- Offloads: every kernel feature by name (rx-gro = false...), and the short
-- names of `ethtool -K` (gro, tso, gso, lro, sg, rx, tx, ...).
local function offloads(res)
  local out = {}
  for k, v in pairs(res.active or {}) do out[k] = v end
  for k, v in pairs(res.aliases or {}) do out[k] = v end
  return out
end

-- Tables of settings: field name -> ethtool `what`.
local GROUPS = { coalescing = "coalesce", pause = "pause", rings = "rings", channels = "channels",
  link_settings = "link" }

-- Fields are read through Device.__index and set through __newindex: errors
-- point 4 (getters: eth_get, getter, __index, recipe) and 5 (setters:
-- dev_op, eth_set, setter, __newindex, recipe) levels up. No tail calls
-- here, so that those frames exist.
local function getter(what, post)
  return function(dev)
    local res = eth_get(dev, what, 4)
    if post then res = post(res) end
    return res
  end
end

local function setter(what, example)
  return function(dev, v)
    check_table(v, what == "features" and "offloads" or what, example, 4)
    local res = eth_set(dev, what, v, 5)
    return res
  end
end

for field, what in pairs(GROUPS) do
  M.get[field] = getter(what)
  M.set[field] = setter(what, what == "channels" and "{rx = 2}" or "{...}")
end
M.get.offloads = getter("features", offloads)
M.set.offloads = setter("features", "{gro = false, tso = false}")
M.get.driver_info = getter("driver")
M.get.ethtool_stats = getter("stats")

-- LNST's names for single settings.
local SINGLE = {
  adaptive_rx_coalescing = { "coalesce", "use_adaptive_rx" },
  adaptive_tx_coalescing = { "coalesce", "use_adaptive_tx" },
  coalescing_rx_usecs = { "coalesce", "rx_usecs" },
  coalescing_rx_frames = { "coalesce", "rx_max_frames" },
  coalescing_tx_usecs = { "coalesce", "tx_usecs" },
  coalescing_tx_frames = { "coalesce", "tx_max_frames" },
  rx_pause_frames = { "pause", "rx" },
  tx_pause_frames = { "pause", "tx" },
}

for field, def in pairs(SINGLE) do
  M.get[field] = getter(def[1], function(res) return res[def[2]] end)
  M.set[field] = function(dev, v)
    local res = eth_set(dev, def[1], { [def[2]] = v }, 5)
    return res
  end
end

-- dev:ethtool(what) reads any group: features, coalesce, pause, rings,
-- channels, link, driver, stats; dev:ethtool_set(what, values) sets one.
function M.device.ethtool(dev, what)
  local res = eth_get(dev, what, 3)
  return res
end

function M.device.ethtool_set(dev, what, values)
  check_table(values, "ethtool_set", "{rx = 2}", 3)
  local res = eth_set(dev, what, values, 4)
  return res
end

-- LNST's link methods.
function M.device.speed_set(dev, speed, duplex)
  eth_set(dev, "link", { speed = speed, duplex = duplex or "full", autoneg = false }, 4)
  return dev
end

function M.device.autoneg_on(dev)
  eth_set(dev, "link", { autoneg = true }, 4)
  return dev
end

function M.device.autoneg_off(dev)
  eth_set(dev, "link", { autoneg = false }, 4)
  return dev
end

return M
