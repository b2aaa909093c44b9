-- lnst.links: soft devices as recipes make them (docs/devices.md).
--   local d = lnst.device
--   h1.br0 = d.bridge { stp_state = 0 }           -- created on h1's agent
--   h1.eth0.master = h1.br0                       -- or h1.br0:slave_add(h1.eth0)
--   local a, b = d.veth_pair { name = "va", peer_name = "vb" }
--   h1.va = a; h2.ns1.vb = b                      -- b: created with a, moved
-- A factory returns an unborn device spec: its kind and parameters, with
-- LNST's names. Assigning it to a host (or a namespace of one) sends one
-- link.create to that agent, which checks every parameter before anything
-- is made; the spec is then born: it stands for the device (methods and
-- fields go to the device proxy). Parameters that are devices (realdev,
-- master, primary...) must be devices of the same host and namespace.
-- Every creation and change is recorded as a device_config result.
--
-- Also here: the master/slave and bridge methods of devices (slave_add,
-- vlan_add, fdb_add, bridge_port_set, delete...), installed into lnst.device
-- by extend(), and the host methods (l2tp_tunnel_add, has_kind).
local M = {}

-- lnst.device.<factory> = kind on the wire.
M.KINDS = {
  veth = "veth", bridge = "bridge", bond = "bond", team = "team", vlan = "vlan", macvlan = "macvlan",
  macvtap = "macvtap", ipvlan = "ipvlan", vxlan = "vxlan", geneve = "geneve", gre = "gre", gretap = "gretap",
  ip6gre = "ip6gre", ipip = "ipip", sit = "sit", ip6tnl = "ip6tnl", vti = "vti", vti6 = "vti6",
  macsec = "macsec", l2tp_session = "l2tp", wireguard = "wireguard", dummy = "dummy", vrf = "vrf",
  tun = "tun", tap = "tap",
}

-- Lazy: lnst.device loads this module.
local function device() return require "lnst.device" end
local function netns_obj() return require "lnst.netns_obj" end

local Spec = {}

local function is_spec(x) return getmetatable(x) == Spec end
M.is_spec = is_spec

local function born(s) return rawget(s, "_dev") end

local function describe(s)
  local name = rawget(s, "_params").name
  return string.format("%s%s", rawget(s, "_kind"), name and (" " .. name) or "")
end

function Spec.__index(s, k)
  local dev = born(s)
  if k == "peer" then return rawget(s, "_peer") end
  if not dev then
    if k == "kind" then return rawget(s, "_kind") end
    if k == "params" then
      local out = {}
      for pk, v in pairs(rawget(s, "_params")) do out[pk] = v end
      return out
    end
    error(string.format("lnst.device.%s: '%s' of a device that is not created yet: assign it to a host "
      .. "first (host.NAME = spec)", describe(s), tostring(k)), 2)
  end
  local v = dev[k]
  if type(v) == "function" then
    -- spec:method(...) is dev:method(...); a tail call, so that the
    -- method's errors point at the recipe's line as they do for devices
    return function(self, ...)
      if rawequal(self, s) then self = dev end
      return v(self, ...)
    end
  end
  return v
end

function Spec.__newindex(s, k, v)
  local dev = born(s)
  if not dev then
    error(string.format("lnst.device.%s: cannot set '%s' before the device is created (give it as a "
      .. "parameter, or assign the spec to a host first)", describe(s), tostring(k)), 2)
  end
  dev[k] = v
end

function Spec.__tostring(s)
  local dev = born(s)
  if dev then return tostring(dev) end
  return string.format("<lnst.device.%s, not created yet>", describe(s))
end

function Spec.__eq(a, b)
  return rawequal(born(a) or a, born(b) or b)
end

local function new_spec(kind, params)
  return setmetatable({ _kind = kind, _params = params }, Spec)
end

local function copy_params(factory, opts, level)
  if opts == nil then return {} end
  if type(opts) ~= "table" or getmetatable(opts) ~= nil then
    error(string.format("lnst.device.%s takes a table of parameters, like lnst.device.%s { name = \"x\" }",
      factory, factory), level)
  end
  local p = {}
  for k, v in pairs(opts) do
    if type(k) ~= "string" then
      error(string.format("lnst.device.%s: parameter names are strings, got %s", factory, tostring(k)), level)
    end
    if k == "kind" then
      error(string.format("lnst.device.%s: 'kind' is set by the factory", factory), level)
    end
    p[k] = v
  end
  return p
