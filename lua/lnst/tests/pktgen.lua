-- pktgen: LNST's PktgenController, run on the agent (docs/test-modules.md).
-- Drives the kernel's packet generator through /proc/net/pktgen in the
-- agent's network namespace: one pktgen device ("<ifname>@<cpu>") per
-- entry of `config`, each on the pktgen thread of its CPU (kpktgend_<cpu>),
-- configured with upstream's commands (flags, count, pkt_size, dst_mac,
-- [src_mac], dst/src addresses, UDP ports, [vlan_id], [ratep], burst), then
-- started for the longest entry's duration and sampled once a second.
-- Result: { devices = { { name, cpu, samples = { { timestamp, duration,
-- packets, errors }, ... }, summary = pktgen's "Result:" text }, ... },
-- notes = {...} }: packets sent in each interval. The pktgen devices are
-- always removed (rem_device_all on their threads, reset), on success, on
-- error and on SIGINT/SIGTERM; the controller resets pktgen again when the
-- module was killed (lnst.enrt.xdp). Skips when the kernel has no pktgen
-- (after trying `modprobe pktgen`).
local M = {}

M.DIR = "/proc/net/pktgen"

-- ---------------------------------------------------------------- parsing

-- One device file's text -> { sofar, errors, result = "Result:" text,
-- running = bool } or nil, why.
function M.parse_device(text)
  local cur = text:match("Current:(.-)Result:")
  if not cur then return nil, "no 'Current:' ... 'Result:' sections in pktgen's device file" end
  local sofar = cur:match("pkts%-sofar:%s*(%d+)")
  local errors = cur:match("errors:%s*(%d+)")
  if not sofar or not errors then return nil, "no 'pkts-sofar:' and 'errors:' in pktgen's device file" end
  local result = text:match("Result:%s*(.-)%s*$") or ""
  return { sofar = tonumber(sofar), errors = tonumber(errors), result = (result:gsub("%s+", " ")) }
end

-- Samples read at times t[0..n] -> per-interval samples: packets sent and
-- errors counted in each interval, timestamped at its start.
function M.intervals(raw)
  local out = {}
  for i = 2, #raw do
    local a, b = raw[i - 1], raw[i]
    out[#out + 1] = { timestamp = a.time, duration = b.time - a.time, packets = b.sofar - a.sofar,
      errors = b.errors - a.errors }
  end
  return out
end

-- The commands that configure one device (upstream's PktgenDevice.configure).
function M.commands(d)
  local c = {}
  local function add(s) c[#c + 1] = s end
  for _, f in ipairs(d.flags or { "NO_TIMESTAMP", "QUEUE_MAP_CPU" }) do add("flag " .. f) end
  add("count " .. (d.count or 0))
  add("pkt_size " .. (d.pkt_size or 60))
  add("dst_mac " .. d.dst_mac)
  if d.src_mac then add("src_mac " .. d.src_mac) end
  if d.dst_ip:find(":", 1, true) then
    add("dst6 " .. d.dst_ip)
    add("src6 " .. d.src_ip)
  else
    add("dst_min " .. d.dst_ip)
    add("dst_max " .. d.dst_ip)
    add("src_min " .. d.src_ip)
    add("src_max " .. d.src_ip)
  end
  local sp, dp = d.src_port or 9, d.dst_port or 9
  add("udp_src_min " .. sp)
  add("udp_src_max " .. sp)
  add("udp_dst_min " .. dp)
  add("udp_dst_max " .. dp)
  if (d.vlan_id or 0) > 0 then add("vlan_id " .. d.vlan_id) end
  if (d.ratep or -1) > 0 then add("ratep " .. d.ratep) end
  add("burst " .. (d.burst or 8))
  return c
end

function M.device_name(d) return d.src_if .. "@" .. d.cpu end

-- ---------------------------------------------------------------- /proc

local function write(path, cmd)
  local f, err = io.open(path, "w")
  if not f then return nil, err end
  f:setvbuf("no")
  local ok, werr = f:write(cmd .. "\n")
  f:close()
  if not ok then return nil, string.format("%s: %s", path, tostring(werr)) end
  return true
end

local function exists(path)
  local f = io.open(path, "r")
  if f then f:close() end
  return f ~= nil
end

-- Loads pktgen when /proc/net/pktgen is absent: `modprobe pktgen`, or the
-- kernel's own module helper (/proc/sys/kernel/modprobe) when modprobe is
-- not on PATH. Returns nil or why it is still missing.
local function load(api)
  if exists(M.DIR .. "/pgctrl") then return nil end
  local tried = {}
  local helper = (api.read_file("/proc/sys/kernel/modprobe") or ""):match("^%s*(%S+)")
  local progs = {}
  progs[#progs + 1] = api.which("modprobe")
  if helper and helper ~= "" then progs[#progs + 1] = helper end
  for _, prog in ipairs(progs) do
    local r, why = api.run({ prog, "-q", "--", "pktgen" }, { timeout = 30 })
    local msg = r and (r.stderr:match("[^\n]+") or ("exit code " .. tostring(r.exit_code))) or why
    if exists(M.DIR .. "/pgctrl") then return nil end
    tried[#tried + 1] = string.format("'%s -q -- pktgen': %s", prog, msg)
  end
  if #tried == 0 then tried[1] = "no modprobe on PATH and no kernel module helper" end
  return string.format("the kernel of host %s has no pktgen (%s/pgctrl is absent; %s)", api.host, M.DIR,
    table.concat(tried, "; "))
end

function M.run(p, api)
  local why = load(api)
  if why then return api.skip(why) end
  local config = p.config
  local duration = 0
  for _, d in ipairs(config) do duration = math.max(duration, d.duration or 60) end
  local threads, devices, notes = {}, {}, {}
  local function thread_file(cpu) return string.format("%s/kpktgend_%d", M.DIR, cpu) end
  local function cleanup()
    for cpu in pairs(threads) do write(thread_file(cpu), "rem_device_all") end
    write(M.DIR .. "/pgctrl", "reset")
  end
  local function setup()
    assert(write(M.DIR .. "/pgctrl", "reset"))
    for _, d in ipairs(config) do
      if not exists(thread_file(d.cpu)) then
        error(string.format("host %s: no pktgen thread for CPU %d (%s is absent)", api.host, d.cpu,
          thread_file(d.cpu)), 0)
      end
      local name = M.device_name(d)
      threads[d.cpu] = true
      local ok, err = write(thread_file(d.cpu), "add_device " .. name)
      if not ok then error(string.format("host %s: add_device %s: %s", api.host, name, err), 0) end
      local path = M.DIR .. "/" .. name
      for _, cmd in ipairs(M.commands(d)) do
        ok, err = write(path, cmd)
        if not ok and cmd:match("^burst") and (d.burst or 8) > 1 then
          -- drivers without IFF_TX_SKB_SHARING (veth) refuse bursts
          local e = tostring(err):gsub("Unknown error 524", "ENOTSUPP: the driver cannot send shared skbs "
            .. "(no IFF_TX_SKB_SHARING, as veth)")
          notes[#notes + 1] = string.format("%s: the kernel refused '%s' (%s): sending with burst 1", name, cmd, e)
          ok, err = write(path, "burst 1")
        end
        if not ok then error(string.format("host %s: pktgen %s '%s': %s", api.host, name, cmd, err), 0) end
      end
      devices[#devices + 1] = { name = name, cpu = d.cpu, path = path, raw = {} }
    end
  end
  local function sample()
    local t = api.time()
    for _, dev in ipairs(devices) do
      local text, rerr = api.read_file(dev.path)
      if not text then error(string.format("host %s: %s", api.host, rerr), 0) end
      local s, perr = M.parse_device(text)
      if not s then error(string.format("host %s: %s: %s", api.host, dev.path, perr), 0) end
      s.time = t
      dev.raw[#dev.raw + 1] = s
    end
  end
  local starter
  local ok, err = pcall(function()
    setup()
    sample()
    -- writing "start" blocks until the generators stop: another process does it
    local serr
    starter, serr = api.spawn({ "sh", "-c", "echo start > " .. M.DIR .. "/pgctrl" })
    if not starter then error("cannot start pktgen: " .. tostring(serr), 0) end
    local t0 = api.monotonic()
    for i = 1, duration do
      local stopped = api.sleep(t0 + i - api.monotonic())
      if stopped or not starter:running() then
        sample()
        break
      end
      sample()
    end
  end)
  if starter then
    local endless = true
    for _, d in ipairs(config) do endless = endless and (d.count or 0) == 0 end
    local early = endless and not starter:running() and not api.stop_requested()
    write(M.DIR .. "/pgctrl", "stop")
    local res = starter:wait(5)
    if not res then
      starter:kill("KILL")
      res = starter:wait(5)
    end
    if ok and early then
      local serr = res and res.stderr:match("[^\n]+")
      ok, err = false, string.format("host %s: pktgen stopped before its %d s were over%s", api.host, duration,
        serr and (": " .. serr) or "")
    end
  end
  local out = { devices = {}, notes = notes, duration = duration }
  for i, dev in ipairs(devices) do
    local last = dev.raw[#dev.raw]
    local final = api.read_file(dev.path)
    local fs = final and M.parse_device(final)
    out.devices[i] = { name = dev.name, cpu = dev.cpu, samples = M.intervals(dev.raw),
      summary = fs and fs.result or (last and last.result) }
  end
  cleanup()
  if not ok then
    out.msg = tostring(err)
    return out, false
  end
  return out, true
end

return M
