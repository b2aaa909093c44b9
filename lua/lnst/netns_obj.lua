-- lnst.netns_obj: extra network namespaces of a host, as the recipe sees them.
--   h2.ns1 = lnst.netns()            -- netns.add on h2's agent, one worker for it
--   h2.ns1.vb = b                    -- moves device b into it (dev.set_netns)
--   h2.ns1.vb:ip_add("198.51.100.9/24"); h2.ns1:run({"ping", "-c1", "198.51.100.1"})
--   h2.vb = h2.ns1.vb                -- and back to the host's root namespace
--   h2.ns1 = nil                     -- deletes it (the end of the run does too)
-- A namespace object offers the host API (run, device, devices, routes,
-- sysctl...): it is a host whose requests carry "netns": NAME. Device
-- proxies are keyed by (namespace, ifindex) and re-keyed when the agent
-- reports dev.netns_changed, so a proxy stays valid across moves.
local device = require "lnst.device"

local M = {}

-- ---- lnst.netns(): the value a host field is set to ----------------------

local Spec = {}
Spec.__index = Spec

function M.spec(opts)
  if opts ~= nil and (type(opts) ~= "table" or next(opts) ~= nil) then
    error("lnst.netns() takes no options", 2)
  end
  return setmetatable({}, Spec)
end

function M.is_spec(x)
  return getmetatable(x) == Spec
end

-- ---- the connection of a namespace: the host's, with netns added ----------

local Conn = {}
function Conn.__index(w, k)
  local m = Conn[k]
  if m then return m end
  local real = rawget(w, "real")
  local f = real[k]
  if type(f) == "function" then
    return function(_, ...) return f(real, ...) end
  end
  return nil
end

function Conn:send(method, params)
  return self.real:send(method, params, self.netns)
end

-- ---- namespace objects ------------------------------------------------------

local NS = {}

local function valid_name(k)
  return type(k) == "string" and #k >= 1 and #k <= 64 and not k:find("[^%w%._%-]") and not k:find("^[%.%-]")
end

function NS.__index(ns, k)
  local m = NS[k]
  if m ~= nil then return m end
  local hm = rawget(ns, "_hostmt")[k]
  if type(hm) == "function" and type(k) == "string" and k:sub(1, 2) ~= "__" then return hm end
  local named = M.lookup(ns, k)
  if named then return named end
  for ifindex, d in pairs(rawget(ns, "_devs")) do
    if d.name == k then return device.proxy(ns, ifindex) end
  end
  return nil
end

function NS.__newindex(ns, k, v)
  if rawget(ns, "deleted") then
    error(string.format("%s: the namespace was deleted", rawget(ns, "name")), 2)
  end
  -- No tail calls: errors point at the recipe's assignment, 3 levels up.
  if device.is_device(v) then
    M.move(v, ns, k, 3)
    return
  end
  local mt = getmetatable(v)
  if type(mt) == "table" and mt.__lnst_assign then
    mt.__lnst_assign(v, ns, k)
    return
  end
  error(string.format("%s: cannot set '%s' (assign a device to move it here)", rawget(ns, "name"), tostring(k)), 2)
end

