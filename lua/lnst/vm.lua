-- lnst.vm: the `vm` provisioner (lnst run --vm; docs/vm.md).
-- The recipe's hosts run inside one qemu guest booted with the kernel under
-- test (Debian's stock kernel with kernel = "auto", or a user's own build).
-- The guest sees the host's root read-only over 9p, so it runs this very
-- lnst-agent; inside it, every recipe host is a namespace host made exactly
-- as the netns provisioner makes them (lnst-vmguest uses spawn.c and
-- fabric.c), wired by a fabric namespace with a bridge per network. The
-- guest has no network device: all agents and the guest's control talk over
-- one virtio-serial port, multiplexed (vmmux.h), each agent on its own
-- channel, which the controller sees as an ordinary agent connection.
--
-- Lifetimes: qemu dies with the controller (PR_SET_PDEATHSIG); a guest that
-- panics, powers off or stops sending its heartbeat (vm_hang_timeout) ends
-- every connection, and the errors say why and where the console log is.
-- With vm_keep the guest stays up after cleanup, for the next run of the
-- same controller (a script running several recipes boots once); it stops
-- when the process exits or with M.stop_kept().
local core = require "lnst.core"
local vm_core = require "lnst.vm_core"
local host = require "lnst.host"
local util = require "lnst.util"
local vmkernel = require "lnst.vmkernel"

local M = {}

-- Controller options of this provisioner, with their defaults.
M.DEFAULTS = {
  kernel = "auto", modules = false, vm_memory = 512, vm_smp = 2, vm_accel = "auto", vm_dir = false,
  vm_keep = false, vm_append = "", vm_boot_timeout = 120, vm_hang_timeout = 30, qemu = "qemu-system-x86_64",
}
M.KVM_BOOT_TIMEOUT = 20 -- a working KVM boots in a second or two

local started = 0 -- guests started by this process (their names count up)
local kept = {}   -- config key -> a guest left running by vm_keep

