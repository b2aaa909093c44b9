-- lnst.enrt.mixins.hw: LNST's CommonHWSubConfigMixin (pause frames,
-- parallel-stream qdisc, device interrupts, coalescing, MTU) plus the ring
-- and channel (DevRing/DevQueues) mixins. Applied at every
-- sub-configuration on cfg.hw_devs (default cfg.devs), restored at its
-- removal. A mixin acts only when its parameter is set. What a driver does
-- not support (veth: coalescing, pause, rings; no IRQs) is reported as a
-- WARNING with the reason, never silently passed over.
local p = require "lnst.param"
local results = require "lnst.results"

local M = {}

local function enrt() return require "lnst.enrt" end
local function devs(cfg) return cfg.hw_devs or cfg.devs end
local function key(dev) return enrt().dev_key(dev) end

local function unsupported(err)
  local s = tostring(err)
  return s:find("EOPNOTSUPP", 1, true) or s:find("not supported", 1, true)
end

-- Sets dev[field] (an ethtool group) to values, remembering the old ones;
-- an unsupported group gives a WARNING.
local function set_group(r, cfg, dev, field, values, what)
  local ok, old = pcall(function() return dev[field] end)
  if ok then ok, old = pcall(function() dev[field] = values; return old end) end
  if not ok then
    if not unsupported(old) then error(old, 0) end
    r:add_result(results.WARNING, string.format("%s on %s skipped: %s", what, key(dev), tostring(old)))
    return
  end
  local keep = {}
  for k in pairs(values) do keep[k] = old[k] end
  cfg._hw_restore = cfg._hw_restore or {}
  table.insert(cfg._hw_restore, function() dev[field] = keep end)
end

-- {host = {dev = settings}} -> settings for dev (by host name and device name).
local function per_dev(tbl, dev)
  local h = tbl and tbl[enrt().root(dev.host).name]
  return h and h[dev.name]
end

local function apply(r, cfg)
  local P = r.params
  cfg._hw_restore = {}
  for _, dev in ipairs(devs(cfg)) do
    if P.mtu then
      local old = dev.mtu
      dev.mtu = P.mtu
      table.insert(cfg._hw_restore, function() dev.mtu = old end)
    end
    if P.rx_pause_frames ~= nil or P.tx_pause_frames ~= nil then
      set_group(r, cfg, dev, "pause", { rx = P.rx_pause_frames, tx = P.tx_pause_frames }, "pause frames")
    end
    local co = per_dev(P.coalescing_settings, dev)
    if co then set_group(r, cfg, dev, "coalescing", co, "coalescing") end
    local ring = per_dev(P.dev_ring_config, dev)
    if ring then set_group(r, cfg, dev, "rings", ring, "ring sizes") end
    local q = per_dev(P.dev_queues, dev)
    if q then set_group(r, cfg, dev, "channels", q, "channels") end
    if P.perf_parallel_streams and P.perf_parallel_streams > 1 then
      local ok, _, why = enrt().probe(dev.host, "tc qdisc replace dev " .. dev.name .. " root mq",
        "tc qdisc replace dev " .. dev.name .. " root mq")
      if ok then
        table.insert(cfg._hw_restore, function()
          dev.host:run({ "tc", "qdisc", "del", "dev", dev.name, "root" }, { level = results.NORMAL })
        end)
      else
        r:add_result(results.WARNING, string.format("parallel-stream qdisc mq on %s skipped: %s", key(dev),
          tostring(why)))
      end
    end
    if P.dev_intr_cpu then
      -- device interrupts: the IRQs named after the device in /proc/interrupts
      local found, out = enrt().probe(dev.host, "grep -E '[[:space:]]" .. dev.name .. "(-|$)' /proc/interrupts",
        "IRQs of " .. dev.name)
      if not found then
        r:add_result(results.WARNING, string.format("device interrupt pinning on %s skipped: driver %s exposes "
          .. "no IRQs in /proc/interrupts", key(dev), tostring(dev.driver)))
      else
        local cpus = table.concat(P.dev_intr_cpu, ",")
        for irq in out:gmatch("%s*(%d+):[^\n]*") do
          local path = "/proc/irq/" .. irq .. "/smp_affinity_list"
          local old = dev.host:run({ "cat", path }, { level = results.DEBUG }).stdout:match("[^\n]+")
          dev.host:run({ "sh", "-c", "echo " .. cpus .. " > " .. path }, { level = results.NORMAL })
          table.insert(cfg._hw_restore, function()
            dev.host:run({ "sh", "-c", "echo " .. old .. " > " .. path }, { level = results.NORMAL })
          end)
        end
      end
    end
  end
end

local function remove(_, cfg)
  local fns = cfg._hw_restore or {}
  cfg._hw_restore = nil
  local first
  for k = #fns, 1, -1 do
    local ok, err = pcall(fns[k])
    if not ok then first = first or err end
  end
  if first then error(first, 0) end
end

local function describe_sub(r, cfg)
  local P, out = r.params, {}
  if P.mtu then out[#out + 1] = "mtu " .. P.mtu end
  if P.rx_pause_frames ~= nil or P.tx_pause_frames ~= nil then out[#out + 1] = "pause frames" end
  if P.coalescing_settings and next(P.coalescing_settings) then out[#out + 1] = "coalescing" end
  if P.perf_parallel_streams and P.perf_parallel_streams > 1 then out[#out + 1] = "root qdisc mq" end
  if P.dev_intr_cpu then out[#out + 1] = "IRQs on CPUs " .. table.concat(P.dev_intr_cpu, ",") end
  if #out == 0 then return nil end
  local names = {}
  for _, d in ipairs(devs(cfg)) do names[#names + 1] = key(d) end
  return "hw config on " .. table.concat(names, ", ") .. ": " .. table.concat(out, ", ")
end

local HW_PARAMS = {
  mtu = p.int { min = 68, max = 65535, doc = "MTU of the test devices" },
  rx_pause_frames = p.bool { doc = "ethtool -A rx" },
  tx_pause_frames = p.bool { doc = "ethtool -A tx" },
  coalescing_settings = p.dict { default = {}, doc = "{host = {dev = {ethtool -C keys}}}" },
  dev_intr_cpu = p.list { of = p.int { min = 0 }, doc = "CPUs for the test devices' IRQs" },
  dev_ring_config = p.dict { doc = "{host = {dev = {rx =, tx =}}}: ethtool -G" },
  dev_queues = p.dict { doc = "{host = {dev = {combined =, rx =, tx =}}}: ethtool -L" },
}

M.common_hw = { params = HW_PARAMS, apply_sub = apply, remove_sub = remove, describe = describe_sub }
M.mtu = { params = { mtu = HW_PARAMS.mtu }, apply_sub = apply, remove_sub = remove, describe = describe_sub }

return M