function NS.__tostring(ns)
  local names = {}
  for _, d in pairs(rawget(ns, "_devs")) do names[#names + 1] = d.name end
  table.sort(names)
  return string.format("<namespace %s of host %s: %s>", rawget(ns, "netns"), rawget(ns, "parent").name,
    table.concat(names, ", "))
end

-- Records go to the host's run; a paused run may stop here.
function NS:record(rec) return rawget(self, "parent"):record(rec) end
function NS:checkpoint() return rawget(self, "parent"):checkpoint() end

-- The host whose namespace this is.
function NS:host() return rawget(self, "parent") end

function M.is_netns(x)
  return getmetatable(x) == NS
end

-- The host (root namespace) of a host or namespace object.
local function root_of(target)
  if M.is_netns(target) then return rawget(target, "parent") end
  return target
end

-- The netns name a request for target carries ("" = the host's root).
local function netns_of(target)
  return M.is_netns(target) and rawget(target, "netns") or ""
end

local function record(h, ok, what, msg)
  h:record { type = "device_config", action = "netns", host = h.name, result = ok and "PASS" or "FAIL",
    description = ok and string.format("%s: %s", h.name, what)
      or string.format("%s: %s failed: %s", h.name, what, msg), level = 2 }
end

-- host.KEY = lnst.netns(): creates the namespace KEY on the host.
function Spec.__lnst_assign(_, target, key)
  if M.is_netns(target) then
    error(string.format("%s: namespaces are made on hosts, not inside namespace %s", rawget(target, "name"),
      rawget(target, "netns")), 3)
  end
  local h = target
  if not valid_name(key) then
    error(string.format("host %s: '%s' is not a valid namespace name (1 to 64 of A-Z a-z 0-9 . _ -, " ..
      "not starting with '.' or '-')", h.name, tostring(key)), 3)
  end
  if rawget(h, "nics")[key] or h[key] ~= nil then
    error(string.format("host %s: cannot name a namespace '%s': the host already has a field of that name",
      h.name, key), 3)
  end
  local ok, res, msg = h:call_raw("netns.add", { name = key })
  record(h, ok, "netns.add " .. key, msg)
  if not ok then
    error(string.format("host %s: netns.add %s failed: %s (%s)", h.name, key, msg, res), 3)
  end
  local ns = setmetatable({
    name = h.name .. "." .. key, netns = key, parent = h, pid = res.pid,
    conn = setmetatable({ real = h.conn, netns = key }, Conn),
    target = string.format("namespace %s of %s", key, h.target or h.name),
    kernel = h.kernel, agent_version = h.agent_version, capabilities = h.capabilities, log = h.log,
    nics = {}, _named = {}, _devs = {}, _jobs = {}, _early = {}, _early_output = {},
    _hostmt = getmetatable(h),
  }, NS)
  for _, d in ipairs(res.devices or {}) do ns._devs[d.ifindex] = d end
  local nss = rawget(h, "_netns")
  if not nss then
    nss = {}
    rawset(h, "_netns", nss)
  end
  nss[key] = ns
  return ns
end

-- host.KEY = nil for a namespace KEY: deletes it (devices moved into it go
-- back where they came from).
function M.delete(h, key)
  local nss = rawget(h, "_netns")
  local ns = nss and nss[key]
  local ok, code, msg = h:call_raw("netns.del", { name = key })
  record(h, ok, "netns.del " .. key, msg)
  if not ok then
    error(string.format("host %s: netns.del %s failed: %s (%s)", h.name, key, msg, code), 3)
  end
  nss[key] = nil
  rawset(ns, "deleted", true)
end

-- Whether host h has a namespace named key.
function M.has(h, key)
  local nss = rawget(h, "_netns")
  return nss ~= nil and nss[key] ~= nil
end

-- Moves a device proxy to target (a host = its root namespace, or a
-- namespace of the same host); key names it there when it differs from the
-- device's name. level: where errors point (the recipe's assignment).
function M.move(dev, target, key, level)
  local from = rawget(dev, "host")
  if root_of(from) ~= root_of(target) then
    error(string.format("device %s is on host %s; it cannot move to %s (devices move between the " ..
      "namespaces of one host)", tostring(dev), root_of(from).name, rawget(target, "name")), level)
  end
  if from ~= target then
    local dst = netns_of(target)
    local name = dev.name
    local what = string.format("move to %s", dst == "" and "the root namespace" or "namespace " .. dst)
    local ok, res, msg = from:call_raw("dev.set_netns", { ifindex = dev.ifindex, netns = dst })
    from:record { type = "device_config", action = "dev.set_netns", host = from.name, dev = name,
      result = ok and "PASS" or "FAIL", level = 2,
      description = string.format("%s.%s: %s%s", from.name, name, what, ok and "" or (" failed: " .. msg)) }
    if not ok then
      error(string.format("host %s, device %s: %s failed: %s (%s)", from.name, name, what, msg, res), level)
    end
    -- The dev.netns_changed event re-keyed the proxy already; make sure.
    if rawget(dev, "host") ~= target then
      device.rekey(from, rawget(dev, "ifindex"), target, res.ifindex, dev)
    end
    target._devs[res.ifindex] = res
  end
  if key ~= nil then
    local named = rawget(target, "_named")
    if not named then
      named = {}
      rawset(target, "_named", named)
    end
    named[key] = dev
  end
end

-- host.KEY for what this module adds to hosts: its namespaces, and devices
-- assigned to it (h2.vb = h2.ns1.vb) while they stay there.
function M.lookup(h, key)
  local nss = rawget(h, "_netns")
  if nss and nss[key] then return nss[key] end
  local named = rawget(h, "_named")
  local dev = named and named[key]
  if dev and rawget(dev, "host") == h then return dev end
  return nil
end

-- Handles an event of a namespace's worker, or a device move reported by any
-- namespace of host h. Returns true when handled.
function M.event(h, ev)
  local nss = rawget(h, "_netns") or {}
  local src
  if ev.netns == nil then src = h else src = nss[ev.netns] end
  if ev.event == "dev.netns_changed" then
    if not src then return true end
    src._devs[ev.ifindex] = nil
    local dst
    if ev.new_netns == "" then dst = h
    elseif type(ev.new_netns) == "string" then dst = nss[ev.new_netns] end
    if dst then
      device.rekey(src, ev.ifindex, dst, ev.new_ifindex)
    else
      device.forget(src, ev.ifindex)
    end
    return true
  end
  if ev.netns == nil then return false end
  if src then
    ev.netns = nil
    src:_event(ev)
  end
  return true
end

return M
