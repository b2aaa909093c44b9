-- lnst.image: `lnst image build`, the offline path to the agent and
-- controller images. Nothing is pulled: the root file system is assembled
-- from this machine's installed binaries (lnst-agent, lnst and the test
-- tools), the shared libraries `ldd` lists for them and the few data files
-- they read, packed with tar and imported through the Podman service
-- (POST /images/import), with the image's command set on import. The
-- result is the image container_files/*/Dockerfile build from Debian
-- packages, made from what is installed here instead.
local core = require "lnst.core"
local pc = require "lnst.podman_core"
local podman = require "lnst.podman"

local M = {}

M.AGENT_IMAGE = podman.IMAGE_DEFAULT
M.CONTROLLER_IMAGE = "localhost/lnst-controller:latest"

-- Tools an agent host must have (hello reports them; recipes use them) and
-- tools it gets when this machine has them.
M.AGENT_TOOLS = { "sh", "ip", "ping", "iperf3", "tcpdump", "ethtool", "nft", "tc" }
M.AGENT_EXTRAS = { "bridge", "ss", "sysctl", "ps", "kill", "cat", "echo", "true", "false", "sleep", "head", "tail",
  "ls", "env", "grep", "sed", "seq", "timeout", "mkdir", "rm", "netperf", "netserver", "socat", "ncat",
  "perf", "mpstat" }
M.CONTROLLER_TOOLS = { "sh" }
M.CONTROLLER_EXTRAS = { "cat", "ls", "mkdir", "env", "true", "false", "echo" }
-- Data the tools read at run time (tc's netem tables, iproute2's names).
M.DATA = { "/usr/lib/x86_64-linux-gnu/tc", "/usr/lib/aarch64-linux-gnu/tc", "/usr/lib/tc", "/etc/iproute2" }

local function q(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local function sh(cmd)
  local ok = os.execute(cmd)
  return ok == 0 or ok == true
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

local function is_dir(path)
  return sh("test -d " .. q(path))
end

-- The first executable `name` on PATH (plus the sbin directories).
function M.which(name)
  if name:find("/") then return exists(name) and name or nil end
  local path = (os.getenv("PATH") or "") .. ":/usr/local/sbin:/usr/sbin:/sbin:/usr/local/bin:/usr/bin:/bin"
  for dir in path:gmatch("[^:]+") do
    if sh("test -x " .. q(dir .. "/" .. name) .. " -a -f " .. q(dir .. "/" .. name)) then
      return dir .. "/" .. name
    end
  end
end

local function realdir(path)
  local p = io.popen("readlink -f -- " .. q(path))
  local r = p:read("*l")
  p:close()
  return r
end

-- The shared libraries of a binary (absolute paths), or nil, error.
function M.libraries(bin)
  local p = io.popen("ldd " .. q(bin) .. " 2>&1")
  local out = p:read("*a")
  p:close()
  if out:find("not a dynamic executable") or out:find("statically linked") then return {} end
  local libs = {}
  for line in out:gmatch("[^\n]+") do
    local name, path = line:match("^%s*(%S+) => (%S+)")
    if name and path == "not" then return nil, string.format("%s needs %s, which is not installed", bin, name) end
    if path and path:sub(1, 1) == "/" then libs[#libs + 1] = path
    else
      local loader = line:match("^%s*(/%S+)")
      if loader then libs[#libs + 1] = loader end
    end
  end
  return libs
end

-- A rootfs under dir: merged /usr like Debian 12.
local function skeleton(dir)
  local cmd = "rm -rf -- " .. q(dir) .. " && mkdir -p " .. q(dir) .. " && cd " .. q(dir)
    .. " && mkdir -p usr/bin usr/sbin usr/lib usr/lib64 etc root run/lnst proc sys dev var/tmp usr/share/lnst"
    .. " && mkdir -m 1777 tmp && ln -s usr/bin bin && ln -s usr/sbin sbin && ln -s usr/lib lib"
    .. " && ln -s usr/lib64 lib64"
  if not sh(cmd) then error("image: cannot make the root file system in " .. dir, 0) end
end

-- Copies a file into the rootfs at the real path of its directory (so the
-- merged-/usr links resolve), following symlinks; dest overrides the place.
local function put(root, src, dest, done)
  if not dest then
    local dir = realdir(src:match("^(.*)/[^/]*$"))
    dest = dir .. "/" .. src:match("([^/]+)$")
  end
  if done[dest] then return end
  done[dest] = true
  local cmd = "mkdir -p " .. q(root .. dest:match("^(.*)/[^/]*$")) .. " && cp -L --preserve=mode -- " .. q(src)
    .. " " .. q(root .. dest)
  if not sh(cmd) then error(string.format("image: cannot copy %s into the image", src), 0) end
end

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

-- Accounts and name service files: root, and tcpdump's user (tcpdump drops
-- its privileges to it) when this machine has it.
local function etc_files(root)
  local passwd, group = { "root:x:0:0:root:/root:/bin/sh" }, { "root:x:0:" }
  for _, spec in ipairs { { "/etc/passwd", passwd }, { "/etc/group", group } } do
    local f = io.open(spec[1])
    if f then
      for line in f:lines() do
        if line:match("^tcpdump:") or line:match("^nobody:") or line:match("^nogroup:") then
          spec[2][#spec[2] + 1] = line
        end
      end
      f:close()
    end
  end
  write(root .. "/etc/passwd", table.concat(passwd, "\n") .. "\n")
  write(root .. "/etc/group", table.concat(group, "\n") .. "\n")
  write(root .. "/etc/nsswitch.conf", "passwd: files\ngroup: files\nhosts: files\n")
end

-- The source tree (recipes, container_files): opts.source, the current
-- directory when it is one, else the tree lnst was built from.
local function source_dir(opts)
  for _, d in ipairs { opts.source or false, ".", pc.SOURCE_DIR or false } do
    if d and exists(d .. "/container_files/controller/entrypoint") and is_dir(d .. "/recipes") then
      return realdir(d)
    end
  end
  error("image: cannot find the lnst source tree (container_files/, recipes/): give --source DIR", 0)
end

local function progress(opts, fmt, ...)
  if opts.progress then io.stderr:write("lnst image: ", string.format(fmt, ...), "\n") end
end

-- Assembles the root file system of an image kind ("agent" or
-- "controller") in dir; returns the list of tools it holds.
function M.assemble(kind, dir, opts)
  local done, tools, missing = {}, {}, {}
  skeleton(dir)
  local bins = {}
  local agent = opts.agent or core.agent_path()
  if not exists(agent) then error("image: the agent binary " .. agent .. " does not exist (build lnst first)", 0) end
  bins[#bins + 1] = { agent, "/usr/bin/lnst-agent" }
  if kind == "controller" then
    bins[#bins + 1] = { opts.lnst or pc.self_exe(), "/usr/bin/lnst" }
  end
  -- TLS is a plugin loaded on first use, found next to the binaries
  local tls = agent:gsub("[^/]*$", "") .. "lnst-tls.so"
  if not exists(tls) then error("image: the TLS plugin " .. tls .. " does not exist (build lnst first)", 0) end
  bins[#bins + 1] = { tls, "/usr/bin/lnst-tls.so" }
  local required = kind == "agent" and M.AGENT_TOOLS or M.CONTROLLER_TOOLS
  local extras = kind == "agent" and M.AGENT_EXTRAS or M.CONTROLLER_EXTRAS
  for _, list in ipairs { { required, true }, { extras, false } } do
    for _, name in ipairs(list[1]) do
      local path = M.which(name)
      if path then
        bins[#bins + 1] = { path }
        tools[#tools + 1] = name
      elseif list[2] then
        missing[#missing + 1] = name
      end
    end
  end
  if #missing > 0 then
    error(string.format("image: %s not installed on this machine (apt-get install iproute2 iputils-ping iperf3 "
      .. "tcpdump ethtool nftables dash)", table.concat(missing, ", ")), 0)
  end
  for _, b in ipairs(bins) do
    put(dir, b[1], b[2], done)
    local libs, err = M.libraries(b[1])
    if not libs then error("image: " .. err, 0) end
    for _, lib in ipairs(libs) do put(dir, lib, nil, done) end
  end
  if kind == "agent" then
    for _, d in ipairs(M.DATA) do
      if is_dir(d) then
        local real = realdir(d)
        sh("mkdir -p " .. q(dir .. real) .. " && cp -a -- " .. q(real) .. "/. " .. q(dir .. real))
      end
    end
  else
    local src = source_dir(opts)
    local cmd = "cp -a -- " .. q(src .. "/recipes") .. " " .. q(dir .. "/usr/share/lnst/recipes")
      .. " && mkdir -p " .. q(dir .. "/root/.lnst/pool") .. " " .. q(dir .. "/root/.lnst/results")
      .. " && cp -- " .. q(src .. "/container_files/controller/entrypoint") .. " "
      .. q(dir .. "/usr/bin/lnst-entrypoint")
    if not sh(cmd) then error("image: cannot copy the recipes and the entrypoint from " .. src, 0) end
    local pool = src .. "/container_files/controller/pool"
    if is_dir(pool) then sh("cp -a -- " .. q(pool) .. "/. " .. q(dir .. "/root/.lnst/pool") .. " 2>/dev/null") end
  end
  etc_files(dir)
  return tools
end

-- Builds and imports one image. opts: kind, name, podman_uri, work_dir,
-- timeout, progress. Returns { name, id, size, tools }.
function M.build(opts)
  local kind = opts.kind or "agent"
  local name = opts.name or (kind == "agent" and M.AGENT_IMAGE or M.CONTROLLER_IMAGE)
  local work = opts.work_dir or string.format("%s/lnst-image-%d", os.getenv("TMPDIR") or "/var/tmp", core.getpid())
  local client = podman.connect(opts.podman_uri, opts.timeout or 120)
  local ok, res = pcall(function()
    progress(opts, "assembling the %s root file system in %s", kind, work)
    local dir = work .. "/rootfs-" .. kind
    local tools = M.assemble(kind, dir, opts)
    local tar = work .. "/" .. kind .. ".tar"
    progress(opts, "packing %s", tar)
    if not sh("tar --numeric-owner -C " .. q(dir) .. " -cf " .. q(tar) .. " .") then
      error("image: tar failed for " .. dir, 0)
    end
    local changes
    if kind == "agent" then
      changes = { 'CMD ["lnst-agent","--listen","unix:/run/lnst/agent.sock"]' }
    else
      changes = { 'ENTRYPOINT ["/usr/bin/lnst-entrypoint"]', "WORKDIR /root" }
    end
    changes[#changes + 1] = "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    changes[#changes + 1] = "LABEL lnst.image=" .. kind
    local query = { "reference=" .. name }
    for _, c in ipairs(changes) do
      query[#query + 1] = "changes=" .. c:gsub("[^%w%-_.~]", function(ch) return string.format("%%%02X", ch:byte()) end)
    end
    progress(opts, "importing %s through %s", name, client:uri())
    local st, body, err = client:request("POST", "/images/import?" .. table.concat(query, "&"), nil,
      { upload = tar, timeout = opts.timeout or 300 })
    if st ~= 200 then error(podman.api_error(client, "image: import of " .. name, st, body, err), 0) end
    local ist, info = client:request("GET", "/images/" .. name .. "/json")
    return { name = name, id = body.Id or body.id, size = ist == 200 and info.Size or nil, tools = tools }
  end)
  client:close()
  if not opts.keep then sh("rm -rf -- " .. q(work)) end
  if not ok then error(res, 0) end
  return res
end

return M