end

-- ---- creation -------------------------------------------------------------------

-- The host (root namespace) of a host or namespace object.
local function root_of(target)
  local ns = netns_obj()
  if ns.is_netns(target) then return target:host() end
  return target
end

-- "h1" or "h1.ns1": where a request goes.
local function where(target)
  return rawget(target, "name")
end

-- "h1.eth0" for a device (or born spec), nil for anything else.
local function short(v)
  if is_spec(v) then v = born(v) end
  if not device().is_device(v) then return nil end
  local h = rawget(v, "host")
  local d = h._devs[rawget(v, "ifindex")]
  return string.format("%s.%s", where(h), d and d.name or "?")
end

-- A parameter value as the wire carries it: devices (and born specs) become
-- ifindexes; they must be devices of the target itself.
local function wire_value(target, key, v, dname, level)
  if is_spec(v) then
    if not born(v) then
      error(string.format("host %s: cannot create %s: parameter '%s' is lnst.device.%s, which is not created yet "
        .. "(assign it to a host first)", where(target), dname, key, describe(v)), level)
    end
    v = born(v)
  end
  if device().is_device(v) then
    local h = rawget(v, "host")
    if h ~= target then
      error(string.format("host %s: cannot create %s: parameter '%s' is %s, a device of %s (a device can only "
        .. "refer to devices of its own host and namespace)", where(target), dname, key, short(v),
        where(h)), level)
    end
    return v.ifindex
  end
  return v
end