local function q(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- ---------------------------------------------------------------- guests

local Guest = {}
Guest.__index = Guest

-- Appends why the guest is gone, if it is, to an error message, or else
-- how the agent with guest pid `pid` ended, if it did.
function Guest:annotate(err, pid)
  err = tostring(err)
  if err:find("interrupted by SIG", 1, true) then return err end
  local why = self.vm:lost()
  if not why and pid and self.exited[pid] then why = "its agent in the guest " .. self.exited[pid] end
  if why and not err:find(why, 1, true) then return err .. ": " .. why end
  return err
end

function Guest:_event(ev)
  if ev.event == "vm.ready" then
    self.info = ev
  elseif ev.event == "vm.exited" then
    self.exited[ev.pid] = ev.status
  end
end

-- A control request to lnst-vmguest: true, result | false, code, message.
function Guest:call(method, params, timeout)
  local ok, a, b, c = pcall(function()
    return self.ctl:wait(self.ctl:send(method, params), timeout or 30)
  end)
  if not ok then error(self:annotate(a), 0) end
  return a, b, c
end

function Guest:wait_ready(timeout)
  local deadline = core.now() + timeout
  while not self.info do
    local lost = self.vm:lost()
    if lost then
      error(string.format("guest %s did not come up: %s", self.name, lost), 0)
    end
    if core.now() > deadline then
      self.vm:kill()
      error(string.format("guest %s did not come up within %g s (%s, kernel %s); console log: %s",
        self.name, timeout, self.accel, self.kernel.source, self.vm:console()), 0)
    end
    core.poll(0.05)
  end
end

-- Powers the guest off (or kills it) and returns a list of problems.
function Guest:stop()
  local problems = {}
  if not self.vm:lost() then
    local ok, res, code, msg = pcall(self.call, self, "vm.poweroff", nil, 5)
    if not ok then problems[#problems + 1] = string.format("guest %s: power-off: %s", self.name, res)
    elseif not res then
      problems[#problems + 1] = string.format("guest %s: power-off: %s (%s)", self.name, msg, code)
    end
  end
  local lost = self.vm:lost()
  local status = self.vm:stop(10)
  self.ctl:close()
  if status ~= "exited 0" then
    problems[#problems + 1] = string.format("guest %s: qemu %s%s", self.name, status,
      lost and (" (" .. lost .. ")") or "")
  end
  self:tidy(problems)
  return problems
end

-- Once qemu is gone: the run directory keeps the console log (and qemu.log
-- if qemu said anything); the agents' probe cache the guest saved there
-- goes to the kernel cache for the next boot.
function Guest:tidy(problems)
  local kinds = self.rundir .. "/kinds.cache"
  if vm_core.stat(kinds) then
    local ok, out = vmkernel.run("mkdir -p " .. q(self.kinds_cache:match("^(.*)/")) .. " && mv -f " .. q(kinds)
      .. " " .. q(self.kinds_cache))
    if not ok then
      os.remove(kinds)
      problems[#problems + 1] = string.format("guest %s: cannot keep the probe cache: %s", self.name, out)
    end
  end
end

-- Where a failure of KVM on this host is remembered.
local function kvm_status_file()
  return vmkernel.cache_dir() .. "/kvm-unusable"
end

local function kvm_key(o)
  local f = io.open("/proc/sys/kernel/osrelease")
  local rel = f and f:read("*l") or "?"
  if f then f:close() end
  return rel .. " " .. o.qemu
end

-- "kvm" or "tcg", and why (when not the obvious choice), and whether that
-- is only worth saying with debug.
local function choose_accel(o)
  if o.vm_accel == "tcg" then return "tcg" end
  local ok, why = vm_core.kvm_available()
  if o.vm_accel == "kvm" then
    if not ok then error("vm_accel = kvm: KVM is not available (" .. why .. ")", 0) end
    return "kvm"
  end
  if not ok then return "tcg", "no KVM (" .. why .. ")", true end
  local f = io.open(kvm_status_file())
  if f then
    local key, reason = (f:read("*a") or ""):match("^([^\n]*)\n(.*)$")
    f:close()
    if key == kvm_key(o) then
      return "tcg", "KVM failed on this host before (" .. (reason or "?"):gsub("%s+$", "")
        .. "); vm_accel=kvm forces it", true
    end
  end
  return "kvm"
end

local function check_path(what, p)
  if p and p:find("[%s\"']") then
    error(string.format("%s %s: paths with blanks or quotes cannot go on the guest's kernel command line", what, p), 0)
  end
end

-- The guest mounts its own /tmp, /run and /dev over the host's: programs
-- from there are not visible in it as they are.
local function hidden_in_guest(p)
  for _, top in ipairs { "/tmp/", "/run/", "/dev/", "/var/run/" } do
    if p:sub(1, #top) == top then return true end
  end
  return false
end

local function abs_path(p)
  if not p or p:sub(1, 1) == "/" then return p end
  local ok, out = vmkernel.run("readlink -f " .. q(p))
  return ok and out or p
end

-- Boots a guest. o: the provisioner's options.
local function start_guest(o, trace)
  local k = vmkernel.prepare { kernel = o.kernel ~= "auto" and abs_path(o.kernel) or "auto",
    modules = o.modules and abs_path(o.modules) or nil }
  local progs = vm_core.programs()
  if not progs.agent then error("cannot find lnst-agent (set LNST_AGENT)", 0) end
  if not progs.guest then error("cannot find lnst-vmguest (set LNST_VMGUEST)", 0) end
  progs.agent, progs.guest = abs_path(progs.agent), abs_path(progs.guest)
  started = started + 1
  local name = string.format("lnst-vm-%d-%d", core.getpid(), started)
  local parent = abs_path(o.vm_dir or (os.getenv("TMPDIR") ~= "" and os.getenv("TMPDIR")) or "/tmp")
  local rundir = parent .. "/" .. name
  check_path("run directory", rundir)
  check_path("lnst-agent", progs.agent)
  check_path("lnst-vmguest", progs.guest)
  check_path("module tree", k.modules)
  local kinds_cache = vmkernel.kinds_cache(k)
  check_path("probe cache", kinds_cache)
  local ok, out = vmkernel.run("rm -rf " .. q(rundir) .. " && mkdir -p " .. q(rundir))
  if not ok then error("cannot create the guest's run directory " .. rundir .. ": " .. out, 0) end
  -- Programs the guest cannot see where they are (a build under /tmp, say)
  -- run from a copy in the kernel cache, which it does see; the copy is
  -- named by size and time, so it is made once per build.
  for _, key in ipairs { "agent", "guest" } do
    if hidden_in_guest(progs[key]) then
      local bin = vmkernel.cache_dir() .. "/bin"
      if hidden_in_guest(bin .. "/") then
        error(progs[key] .. ": the guest cannot see it, nor the kernel cache " .. bin
          .. " to copy it to; build lnst elsewhere or set LNST_KERNEL_CACHE", 0)
      end
      local okst, stamp = vmkernel.run("stat -c %s-%Y " .. q(progs[key]))
      local copy = bin .. "/" .. progs[key]:match("[^/]*$") .. "-" .. (okst and stamp:gsub("%s+$", "") or "0")
      if not vm_core.stat(copy) then
        ok, out = vmkernel.run("mkdir -p " .. q(bin) .. " && cp " .. q(progs[key]) .. " " .. q(copy .. ".tmp")
          .. " && mv -f " .. q(copy .. ".tmp") .. " " .. q(copy))
        if not ok then error("cannot copy " .. progs[key] .. " into " .. bin .. ": " .. out, 0) end
      end
      progs[key] = copy
    end
  end
  local readahead = vmkernel.readahead_list(progs.guest, progs.agent)
  if readahead and hidden_in_guest(readahead) then readahead = nil end -- a kernel cache under /tmp
  check_path("read-ahead list", readahead)
  local accel, accel_note, quiet = choose_accel(o)
  -- acpi=noirq: PCI interrupts routed without ACPI (the guest's devices
  -- use MSI-X anyway); ACPI's routing costs the virtio PCI probe about half
  -- a second under TCG.
  local append = table.concat({ "console=ttyS0", "loglevel=5", "panic=-1", "oops=panic", "mitigations=off",
    "acpi=noirq", "lnst_mode=run", "lnst_run=" .. rundir, "lnst_guest=" .. progs.guest, "lnst_agent=" .. progs.agent,
    "lnst_mods=" .. (k.modules or "-"), "lnst_kinds=" .. kinds_cache, "lnst_readahead=" .. (readahead or "-"),
    "lnst_path=" .. vm_core.guest_path(),
    o.vm_append }, " ")
  local notes = { unpack(k.notes) }
  if accel_note and not quiet then notes[#notes + 1] = accel_note end
  trace("kernel ready: " .. k.source .. ", " .. k.boot .. (accel_note and "; " .. accel_note or ""))
  for attempt = 1, 2 do
    local vm = vm_core.start { name = name, kernel = k.kernel, initrd = k.initrd, append = append, rundir = rundir,
      memory = o.vm_memory, smp = o.vm_smp, kvm = accel == "kvm", qemu = o.qemu, hang_timeout = o.vm_hang_timeout }
    local g = setmetatable({ vm = vm, name = name, rundir = rundir, accel = accel, kernel = k, next_ch = 1,
      exited = {}, notes = notes, memory = o.vm_memory, smp = o.vm_smp, kinds_cache = kinds_cache }, Guest)
    g.ctl = core.adopt_agent(vm:channel(0), "guest " .. name)
    g.ctl:on_event(function(ev) g:_event(ev) end)
    trace("qemu started (" .. accel .. ")")
    local auto_kvm = accel == "kvm" and o.vm_accel == "auto"
    local up, err = pcall(g.wait_ready, g, auto_kvm and M.KVM_BOOT_TIMEOUT or o.vm_boot_timeout)
    if up then return g end
    vm:stop(0)
    g.ctl:close()
    g:tidy({})
    if tostring(err):find("interrupted by SIG", 1, true) then error(err, 0) end
    if not (auto_kvm and attempt == 1) then
      error(#notes > 0 and string.format("%s (note: %s)", err, table.concat(notes, "; ")) or err, 0)
    end
    -- KVM exists but does not run this guest (nested virtualisation often
    -- cannot): remember it for this host and qemu, use TCG.
    local f = io.open(kvm_status_file(), "w")
    if f then f:write(kvm_key(o), "\n", tostring(err), "\n"); f:close() end
    notes[#notes + 1] = "KVM did not work (" .. tostring(err) .. "); using TCG"
    accel = "tcg"
  end
end

-- The guest for these options: a kept one if it is still alive, else a new one.
local function config_key(o)
  local keys = util.sorted_keys(M.DEFAULTS)
  local parts = {}
  for _, key in ipairs(keys) do parts[#parts + 1] = key .. "=" .. tostring(o[key]) end
  return table.concat(parts, ";")
end

local function get_guest(o, trace)
  local key = config_key(o)
  local g = kept[key]
  kept[key] = nil
  if g and not g.vm:lost() then return g end
  if g then g:stop() end
  return start_guest(o, trace)
end

-- Stops the guests vm_keep kept; returns a list of problems.
function M.stop_kept()
  local problems = {}
  for key, g in pairs(kept) do
    kept[key] = nil
    for _, p in ipairs(g:stop()) do problems[#problems + 1] = p end
  end
  return problems
end

-- ---------------------------------------------------------------- agent connections

-- What host.lua sees: an agent connection whose errors also say why the
-- guest is gone when it is, and whose pid is the agent's pid in the guest.
local Conn = {}
Conn.__index = Conn

function Conn:send(...)
  local ok, id = pcall(self.c.send, self.c, ...)
  if not ok then error(self.g:annotate(id, self.guest_pid), 0) end
  return id
end

function Conn:wait(...)
  local r = { pcall(self.c.wait, self.c, ...) }
  if not r[1] then error(self.g:annotate(r[2], self.guest_pid), 0) end
  return unpack(r, 2, table.maxn(r))
end

function Conn:on_event(fn) return self.c:on_event(fn) end
function Conn:critical(on) return self.c:critical(on) end
function Conn:pid() return self.guest_pid end
function Conn:close() return self.c:close() end

function Conn:lost()
  local l = self.c:lost()
  if not l then return nil end
  return self.g:annotate(l, self.guest_pid)
end

-- ---------------------------------------------------------------- provisioner

local P = {}
P.__index = P

-- The provisioner's options from a controller's: defaults filled in,
-- values checked. Raises on a bad value.
function M.options(opts)
  local o = {}
  for k, v in pairs(M.DEFAULTS) do
    local given = opts[k]
    if given == nil then o[k] = v else o[k] = given end
  end
  local function num(k, min)
    if type(o[k]) ~= "number" or o[k] < min then
      error(string.format("%s: a number >= %g, not %s", k, min, tostring(o[k])), 0)
    end
  end
  num("vm_memory", 128)
  num("vm_smp", 1)
  num("vm_boot_timeout", 0.1)
  num("vm_hang_timeout", 3)
  if o.vm_accel ~= "auto" and o.vm_accel ~= "kvm" and o.vm_accel ~= "tcg" then
    error("vm_accel: auto, kvm or tcg, not " .. tostring(o.vm_accel), 0)
  end
  if type(o.kernel) ~= "string" or o.kernel == "" then
    error("kernel: \"auto\" or the path of a bzImage, a vmlinux or a build tree", 0)
  end
  return o
end

-- The controller options from `lnst run` options (--vm, --kernel, --modules,
-- --vm-memory, --vm-smp, --vm-accel, --vm-dir, --vm-append): a table, or
-- nil and why.
function M.cli_options(opts)
  local o = {}
  local given = opts.kernel or opts.modules or opts.vm_memory or opts.vm_smp or opts.vm_accel or opts.vm_dir
    or opts.vm_append
  if not opts.vm then
    if given then return nil, "--kernel, --modules and the --vm-* options go with --vm" end
    return o
  end
  if opts.podman or opts.pools then
    return nil, "--vm goes neither with --podman nor with --pool: hosts are in one guest of this machine"
  end
  o.provisioner, o.kernel, o.modules, o.vm_accel, o.vm_dir, o.vm_append = "vm", opts.kernel, opts.modules,
    opts.vm_accel, opts.vm_dir, opts.vm_append
  for _, k in ipairs({ "vm_memory", "vm_smp" }) do
    if opts[k] then
      o[k] = tonumber(opts[k])
      if not o[k] or o[k] ~= math.floor(o[k]) then
        return nil, string.format("--%s must be a whole number, not '%s'", k:gsub("_", "-"), opts[k])
      end
    end
  end
  local ok, err = pcall(M.options, o)
  if not ok then return nil, "--vm: " .. tostring(err) end
  return o
end

function M.new(opts)
  local o = opts.vm or M.options(opts)
  return setmetatable({ debug = opts.debug, log = opts.log, o = o, hosts = {}, conns = {}, pids = {} }, P)
end

-- With debug, says on stderr how long each step took.
function P:trace(what)
  if not self.debug then return end
  local now = core.now()
  self.t0 = self.t0 or now
  io.stderr:write(string.format("lnst: vm: %6.2f s %s\n", now - self.t0, what))
end

function P:provision(reqs)
  self:trace("provisioning")
  local g = get_guest(self.o, function(what) self:trace(what) end)
  self:trace(string.format("guest %s up (kernel %s, %s; kernel uptime %.2f s)", g.name, g.info.kernel, g.accel,
    g.info.uptime))
  if g.info.steps then self:trace("guest boot, kernel uptime at each step (s): " .. g.info.steps) end
  self.guest = g
  local names = util.sorted_keys(reqs)
  local nets, net_list = {}, util.network_labels(reqs) -- nets: label -> bridge, below
  -- Hello to each agent (kept by the guest's mux until the agent exists) and
  -- the spawns go out before any reply is awaited.
  local channels, hello_ids, spawn_ids = {}, {}, {}
  for _, hname in ipairs(names) do
    local ch = g.next_ch
    g.next_ch = ch + 1
    channels[hname] = ch
    local c = core.adopt_agent(g.vm:channel(ch), hname)
    self.conns[hname] = setmetatable({ c = c, g = g, guest_pid = 0 }, Conn)
    hello_ids[hname] = self.conns[hname]:send("hello")
    spawn_ids[hname] = g.ctl:send("vm.spawn", { name = hname, channel = ch, debug = self.debug or false })
  end
  -- The fabric goes out with the spawns (lnst-vmguest answers in order, so
  -- it is built once the agents' namespaces exist) and is wired while the
  -- agents start, as the netns provisioner does: an agent whose first dump
  -- the new veths interrupt reads it again.
  local bridges, veths, ends = {}, {}, {}
  for i, label in ipairs(net_list) do bridges[i] = "lnbr" .. i; nets[label] = bridges[i] end
  for _, hname in ipairs(names) do
    ends[hname] = {}
    for _, nic in ipairs(util.sorted_keys(reqs[hname])) do
      if nic ~= "params" then
        ends[hname][nic] = "lnv" .. (#veths + 1)
        veths[#veths + 1] = { name = ends[hname][nic], bridge = nets[reqs[hname][nic].network],
          channel = channels[hname], peer = nic }
      end
    end
  end
  local fabric_id = g.ctl:send("vm.fabric", { bridges = bridges, veths = veths })
  for _, hname in ipairs(names) do
    local ok, res, msg = g.ctl:wait(spawn_ids[hname], 30)
    if not ok then error(g:annotate(string.format("host %s: cannot start its agent in guest %s: %s (%s)",
      hname, g.name, msg, res)), 0) end
    self.pids[hname] = res.pid
    self.conns[hname].guest_pid = res.pid
  end
  self:trace("agents started")
  local ok, res, msg = g.ctl:wait(fabric_id, 30)
  if not ok then
    error(g:annotate(string.format("guest %s: cannot build the fabric: %s (%s)", g.name, msg, res)), 0)
  end
  self:trace("fabric built")
  local info = g.info
  for _, hname in ipairs(names) do
    local conn = self.conns[hname]
    local hok, hello, hmsg = conn:wait(hello_ids[hname], 30)
    -- The agent probes the kernel's link kinds once per kernel (the guest
    -- keeps the answer): that loads dozens of modules and can outlast the
    -- agent's wait in hello under TCG; asking again waits for the rest.
    for _ = 1, 3 do
      if not hok or type((hello.capabilities or {}).kinds) == "table" then break end
      self:trace(hname .. ": its agent is still probing link kinds, asking again")
      hok, hello, hmsg = conn:wait(conn:send("hello"), 30)
    end
    if not hok then error(string.format("host %s: hello failed: %s (%s)", hname, hmsg, hello), 0) end
    local target = string.format("vm host %s (agent pid %d in guest %s: kernel %s, %s, %d MiB, %d CPUs; "
      .. "console log %s)", hname, conn.guest_pid, g.name, info.kernel, g.accel, g.memory, g.smp, g.vm:console())
    self.hosts[hname] = host.new(hname, conn, hello, { target = target, log = self.log })
    -- its pid is the guest's: nsenter on this machine would enter something else
    rawset(self.hosts[hname], "enter_hint", string.format("in guest %s, which has no shell to enter: use "
      .. "hosts.%s:run(...)", g.name, hname))
  end
  self:trace("hello from every agent")
  local match, map_ids = {}, {}
  for _, hname in ipairs(names) do
    local conn = self.conns[hname]
    map_ids[hname] = {}
    for _, nic in ipairs(util.sorted_keys(reqs[hname])) do
      if nic ~= "params" then map_ids[hname][nic] = conn:send("dev.map", { name = nic }) end
    end
  end
  for _, hname in ipairs(names) do
    local h = self.hosts[hname]
    local m = { host = hname, target = h.target, nics = {} }
    for _, nic in ipairs(util.sorted_keys(map_ids[hname])) do
      local dok, dev, dmsg = h.conn:wait(map_ids[hname][nic], 30)
      if not dok then error(string.format("host %s: cannot map NIC %s: %s (%s)", hname, nic, dmsg, dev), 0) end
      h._devs[dev.ifindex] = dev
      rawget(h, "nics")[nic] = h:device(dev.ifindex)
      -- the wire's far end (in the guest) takes what the NIC may send
      h:_follow_mtu(dev.ifindex, function(mtu)
        local fok, fres, fmsg = g.ctl:wait(g.ctl:send("vm.fabric_mtu", { name = ends[hname][nic], mtu = mtu }), 30)
        if not fok then error(string.format("guest %s: %s (%s)", g.name, fmsg, fres), 0) end
      end)
      m.nics[#m.nics + 1] = { name = nic, target = string.format("%s (network %s)", nic, reqs[hname][nic].network) }
    end
    match[#match + 1] = m
  end
  self:trace("NICs mapped")
  -- from now on, the death of any host's agent ends every wait at once
  for _, conn in pairs(self.conns) do conn:critical(true) end
  for _, note in ipairs(g.notes) do
    io.stderr:write("lnst: guest ", g.name, ": ", note, "\n")
  end
  return self.hosts, match
end

-- Ends the run on every host (jobs killed, changes undone), stops the
-- agents, drops the fabric and powers the guest off (unless vm_keep).
-- Never raises; returns a list of problems.
function P:cleanup()
  local problems = {}
  local function add(p) problems[#problems + 1] = p end
  local g = self.guest
  for _, conn in pairs(self.conns) do conn:critical(false) end
  local ok, err = pcall(function()
    local ids = {}
    for name, conn in pairs(self.conns) do
      if not conn:lost() then
        local sok, id = pcall(conn.send, conn, "bye")
        if sok then ids[name] = id end
      end
    end
    for name, id in pairs(ids) do
      local wok, res, code, msg = pcall(self.conns[name].wait, self.conns[name], id, 10)
      if not wok then add(res)
      elseif not res then add(string.format("host %s: bye failed: %s (%s)", name, msg, code)) end
    end
    if not g or g.vm:lost() then return end
    local reaps = {}
    for name, pid in pairs(self.pids) do
      reaps[name] = g.ctl:send("vm.reap", { pid = pid, timeout = ids[name] and 5 or 0 })
    end
    for name, id in pairs(reaps) do
      local rok, res, msg = g.ctl:wait(id, 15)
      if not rok then add(string.format("host %s: agent not reaped: %s (%s)", name, msg, res))
      elseif res.status ~= "exited 0" then add(string.format("host %s: agent %s", name, res.status)) end
    end
    local fok, fres, fmsg = g.ctl:wait(g.ctl:send("vm.end_run"), 10)
    if not fok then add(string.format("guest %s: end of run: %s (%s)", g.name, fmsg, fres)) end
  end)
  if not ok then add(g and g:annotate(err) or tostring(err)) end
  for _, conn in pairs(self.conns) do pcall(conn.close, conn) end
  self.conns, self.pids = {}, {}
  if g then
    self.guest = nil
    if self.o.vm_keep and not g.vm:lost() and #problems == 0 then
      kept[config_key(self.o)] = g
    else
      local sok, more = pcall(g.stop, g)
      if not sok then add(tostring(more)) else for _, p in ipairs(more) do add(p) end end
    end
  end
  return problems
end

-- ---------------------------------------------------------------- lnst cleanup

-- Ends guests of crashed runs (their controller is gone). Returns removed
-- (list of strings) and problems (list of strings).
function M.cleanup_leftovers(opts)
  local list, err = vm_core.leftovers(opts and opts.dry_run)
  if not list then return {}, { err } end
  local removed = {}
  for _, l in ipairs(list) do
    if l.qemu_pid > 0 then
      removed[#removed + 1] = string.format("guest %s (qemu pid %d, controller pid %d gone)", l.name, l.qemu_pid,
        l.controller_pid)
    else
      removed[#removed + 1] = string.format("guest registry entry %s (not running)", l.name)
    end
  end
  return removed, {}
end

return M
