-- lnst.vmkernel: the kernels the VM provisioner boots, and their initramfs.
--   local k = vmkernel.prepare { kernel = "auto" | PATH, modules = DIR, cache = DIR }
--   -> { kernel = FILE (what qemu boots), initrd = FILE, modules = DIR | nil,
--        release = "6.1.0-56-amd64", source = "Debian package linux-image-...",
--        boot = "PVH vmlinux" | "bzImage", image = the bzImage or vmlinux it came from,
--        notes = { ... } }
--
-- "auto" is Debian's current stock kernel: the package linux-image-amd64
-- depends on, fetched with `apt-get download` into the cache (default
-- /var/cache/lnst/kernels, $LNST_KERNEL_CACHE), unpacked with `dpkg -x`
-- (nothing is installed, /boot is not touched), given a modules.dep with
-- `busybox depmod`, and its uncompressed vmlinux pulled out of the bzImage
-- for a direct PVH boot. Which package that is gets resolved again whenever
-- apt's package lists change. A PATH is a user's own kernel: a bzImage (its
-- vmlinux is extracted and cached when it has a PVH entry), a vmlinux with
-- the PVH note, or a kernel build tree; its modules come from `modules`, or
-- /lib/modules/RELEASE, or RELEASE's tree next to the image.
--
-- The initramfs holds busybox, lnst.vminit's /init, lnst-vminit (static;
-- src/ctl/vminit.c) and the modules it loads at boot with their
-- dependencies, in /modules (decompressed), listed one file per line in
-- load order (M.BOOT_LISTS): two processes load virtio PCI and serial
-- (virtio) and the 9p file system (9p) at the same time, the first then
-- 9p over virtio (root) and mounts the root, the second the fabric's
-- bridge and veth (fabric). It is built once per kernel module tree and
-- lnst-vminit build, and cached.
-- Everything in the cache is made under a lock (concurrent runs wait) and
-- appears only when complete.
local vm_core = require "lnst.vm_core"
local sha256 = require "lnst.sha256"

local M = {}

-- Drivers the guest loads at boot from its initramfs (with dependencies),
-- in lists lnst-vminit loads in this order: what it needs to reach the
-- host's root, and the fabric's bridge and veths, which every run needs (on
-- demand they would cost a run of the module helper each). "virtio" and
-- "9p" load at the same time (in two processes), then "root" in the first
-- (what the two lists before it loaded is left out of it) and "fabric" in
-- the second (what "9p" loaded is left out). A module in two lists loading
-- at the same time is loaded once: the kernel makes the second wait.
M.BOOT_LISTS = {
  { name = "virtio", modules = { "virtio_pci", "virtio_console" } },
  { name = "9p", modules = { "9p" } },
  { name = "root", modules = { "9pnet_virtio" }, after = { "virtio", "9p" } },
  { name = "fabric", modules = { "bridge", "veth" }, after = { "9p" } },
}
M.BUSYBOX = "/bin/busybox"

function M.cache_dir(opts)
  local env = os.getenv("LNST_KERNEL_CACHE")
  return (opts and opts.cache) or (env ~= "" and env) or "/var/cache/lnst/kernels"
end

