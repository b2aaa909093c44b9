-- lnst.device: proxies of network devices on a host.
-- A proxy holds (host, ifindex); everything it reads comes from the host's
-- device table, which the agent keeps current with events, so reading
-- dev.state, dev.ips or dev.mtu costs no round trip. Methods and assignments
-- (dev.mtu = 1400) become requests; each is recorded as a result of the run.
local core = require "lnst.core"
local links = require "lnst.links"
local netcfg = require "lnst.netcfg"

local M = {}

local Device = {}

local FIELDS = {
  ifindex = true, name = true, kind = true, hwaddr = true, mtu = true, flags = true,
  carrier = true, operstate = true, enabled = true, stats = true,
}

local function data(dev)
  local d = rawget(dev, "host")._devs[rawget(dev, "ifindex")]
  if not d then
    error(string.format("device %s on host %s no longer exists",
      rawget(dev, "last_name") or "?", rawget(dev, "host").name), 3)
  end
  rawset(dev, "last_name", d.name)
  return d
end

local getters = {
  state = function(d) return d.up and "up" or "down" end,
  driver = function(d)
    if d.driver and d.driver ~= "" then return d.driver end -- from ethtool
    return d.kind ~= "" and d.kind or nil
  end,
  ips = function(d)
    local out = {}
    for _, ip in ipairs(d.ips or {}) do out[#out + 1] = ip.addr .. "/" .. ip.prefixlen end
    return out
  end,
  master = function(d, dev)
    if not d.master or d.master == 0 then return nil end
    return rawget(dev, "host"):device(d.master)
  end,
}

function Device.__index(dev, k)
  local m = Device[k]
  if m ~= nil and k:sub(1, 2) ~= "__" then return m end
  if FIELDS[k] then return data(dev)[k] end
  local g = getters[k]
  if g then return g(data(dev), dev) end
  if k == "host" then return rawget(dev, "host") end
  local x = netcfg.get[k] -- ethtool settings (lnst.netcfg): one request each
  if x then
    local v = x(dev)
    return v
  end
  return nil
end

-- "host1.eth0": how errors name a device.
local function label(dev)
  local d = rawget(dev, "host")._devs[rawget(dev, "ifindex")]
  return string.format("%s.%s", rawget(dev, "host").name, d and d.name or rawget(dev, "last_name") or "?")
end

local SETTABLE = { mtu = true, hwaddr = true, name = true }

function Device.__newindex(dev, k, v)
  local x = netcfg.set[k] -- ethtool settings (lnst.netcfg)
  if x then
    x(dev, v)
    return
  end
  if k == "master" then -- a device, or nil to release (lnst.links)
    links.set_master(dev, v, 3)
    return
  end
  if not SETTABLE[k] then
    error(string.format("%s: cannot set '%s' (settable: hwaddr, master, mtu, name, offloads, coalescing, " ..
      "pause, rings, channels, link_settings)", label(dev), k), 2)
  end
  dev:_op("dev.set", k .. " = " .. tostring(v), { [k] = v }, 3)
end

-- <device host1.eth0: veth up carrier 198.51.100.1/24 master br0>
function Device.__tostring(dev)
  local d = rawget(dev, "host")._devs[rawget(dev, "ifindex")]
  if not d then return "<device " .. label(dev) .. ": deleted>" end
  local parts = { d.kind ~= "" and d.kind or "device", d.up and "up" or "down" }
  if d.carrier then parts[#parts + 1] = "carrier" end
  for _, a in ipairs(getters.ips(d)) do parts[#parts + 1] = a end
  if d.master and d.master ~= 0 then
    local m = rawget(dev, "host")._devs[d.master]
    parts[#parts + 1] = "master " .. (m and m.name or tostring(d.master))
  end
  return string.format("<device %s: %s>", label(dev), table.concat(parts, " "))
end

-- Tab completion in the REPL: fields after '.', methods after ':'.
function Device.__complete(_, methods)
  local out = {}
  if methods then
    for k, v in pairs(Device) do
      if type(v) == "function" and not k:find("^_") then out[#out + 1] = k end
    end
  else
    for k in pairs(FIELDS) do out[#out + 1] = k end
    for k in pairs(getters) do out[#out + 1] = k end
  end
  return out
end

function Device.__eq(a, b)
  return rawget(a, "host") == rawget(b, "host") and rawget(a, "ifindex") == rawget(b, "ifindex")
end

-- One request for this device, recorded as a device_config result; a
-- failure is recorded as FAIL and raised at the recipe's line (level).
function Device:_op(method, what, params, level)
  local host = rawget(self, "host")
  local d = data(self)
  params = params or {}
  params.ifindex = d.ifindex
  local ok, code, msg = host:call_raw(method, params)
  local desc = string.format("%s.%s: %s", host.name, d.name, what)
  host:record {
    type = "device_config", action = method, host = host.name, dev = d.name,
    result = ok and "PASS" or "FAIL",
    description = ok and desc or (desc .. " failed: " .. msg),
    level = 2,
  }
  if not ok then
    error(string.format("host %s, device %s: %s failed: %s (%s)", host.name, d.name, what, msg, code),
      level or 3)
  end
  host:checkpoint()
  return self
end

function Device:ip_add(addr, opts)
  if type(addr) ~= "string" then error("ip_add: address must be a string like '198.51.100.1/24'", 2) end
  self:_op("dev.ip_add", "ip_add " .. addr, { addr = addr, nodad = opts and opts.nodad or nil })
  return self
end

function Device:ip_del(addr)
  if type(addr) ~= "string" then error("ip_del: address must be a string", 2) end
  self:_op("dev.ip_del", "ip_del " .. addr, { addr = addr })
  return self
end

-- Removes global addresses ({all = true}: every address).
function Device:ip_flush(opts)
  self:_op("dev.ip_flush", "ip_flush", { all = opts and opts.all or nil })
  return self
end

function Device:up() self:_op("dev.up", "up"); return self end
function Device:down() self:_op("dev.down", "down"); return self end

-- Sets the link up and waits (default 18 s, as LNST) until it has carrier.
function Device:up_and_wait(timeout)
  self:_op("dev.up", "up")
  local deadline = core.now() + (timeout or 18)
  while not data(self).carrier do
    if core.now() > deadline then
      error(string.format("%s: no carrier within %g s of going up", label(self), timeout or 18), 2)
    end
    core.poll(0.05)
  end
  return self
end

-- A plain table describing the device now.
function Device:info()
  local d, out = data(self), {}
  for k, v in pairs(d) do out[k] = v end
  out.ips = getters.ips(d)
  return out
end

-- Routes, neighbours and ethtool methods (lnst.netcfg).
for k, f in pairs(netcfg.device) do Device[k] = f end

-- Soft device factories (lnst.device.bridge{...}), master/slave and bridge
-- methods (lnst.links).
links.extend(M, Device)

-- host.KEY = device: moves it to that host or namespace (lnst.netns_obj).
function Device.__lnst_assign(dev, target, key)
  require("lnst.netns_obj").move(dev, target, key, 4)
end

-- One proxy per device and namespace, so that a move can re-key it.
local function registry(host)
  local reg = rawget(host, "_proxies")
  if not reg then
    reg = setmetatable({}, { __mode = "v" })
    rawset(host, "_proxies", reg)
  end
  return reg
end

function M.proxy(host, ifindex)
  local reg = registry(host)
  local p = reg[ifindex]
  if not p then
    p = setmetatable({ host = host, ifindex = ifindex }, Device)
    reg[ifindex] = p
  end
  return p
end

-- A device moved from (host, ifindex) to (to, new_ifindex): its proxy (or
-- the one given) follows it.
function M.rekey(host, ifindex, to, new_ifindex, proxy)
  local reg = registry(host)
  local p = reg[ifindex] or proxy
  if not p then return end
  reg[ifindex] = nil
  rawset(p, "host", to)
  rawset(p, "ifindex", new_ifindex)
  registry(to)[new_ifindex] = p
end

-- The device left this host: a later device with its ifindex gets a new proxy.
function M.forget(host, ifindex)
  registry(host)[ifindex] = nil
end

function M.is_device(x)
  return getmetatable(x) == Device
end

return M
