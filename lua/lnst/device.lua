-- lnst.device: proxies of network devices on a host.
-- A proxy holds (host, ifindex); everything it reads comes from the host's
-- device table, which the agent keeps current with events, so reading
-- dev.state, dev.ips or dev.mtu costs no round trip. Methods and assignments
-- (dev.mtu = 1400) become requests; each is recorded as a result of the run.
local core = require "lnst.core"

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
  driver = function(d) return d.kind ~= "" and d.kind or nil end,
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
  return nil
end

-- "host1.eth0": how errors name a device.
local function label(dev)
  local d = rawget(dev, "host")._devs[rawget(dev, "ifindex")]
  return string.format("%s.%s", rawget(dev, "host").name, d and d.name or rawget(dev, "last_name") or "?")
end

local SETTABLE = { mtu = true, hwaddr = true, name = true }

function Device.__newindex(dev, k, v)
  if not SETTABLE[k] then
    error(string.format("%s: cannot set '%s' (settable: hwaddr, mtu, name)", label(dev), k), 2)
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

function M.proxy(host, ifindex)
  return setmetatable({ host = host, ifindex = ifindex }, Device)
end

function M.is_device(x)
  return getmetatable(x) == Device
end

return M