local function q(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- Runs a shell command; returns ok, output (stdout and stderr).
local function run(cmd)
  local f = io.popen(cmd .. " 2>&1; echo \"__lnst_rc=$?\"")
  local out = f:read("*a")
  f:close()
  local rc = tonumber(out:match("__lnst_rc=(%d+)%s*$"))
  return rc == 0, (out:gsub("__lnst_rc=%d+%s*$", ""):gsub("%s+$", ""))
end
M.run = run

local function must(cmd, what)
  local ok, out = run(cmd)
  if not ok then error(string.format("%s: %s", what, out ~= "" and out or "failed"), 0) end
  return out
end

local function exists(path)
  return vm_core.stat(path) ~= nil
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function write_file(path, text)
  local f, err = io.open(path, "wb")
  if not f then error(string.format("cannot write %s: %s", path, err), 0) end
  f:write(text)
  f:close()
end

-- Runs fn under the cache's lock (other runs preparing kernels wait).
local function locked(cache, fn)
  must("mkdir -p " .. q(cache), "cannot create the kernel cache " .. cache)
  local lock = vm_core.lock(cache .. "/.lock")
  local ok, res, res2 = pcall(fn)
  lock:unlock()
  if not ok then error(res, 0) end
  return res, res2
end

-- ------------------------------------------------------------ module trees

local function modname(path)
  local base = path:match("([^/]+)$"):gsub("%.ko[%.%w]*$", "")
  return (base:gsub("-", "_"))
end

-- modules.dep of a tree: name -> { path = relative path, deps = {paths} }.
local function parse_dep(tree)
  local text = read_file(tree .. "/modules.dep")
  if not text then return nil end
  local mods = {}
  for line in text:gmatch("[^\n]+") do
    local path, deps = line:match("^([^:]+):%s*(.*)$")
    if path then
      local d = {}
      for dep in deps:gmatch("%S+") do d[#d + 1] = dep end
      mods[modname(path)] = { path = path, deps = d }
    end
  end
  return mods
end

-- The modules to load for names, dependencies first (names the tree does
-- not have are taken as built in): { path =, level =, deps = {paths} }, the
-- level of each: 0 needs none of the others, N needs some of level N-1.
function M.closure(tree, names)
  local mods = parse_dep(tree) or {}
  local order, level = {}, {}
  local function visit(name)
    local m = mods[name]
    if not m or level[name] then return level[name] or -1 end
    level[name] = 0
    local l = 0
    for _, dep in ipairs(m.deps) do l = math.max(l, visit(modname(dep)) + 1) end
    level[name] = l
    order[#order + 1] = { path = m.path, level = l, deps = m.deps, name = name }
    return l
  end
  for _, n in ipairs(names) do visit(n) end
  table.sort(order, function(a, b) return a.level < b.level or (a.level == b.level and a.path < b.path) end)
  return order
end

-- A module tree (the directory with modules.dep) from DIR: DIR itself, or
-- DIR/lib/modules/RELEASE, or its only release.
local function find_tree(dir, release)
  if exists(dir .. "/modules.dep") then return dir end
  if release ~= "" and exists(dir .. "/lib/modules/" .. release .. "/modules.dep") then
    return dir .. "/lib/modules/" .. release
  end
  local ok, out = run("ls -1 " .. q(dir .. "/lib/modules"))
  if ok then
    local found = {}
    for rel in out:gmatch("[^\n]+") do
      if exists(dir .. "/lib/modules/" .. rel .. "/modules.dep") then found[#found + 1] = rel end
    end
    if #found == 1 then return dir .. "/lib/modules/" .. found[1] end
  end
  if exists(dir) and (exists(dir .. "/kernel") or exists(dir .. "/modules.order")) then
    error(string.format("module tree %s has no modules.dep: make one with `busybox depmod -b ROOT RELEASE` "
      .. "(or depmod -b), where ROOT/lib/modules/RELEASE is the tree", dir), 0)
  end
  error(string.format("%s is not a module tree (no modules.dep in it or in lib/modules/%s)", dir,
    release ~= "" and release or "RELEASE"), 0)
end
M.find_tree = find_tree

-- ------------------------------------------------------------ initramfs

local DECOMPRESS = { xz = "xz -dc", zst = "zstd -dcq", gz = "gzip -dc" }

-- What decides the modules an initramfs loads at boot (also a part of the
-- key of the agents' probe cache).
local function modules_key(tree, release)
  local dep = tree and vm_core.stat(tree .. "/modules.dep")
  local parts = { "layout 4", tree or "-", dep and dep.mtime or 0, release or "-" }
  for _, l in ipairs(M.BOOT_LISTS) do parts[#parts + 1] = l.name .. ": " .. table.concat(l.modules, " ") end
  return table.concat(parts, "\n")
end

-- The initramfs for a module tree (or none) of kernel release (if known),
-- built once and cached.
function M.initramfs(cache, tree, release)
  local script = require "lnst.vminit"
  local bb = vm_core.stat(M.BUSYBOX)
  if not bb then
    error(string.format("%s is missing: the guest's init needs busybox (apt-get install busybox-static)",
      M.BUSYBOX), 0)
  end
  local init = vm_core.programs().init
  local ist = init and vm_core.stat(init)
  if not ist then error("cannot find lnst-vminit, the guest's init (build lnst, or set LNST_VMINIT)", 0) end
  -- The key stands for the content: what is in it follows from these (the
  -- closure is only worked out to build it: parsing modules.dep takes
  -- longer than the rest of a run's preparation).
  release = release ~= "" and not (release or ""):find("/") and release or nil
  local key = sha256.hex(table.concat({ modules_key(tree, release), script, bb.size, bb.mtime, init, ist.size,
    ist.mtime }, "\n")):sub(1, 20)
  local out = cache .. "/initramfs/" .. key .. ".cpio"
  if exists(out) then return out end
  return locked(cache, function()
    if exists(out) then return out end
    local stage = out .. ".stage"
    must("rm -rf " .. q(stage) .. " && mkdir -p " .. q(stage .. "/bin") .. " " .. q(stage .. "/dev") .. " "
      .. q(stage .. "/proc") .. " " .. q(stage .. "/sys") .. " " .. q(stage .. "/newroot") .. " "
      .. q(stage .. "/modules") .. " && cp " .. q(M.BUSYBOX) .. " " .. q(stage .. "/bin/busybox") .. " && cp "
      .. q(init) .. " " .. q(stage .. "/bin/lnst-vminit")
      .. " && mknod " .. q(stage .. "/dev/console") .. " c 5 1", "cannot stage the initramfs in " .. stage)
    write_file(stage .. "/init", script)
    local loaded, copied = {}, {} -- list name -> {module name -> true}; file -> true
    for _, l in ipairs(M.BOOT_LISTS) do
      local names, mine = {}, {}
      for _, mod in ipairs(tree and M.closure(tree, l.modules) or {}) do
        local before = false
        for _, a in ipairs(l.after or {}) do before = before or loaded[a][mod.name] end
        if not before then mine[#mine + 1] = mod end
      end
      loaded[l.name] = {}
      for _, a in ipairs(l.after or {}) do
        for n in pairs(loaded[a]) do loaded[l.name][n] = true end
      end
      for _, mod in ipairs(mine) do
        local rel = mod.path
        local comp = rel:match("%.ko%.(%w+)$")
        local plain = rel:match("([^/]+)$"):gsub("%.ko%.%w+$", ".ko")
        local src, dst = q(tree .. "/" .. rel), q(stage .. "/modules/" .. plain)
        loaded[l.name][mod.name] = true
        names[#names + 1] = plain
        if not copied[plain] then -- else in an earlier list too
          if comp then
            if not DECOMPRESS[comp] then error(string.format("module %s: unknown compression .%s", rel, comp), 0) end
            must(DECOMPRESS[comp] .. " " .. src .. " > " .. dst, "cannot decompress module " .. rel)
          else
            must("cp " .. src .. " " .. dst, "cannot copy module " .. rel)
          end
          copied[plain] = true
        end
      end
      write_file(stage .. "/modules/" .. l.name, #names > 0 and table.concat(names, "\n") .. "\n" or "")
    end
    must("chmod 755 " .. q(stage .. "/init") .. " && cd " .. q(stage) .. " && find . | "
      .. q(M.BUSYBOX) .. " cpio -o -H newc > " .. q(out .. ".tmp") .. " && mv " .. q(out .. ".tmp") .. " "
      .. q(out) .. " && rm -rf " .. q(stage), "cannot pack the initramfs " .. out)
    return out
  end)
end

-- ------------------------------------------------------------ Debian's kernel

-- The package linux-image-amd64 depends on, resolved again when apt's lists
-- change (apt-get update) and refreshed with apt-get update if unknown.
local function resolve_auto(cache)
  local lists = vm_core.stat("/var/lib/apt/lists")
  local stamp_file = cache .. "/auto.resolved"
  local stamp = read_file(stamp_file)
  if stamp and lists then
    local mtime, pkg = stamp:match("^(%S+) (%S+)")
    if mtime == string.format("%.6f", lists.mtime) then return pkg end
  end
  local function query()
    local _, out = run("apt-cache depends linux-image-amd64")
    return out:match("Depends: (linux%-image%-[%w%.+%-]+)")
  end
  local pkg = query()
  if not pkg then
    run("apt-get update -qq -o DPkg::Lock::Timeout=120")
    pkg = query()
  end
  if not pkg then
    error("cannot tell which kernel package Debian's linux-image-amd64 depends on (apt-cache depends "
      .. "linux-image-amd64 names none, also after apt-get update)", 0)
  end
  lists = vm_core.stat("/var/lib/apt/lists")
  must("mkdir -p " .. q(cache), "cannot create the kernel cache " .. cache)
  write_file(stamp_file, string.format("%.6f %s\n", lists and lists.mtime or 0, pkg))
  return pkg
end

-- Reads the key=value file a prepared kernel directory carries.
local function read_info(path)
  local text = read_file(path)
  if not text then return nil end
  local t = {}
  for k, v in text:gmatch("([%w_]+)=([^\n]*)") do t[k] = v end
  return t
end

local function fetch_debian(cache, pkg)
  local dir = cache .. "/" .. pkg
  local info = read_info(dir .. "/kernel.info")
  if info then return dir, info end
  return locked(cache, function()
    info = read_info(dir .. "/kernel.info")
    if info then return dir, info end
    local tmp = cache .. "/.tmp-" .. pkg
    must("rm -rf " .. q(tmp) .. " && mkdir -p " .. q(tmp), "cannot create " .. tmp)
    must("cd " .. q(tmp) .. " && apt-get download -q " .. q(pkg),
      "cannot download Debian's kernel package " .. pkg .. " (apt-get download)")
    local deb = must("ls -1 " .. q(tmp) .. "/*.deb", "apt-get download left no .deb in " .. tmp)
    must("dpkg -x " .. q(deb) .. " " .. q(tmp .. "/root") .. " && rm -f " .. q(deb), "cannot unpack " .. deb)
    local base = exists(tmp .. "/root/lib/modules") and tmp .. "/root" or tmp .. "/root/usr"
    local rel = must("ls -1 " .. q(base .. "/lib/modules"), "package " .. pkg .. " has no lib/modules")
    rel = rel:match("^([^\n]+)$")
    if not rel then error("package " .. pkg .. " has more than one module tree", 0) end
    must(q(M.BUSYBOX) .. " depmod -b " .. q(base) .. " " .. q(rel), "busybox depmod failed for " .. pkg)
    local bz = tmp .. "/root/boot/vmlinuz-" .. rel
    local boot = "vmlinux"
    local ok, err = vm_core.extract_vmlinux(bz, tmp .. "/vmlinux")
    local ki = ok and vm_core.kernel_info(tmp .. "/vmlinux")
    if not (ki and ki.pvh) then
      boot = "root/boot/vmlinuz-" .. rel -- no PVH entry: qemu boots the bzImage (slower)
      if ok then os.remove(tmp .. "/vmlinux") end
      io.stderr:write(string.format("lnst: %s: booting the bzImage (%s)\n", pkg,
        err or "its vmlinux has no PVH entry note"))
    end
    write_file(tmp .. "/kernel.info", string.format("release=%s\nboot=%s\nmodules=%s\n", rel, boot,
      (base == tmp .. "/root" and "root" or "root/usr") .. "/lib/modules/" .. rel))
    must("rm -rf " .. q(dir) .. " && mv " .. q(tmp) .. " " .. q(dir), "cannot move " .. tmp .. " into place")
    return dir, read_info(dir .. "/kernel.info")
  end)
end

-- ------------------------------------------------------------ user kernels

local function user_kernel(path, opts, cache, notes)
  local st = vm_core.stat(path)
  if not st then error(string.format("kernel %s: no such file or directory", path), 0) end
  local image = path
  if st.dir then
    if exists(path .. "/vmlinux") then image = path .. "/vmlinux"
    elseif exists(path .. "/arch/x86/boot/bzImage") then image = path .. "/arch/x86/boot/bzImage"
    else error(string.format("kernel %s: a directory without vmlinux or arch/x86/boot/bzImage", path), 0) end
  end
  local info, err = vm_core.kernel_info(image)
  if not info then error(err, 0) end
  local boot, how = image, "PVH vmlinux"
  if info.format == "elf" and not info.pvh then
    -- a build tree's vmlinux without PVH: its bzImage still boots
    local bz = st.dir and path .. "/arch/x86/boot/bzImage"
    if not (bz and exists(bz)) then
      error(string.format("kernel %s has no PVH entry note (build it with CONFIG_PVH=y), or give its bzImage",
        image), 0)
    end
    boot, how = bz, "bzImage"
  elseif info.format == "bzImage" then
    local ist = vm_core.stat(image)
    local key = sha256.hex(table.concat({ image, ist.size, ist.mtime }, "\n")):sub(1, 20)
    local out = cache .. "/extracted/" .. key .. ".vmlinux"
    local ok = exists(out)
    if not ok then
      ok, err = locked(cache, function()
        if exists(out) then return true end
        must("mkdir -p " .. q(cache .. "/extracted"), "cannot create " .. cache .. "/extracted")
        local done, why = vm_core.extract_vmlinux(image, out .. ".tmp")
        if done then must("mv " .. q(out .. ".tmp") .. " " .. q(out), "cannot store " .. out) end
        return done, why
      end)
    end
    local ki = ok and vm_core.kernel_info(out)
    if ki and ki.pvh then
      boot = out
    else
      how = "bzImage"
      notes[#notes + 1] = "booting the bzImage directly (" .. (ki and "its vmlinux has no PVH entry note"
        or tostring(err)) .. "): a few seconds slower"
    end
  end
  local tree
  if opts.modules then
    tree = find_tree(opts.modules, info.release)
  else
    local dir = image:match("^(.*)/[^/]*$") or "."
    for _, cand in ipairs({ "/lib/modules/" .. info.release, dir .. "/lib/modules/" .. info.release }) do
      if info.release ~= "" and exists(cand .. "/modules.dep") then tree = cand; break end
    end
    if not tree then
      notes[#notes + 1] = "no module tree for release " .. (info.release ~= "" and info.release or "?")
        .. " (give --modules DIR): only built-in drivers"
    end
  end
  return { kernel = boot, modules = tree, release = info.release, source = image, boot = how, image = image }
end

-- Where the agents' probe cache for this kernel is kept between boots
-- (lnst-vmguest carries it into and out of the guest). k: a prepared kernel.
function M.kinds_cache(k, opts)
  local ks, ms = vm_core.stat(k.kernel), k.modules and vm_core.stat(k.modules .. "/modules.dep")
  local key = sha256.hex(table.concat({ k.kernel, ks and ks.size or 0, ks and ks.mtime or 0, k.modules or "-",
    ms and ms.mtime or 0, modules_key(k.modules, k.release) }, "\n")):sub(1, 20) -- what the guest loads at boot

  return M.cache_dir(opts) .. "/kinds/" .. key
end

-- ------------------------------------------------------------ read-ahead

-- The list of files lnst-vminit reads ahead in the guest while lnst-vmguest
-- starts (src/ctl/vminit.c): the libraries of lnst-vmguest (in reverse,
-- the order the dynamic loader does not take them in) and lnst-agent with
-- its own, which would otherwise each come over 9p page by page as they
-- start. Made once per build of the two (with ldd) and kept in the cache;
-- its path goes on the kernel command line. nil if ldd cannot tell.
function M.readahead_list(guest, agent, opts)
  local gs, as = vm_core.stat(guest), vm_core.stat(agent)
  if not (gs and as) then return nil end
  local cache = M.cache_dir(opts)
  local key = sha256.hex(table.concat({ guest, gs.size, gs.mtime, agent, as.size, as.mtime }, "\n")):sub(1, 20)
  local path = cache .. "/readahead/" .. key
  if exists(path) then return path end
  local function libs(prog)
    local ok, out = run("ldd " .. q(prog))
    if not ok then return nil end
    local list = {}
    for line in out:gmatch("[^\n]+") do
      local file = line:match("=> (/%S+)") or line:match("^%s*(/%S+)")
      if file then list[#list + 1] = file end
    end
    return list
  end
  local glibs, alibs = libs(guest), libs(agent)
  if not (glibs and alibs) then return nil end
  local files, seen = { "/etc/ld.so.cache" }, {}
  for i = #glibs, 1, -1 do files[#files + 1] = glibs[i]; seen[glibs[i]] = true end
  files[#files + 1] = agent
  for _, f in ipairs(alibs) do
    if not seen[f] then files[#files + 1] = f end
  end
  must("mkdir -p " .. q(cache .. "/readahead"), "cannot create " .. cache .. "/readahead")
  write_file(path .. ".tmp", table.concat(files, "\n") .. "\n")
  must("mv -f " .. q(path .. ".tmp") .. " " .. q(path), "cannot store " .. path)
  return path
end

-- ------------------------------------------------------------ entry point

function M.prepare(opts)
  opts = opts or {}
  local cache = M.cache_dir(opts)
  local notes = {}
  local k
  if (opts.kernel or "auto") == "auto" then
    local pkg = resolve_auto(cache)
    local dir, info = fetch_debian(cache, pkg)
    local boot = dir .. "/" .. info.boot
    k = { kernel = boot, modules = dir .. "/" .. info.modules, release = info.release,
      source = "Debian package " .. pkg, boot = info.boot == "vmlinux" and "PVH vmlinux" or "bzImage",
      image = dir .. "/root/boot/vmlinuz-" .. info.release }
    if opts.modules then k.modules = find_tree(opts.modules, info.release) end
  else
    k = user_kernel(opts.kernel, opts, cache, notes)
  end
  k.initrd = M.initramfs(cache, k.modules, k.release)
  k.notes = notes
  return k
end

return M