local function params_text(p)
  local keys = {}
  for k in pairs(p) do
    if k ~= "kind" and k ~= "name" then keys[#keys + 1] = k end
  end
  table.sort(keys)
  local out = {}
  for _, k in ipairs(keys) do
    local v = p[k]
    if type(v) == "table" then v = short(v) or "{...}" end
    out[#out + 1] = k .. "=" .. tostring(v)
  end
  return table.concat(out, " ")
end

-- link.create on target (a host or namespace): returns the agent's reply
-- (the device, with .peer for veth). Recorded; errors raise at level.
local function create(target, key, kind, params, level)
  local dname = string.format("device %s(%s)", key and ("'" .. key .. "' ") or "", kind)
  local wire = {}
  for k, v in pairs(params) do wire[k] = wire_value(target, k, v, dname, level + 1) end
  wire.kind = kind
  local ok, res, msg = target:call_raw("link.create", wire)
  local shown = ok and res.name or params.name
  local ptext = params_text(params)
  local what = string.format("create %s%s%s%s", kind, shown and (" " .. shown) or "",
    key and key ~= shown and (" as " .. key) or "", ptext ~= "" and (" " .. ptext) or "")
  target:record {
    type = "device_config", action = "link.create", host = where(target), dev = shown or key,
    result = ok and "PASS" or "FAIL", level = 2,
    description = string.format("%s: %s%s", where(target), what, ok and "" or (" failed: " .. tostring(msg))),
  }
  if not ok then
    error(string.format("host %s: cannot create %s: %s (%s)", where(target), dname, msg, res), level)
  end
  -- the devices came in their dev.created events before the reply
  if target.checkpoint then target:checkpoint() end
  return res
end

local function check_key(target, key, level)
  if type(key) ~= "string" or key == "" then
    error(string.format("host %s: a device needs a name to be assigned to, got %s", where(target), tostring(key)),
      level)
  end
  local nics = rawget(target, "nics")
  if (nics and nics[key]) or target[key] ~= nil then
    error(string.format("host %s: cannot assign a device to '%s': it already has a field of that name",
      where(target), key), level)
  end
end

-- Names a device of target as target.key (lnst.netns_obj keeps the table).
local function name_it(dev, target, key, level)
  netns_obj().move(dev, target, key, level + 1)
end

-- host.KEY = spec (or namespace.KEY = spec).
function Spec.__lnst_assign(s, target, key)
  -- Errors point at the recipe's assignment: 3 levels up from here (this,
  -- Host.__newindex, the recipe); the helpers called from here get 4.
  local level = 3
  local dev = born(s)
  if dev then
    -- born already (a veth peer): move it here, or just name it
    name_it(dev, target, key, level + 1)
    return
  end
  check_key(target, key, level + 1)
  local pair = rawget(s, "_pair")
  local kind = rawget(s, "_kind")
  if not pair then
    local res = create(target, key, kind, rawget(s, "_params"), level + 1)
    dev = device().proxy(target, res.ifindex)
    rawset(s, "_dev", dev)
    if res.peer then rawset(s, "_peer", device().proxy(target, res.peer.ifindex)) end
    name_it(dev, target, key, level + 1)
    return
  end
  -- One end of a veth pair: the pair is made on the host, then this end
  -- moves into the namespace when the target is one.
  local host = root_of(target)
  local res = create(host, nil, "veth", pair.params, level + 1)
  local a, b = device().proxy(host, res.ifindex), device().proxy(host, res.peer.ifindex)
  rawset(pair.a, "_dev", a)
  rawset(pair.a, "_peer", b)
  rawset(pair.b, "_dev", b)
  rawset(pair.b, "_peer", a)
  dev = born(s)
  local ok, err = pcall(name_it, dev, target, key, 1)
  if not ok then
    -- roll back: the pair goes again (both ends)
    host:call_raw("link.del", { ifindex = a.ifindex })
    rawset(pair.a, "_dev", nil)
    rawset(pair.b, "_dev", nil)
    error(tostring(err) .. " (the veth pair was deleted again)", level)
  end
end

-- ---- factories --------------------------------------------------------------------

M.factories = {}
for factory, kind in pairs(M.KINDS) do
  M.factories[factory] = function(opts)
    return new_spec(kind, copy_params(factory, opts, 3))
  end
end

-- local a, b = lnst.device.veth_pair { name = "va", peer_name = "vb", ... }:
-- two specs; assigning either one creates the pair.
function M.factories.veth_pair(opts)
  local p = copy_params("veth_pair", opts, 3)
  local pair = { params = p }
  local a = new_spec("veth", p)
  local b = new_spec("veth", { name = p.peer_name })
  rawset(a, "_pair", pair)
  rawset(b, "_pair", pair)
  pair.a, pair.b = a, b
  return a, b
end

-- ---- device methods -----------------------------------------------------------------

-- The device behind a spec or proxy, or an error at level.
local function as_device(x, what, level)
  if is_spec(x) then
    if not born(x) then
      error(string.format("%s: lnst.device.%s is not created yet (assign it to a host first)", what,
        describe(x)), level)
    end
    return born(x)
  end
  if not device().is_device(x) then
    error(string.format("%s: expected a device, got %s", what, tostring(x)), level)
  end
  return x
end

-- dev.master = m (nil: released). level: where errors point, from here.
function M.set_master(dev, master, level)
  local host = rawget(dev, "host")
  local mi = 0
  if master ~= nil then
    master = as_device(master, string.format("%s: master", short(dev)), level + 1)
    local mh = rawget(master, "host")
    if mh ~= host then
      error(string.format("host %s, device %s: cannot set master %s: it is a device of %s, and a master "
        .. "must be on the same host and in the same namespace", where(root_of(host)), dev.name,
        short(master), where(mh)), level)
    end
    mi = master.ifindex
  end
  local what = master and ("master = " .. master.name) or "master = none"
  dev:_op("link.set_master", what, { master = mi }, level + 1)
end

local methods = {}

-- br:slave_add(dev): dev.master = br.
function methods:slave_add(dev)
  dev = as_device(dev, short(self) .. ":slave_add", 3)
  M.set_master(dev, self, 3)
  return self
end

-- br:slave_del(dev): releases dev, which must be a slave of br.
function methods:slave_del(dev)
  dev = as_device(dev, short(self) .. ":slave_del", 3)
  local m = dev.master
  if m == nil or m ~= self then
    error(string.format("%s:slave_del: %s is not a slave of it", short(self), short(dev)), 2)
  end
  M.set_master(dev, nil, 3)
  return self
end

-- The slaves of a master, from the device table (no request).
function methods:slaves()
  local host, out = rawget(self, "host"), {}
  for _, dev in ipairs(host:devices()) do
    local d = host._devs[dev.ifindex]
    if d and d.master == self.ifindex then out[#out + 1] = dev end
  end
  return out
end

local function opts_table(name, opts, known)
  if opts == nil then return {} end
  if type(opts) ~= "table" then error(string.format("%s: options must be a table", name), 3) end
  for k in pairs(opts) do
    if not known[k] then
      local names = {}
      for n in pairs(known) do names[#names + 1] = n end
      table.sort(names)
      error(string.format("%s: unknown option '%s' (known: %s)", name, tostring(k), table.concat(names, ", ")), 3)
    end
  end
  return opts
end

-- dev:vlan_add(vid, { pvid = true, untagged = true, self = false })
function methods:vlan_add(vid, opts)
  opts = opts_table("vlan_add", opts, { pvid = true, untagged = true, self = true })
  self:_op("bridge.vlan_add", "vlan_add " .. tostring(vid),
    { vid = vid, pvid = opts.pvid, untagged = opts.untagged, self = opts.self })
  return self
end

function methods:vlan_del(vid, opts)
  opts = opts_table("vlan_del", opts, { self = true })
  self:_op("bridge.vlan_del", "vlan_del " .. tostring(vid), { vid = vid, self = opts.self })
  return self
end

-- { { vid = 1, pvid = true, untagged = true }, ... }: a request, not recorded.
function methods:vlans()
  return rawget(self, "host"):call("bridge.vlan_list", { ifindex = self.ifindex })
end

local FDB_OPTS = { vlan = true, self = true, master = true, state = true, dst = true }

-- dev:fdb_add("02:00:00:00:00:05", { vlan = 10, state = "static" | "permanent" | "dynamic",
-- self = bool, master = bool, dst = "203.0.113.2", append = bool })
function methods:fdb_add(mac, opts)
  opts = opts_table("fdb_add", opts, { vlan = true, self = true, master = true, state = true, dst = true,
    append = true })
  local p = { hwaddr = mac }
  for k, v in pairs(opts) do p[k] = v end
  self:_op("bridge.fdb_add", "fdb_add " .. tostring(mac), p)
  return self
end

function methods:fdb_del(mac, opts)
  opts = opts_table("fdb_del", opts, FDB_OPTS)
  local p = { hwaddr = mac }
  for k, v in pairs(opts) do p[k] = v end
  self:_op("bridge.fdb_del", "fdb_del " .. tostring(mac), p)
  return self
end

function methods:fdb()
  return rawget(self, "host"):call("bridge.fdb_list", { ifindex = self.ifindex })
end

-- port:bridge_port_set { learning = false, flood = false, ... } (iproute2's names)
function methods:bridge_port_set(flags)
  if type(flags) ~= "table" or next(flags) == nil then
    error("bridge_port_set: give a table of flags, like { learning = false, flood = false }", 2)
  end
  local keys = {}
  for k, v in pairs(flags) do keys[#keys + 1] = k .. "=" .. tostring(v) end
  table.sort(keys)
  local p = {}
  for k, v in pairs(flags) do p[k] = v end
  self:_op("bridge.port_set", "bridge_port_set " .. table.concat(keys, " "), p)
  return self
end

-- The bridge port flags now (a request, not recorded).
function methods:bridge_port()
  return rawget(self, "host"):call("bridge.port_get", { ifindex = self.ifindex })
end

-- Deletes a device the run created (a veth takes its peer along).
function methods:delete()
  self:_op("link.del", "delete")
  return self
end

-- Installs the factories into lnst.device and the methods into its
-- device proxies.
function M.extend(device_module, Device)
  for k, f in pairs(M.factories) do device_module[k] = f end
  device_module.KINDS = M.KINDS -- factory name -> kind (capabilities.kinds)
  for k, f in pairs(methods) do Device[k] = f end
end

-- ---- host methods ---------------------------------------------------------------------

M.host_methods = {}

-- Whether the host's kernel accepts a device kind (hello capabilities).
function M.host_methods:has_kind(kind)
  for _, k in ipairs(self.capabilities.kinds or {}) do
    if k == kind then return true end
  end
  return false
end

-- host:l2tp_tunnel_add { tunnel_id =, peer_tunnel_id =, encap = "udp" | "ip",
-- local =, remote =, udp_sport =, udp_dport = }: the tunnel L2TP sessions
-- (lnst.device.l2tp_session) belong to; deleted at the end of the run.
function M.host_methods:l2tp_tunnel_add(params)
  if type(params) ~= "table" then error("l2tp_tunnel_add: give a table of parameters", 2) end
  local ok, res, msg = self:call_raw("l2tp.tunnel_add", params)
  local what = "l2tp_tunnel_add " .. tostring(params.tunnel_id)
  self:record { type = "device_config", action = "l2tp.tunnel_add", host = self.name,
    result = ok and "PASS" or "FAIL", level = 2,
    description = string.format("%s: %s%s", self.name, what, ok and "" or (" failed: " .. tostring(msg))) }
  if not ok then error(string.format("host %s: %s failed: %s (%s)", self.name, what, msg, res), 2) end
  return res
end

return M
