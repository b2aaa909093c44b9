-- lnst.podman: the `podman` provisioner, and the cleanup of crashed runs.
--
-- Every recipe host is a privileged Podman container made from the agent
-- image, created through the Podman service's REST API (lnst.podman_core).
-- Its agent listens on a Unix socket in a directory of this machine that is
-- bind-mounted into the container, so containers need no control network.
-- Every network label is a network of one of three backends:
--   cni       a conflist of our own in /etc/cni/net.d, one bridge per network
--   netavark  an internal Podman network with IPv6 enabled and no IPAM
--   netlink   a bridge in a private fabric namespace of the controller and a
--             veth per NIC created straight in the container's namespace
--             (several NICs of a host may share a network)
-- `auto` takes the service's own backend (GET /info).
--
-- Everything a run creates is named lnst-<runid>-..., carries the labels
-- lnst.run, lnst.machine and lnst.rundir, and is recorded in the run's
-- directory /run/lnst-podman/<runid>, whose lock file the controller holds
-- while it lives. `lnst cleanup` removes what runs that no longer hold their
-- lock left behind.
local core = require "lnst.core"
local pc = require "lnst.podman_core"
local host = require "lnst.host"
local util = require "lnst.util"

local M = {}

M.URI_DEFAULT = pc.URI_DEFAULT
M.IMAGE_DEFAULT = "localhost/lnst-agent:latest"
M.BACKENDS = { "auto", "cni", "netavark", "netlink" }
M.TIMEOUT_DEFAULT = 30
M.SOCKET_DIR = "/run/lnst"          -- inside the container
M.TCP_PORT = 9999                   -- the agent's port in a container reached over TCP
M.CONTROL_NIC = "lnstctl"           -- its NIC on the run's control network
M.PREFIX_PATTERN = "^lnst%-(%x%x%x%x%x%x)%-"

-- Where runs keep their directories and CNI its configs (overridable for
-- tests and for controllers in containers, which mount the same paths).
function M.run_root() return os.getenv("LNST_PODMAN_RUN_DIR") or "/run/lnst-podman" end
function M.cni_dir() return os.getenv("LNST_CNI_DIR") or pc.CNI_DIR end

local P = {}
P.__index = P

-- ---------------------------------------------------------------- helpers

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function random_hex(n)
  local f = assert(io.open("/dev/urandom", "rb"))
  local s = f:read(n)
  f:close()
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

-- This machine's identity (/etc/machine-id, else its host name): runs
-- whose directory is not here were made by this machine (and are gone) or
-- by another one (and are not ours to judge).
function M.machine_id()
  local id = (read_file("/etc/machine-id") or ""):gsub("%s", "")
  if id == "" then id = "host:" .. (read_file("/proc/sys/kernel/hostname") or "unknown"):gsub("%s", "") end
  return id
end

-- Removes a run directory (nothing else: the name must be RUN_ROOT/<id>).
local function remove_run_dir(path)
  local root = M.run_root()
  local rest = path:sub(#root + 2)
  if path:sub(1, #root + 1) == root .. "/" and (rest:match("^%x%x%x%x%x%x$") or rest:match("^%x%x%x%x%x%x%.new$")) then
    pc.remove_tree(path)
  end
end

-- "what: why" for an answer that is not the expected one.
local function api_error(client, what, st, body, err)
  if st == 0 then
    return string.format("%s: cannot reach the Podman service at %s: %s. Start it (podman system service "
      .. "--time 0 %s, or systemctl enable --now podman.socket) or name another with --podman-uri",
      what, client:uri(), err or "no answer", client:uri())
  end
  local msg = type(body) == "table" and (body.message or body.cause) or tostring(body or "")
  return string.format("%s: the Podman service answered %d: %s", what, st, msg)
end
M.api_error = api_error

-- Opens a client and checks that the service answers and speaks libpod 4
-- or later (GET /_ping: cheap, unlike /info and /version, which take a
-- quarter of a second and more). Returns the client | raises.
function M.connect(uri, timeout)
  local client = pc.client(uri or M.URI_DEFAULT, timeout or M.TIMEOUT_DEFAULT)
  local st, body, err, version = client:request("GET", "/_ping")
  if st ~= 200 then
    local msg = api_error(client, "podman", st, body, err)
    client:close()
    error(msg, 0)
  end
  local major = tonumber((version or ""):match("^(%d+)")) or 0
  if major < 4 then
    client:close()
    error(string.format("podman: the service at %s speaks libpod API %s; lnst needs Podman 4 or later",
      uri, version ~= "" and version or "(unknown)"), 0)
  end
  return client
end

-- The service's network backend, "netavark" or "cni": told by the bridge
-- of its default network (podman0 or cni-podman0), else read from /info.
function M.service_backend(client)
  local st, net = client:request("GET", "/networks/podman/json")
  if st == 200 and type(net) == "table" then
    if net.network_interface == "podman0" then return "netavark" end
    if net.network_interface == "cni-podman0" then return "cni" end
  end
  local ist, info, err = client:request("GET", "/info")
  if ist ~= 200 or type(info) ~= "table" then error(api_error(client, "podman: /info", ist, info, err), 0) end
  return info.host and info.host.networkBackend or "cni"
end

-- Demultiplexes a container log stream (8-byte frame headers) to text.
local function log_text(raw)
  if type(raw) ~= "string" then return "" end
  local out, i = {}, 1
  while i + 7 <= #raw do
    local b1, b2, b3, b4 = raw:byte(i + 4, i + 7)
    local n = ((b1 * 256 + b2) * 256 + b3) * 256 + b4
    local kind = raw:byte(i)
    if kind > 2 or raw:byte(i + 1) ~= 0 then return raw end -- not multiplexed
    out[#out + 1] = raw:sub(i + 8, i + 7 + n)
    i = i + 8 + n
  end
  return table.concat(out)
end

-- ---------------------------------------------------------------- options

-- Checks the provisioner options; returns them normalised.
function M.options(opts)
  local o = {
    podman_uri = opts.podman_uri or M.URI_DEFAULT,
    image = opts.image or M.IMAGE_DEFAULT,
    network_backend = opts.network_backend or "auto",
    timeout = opts.podman_timeout or M.TIMEOUT_DEFAULT,
  }
  local ok = false
  for _, b in ipairs(M.BACKENDS) do if b == o.network_backend then ok = true end end
  if not ok then
    error(string.format("podman: unknown network backend '%s' (known: %s)", tostring(o.network_backend),
      table.concat(M.BACKENDS, ", ")), 0)
  end
  if type(o.timeout) ~= "number" or o.timeout <= 0 then
    error(string.format("podman: podman_timeout must be a number of seconds > 0, not %s", tostring(o.timeout)), 0)
  end
  if type(o.podman_uri) ~= "string" or type(o.image) ~= "string" or o.image == "" then
    error("podman: podman_uri and image must be strings", 0)
  end
  -- a malformed URI is told now, not once the run provisions (opening a
  -- client only parses it)
  local opened, client = pcall(pc.client, o.podman_uri, o.timeout)
  if not opened then error("podman: " .. tostring(client):gsub("^[^:]*:%d+: ", ""), 0) end
  client:close()
  return o
end

-- The podman options of `lnst run`/`lnst repl` (strings from main.c) as
-- controller options (empty without --podman); nil, message when wrong.
function M.cli_options(opts)
  local o = {}
  if not opts.podman then
    if opts.podman_uri or opts.image or opts.network_backend or opts.podman_timeout then
      return nil, "--podman-uri, --image, --network-backend and --podman-timeout go with --podman"
    end
    return o
  end
  if opts.pools then
    return nil, "--podman and --pool do not go together: hosts are either containers or pool machines"
  end
  o.provisioner, o.podman_uri, o.image, o.network_backend = "podman", opts.podman_uri, opts.image,
    opts.network_backend
  if opts.podman_timeout then
    o.podman_timeout = tonumber(opts.podman_timeout)
    if not o.podman_timeout or o.podman_timeout <= 0 then
      return nil, string.format("--podman-timeout must be a number of seconds > 0, not '%s'", opts.podman_timeout)
    end
  end
  local ok, err = pcall(M.options, o)
  if not ok then return nil, tostring(err) end
  return o
end

function M.new(opts)
  local o = M.options(opts)
  o.debug, o.log = opts.debug, opts.log
  o.hosts, o.conns, o.containers, o.networks, o.conflists, o.started = {}, {}, {}, {}, {}, {}
  return setmetatable(o, P)
end

-- ---------------------------------------------------------------- provisioning

function P:_say(fmt, ...)
  if self.debug then io.stderr:write("lnst: podman: ", string.format(fmt, ...), "\n") end
end

-- Opens the service, settles the backend (when the recipe has networks)
-- and checks the image.
function P:_open(has_networks)
  local client = M.connect(self.podman_uri, self.timeout)
  self.client = client
  local backend = self.network_backend
  -- a remote service: its containers' agents are reached over TCP (TLS
  -- with a pre-shared key) through a port it publishes; cni and netlink
  -- work on this machine's files and namespaces only
  self.control = client:is_unix() and "unix" or "tcp"
  if self.control == "tcp" and (backend == "cni" or backend == "netlink") then
    error(string.format("podman: network backend %s needs the Podman service on this machine (a unix:// URI); "
      .. "%s is remote: use --network-backend netavark", backend, self.podman_uri), 0)
  end
  if not has_networks then
    backend = backend == "auto" and "no" or backend
  elseif backend ~= "netlink" then
    local have = M.service_backend(client)
    if backend == "auto" then backend = have end
    if have ~= backend then
      error(string.format("podman: network backend %s is not available: the Podman service at %s uses %s "
        .. "(containers.conf [network] network_backend). Use --network-backend %s%s, or restart the "
        .. "service with network_backend = \"%s\"", backend, self.podman_uri, have, have,
        self.control == "unix" and " or netlink" or "", backend), 0)
    end
  end
  self.backend = backend
  local st, body, err = client:request("GET", "/images/" .. self.image .. "/exists")
  if st == 404 then
    error(string.format("podman: image %s is not in the Podman service at %s. Build it offline with "
      .. "`lnst image build --podman-uri %s` or from container_files/agent/Dockerfile "
      .. "(podman build -t %s -f container_files/agent/Dockerfile .)",
      self.image, self.podman_uri, self.podman_uri, self.image), 0)
  elseif st ~= 204 then
    error(api_error(client, "podman: image " .. self.image, st, body, err), 0)
  end
end

-- The run's directory (with its lock held) and id.
function P:_make_run_dir()
  local root = M.run_root()
  local ok, err, code = pc.mkdir(root, tonumber("755", 8))
  if not ok and code ~= "EEXIST" then error("podman: " .. err, 0) end
  for _ = 1, 10 do
    local id = random_hex(3)
    local tmp, dir = root .. "/" .. id .. ".new", root .. "/" .. id
    if not read_file(dir .. "/lock") and pc.mkdir(tmp, tonumber("700", 8)) then
      local lock, lerr = pc.lock(tmp .. "/lock")
      if not lock then error("podman: " .. lerr, 0) end
      if os.rename(tmp, dir) then
        self.runid, self.run_dir, self.lock = id, dir, lock
        self.prefix = "lnst-" .. id .. "-"
        return
      end
      lock:release()
      remove_run_dir(tmp)
    end
  end
  error("podman: cannot create a run directory in " .. root, 0)
end

function P:_labels(extra)
  local l = { ["lnst.run"] = self.runid, ["lnst.machine"] = M.machine_id(), ["lnst.rundir"] = self.run_dir }
  for k, v in pairs(extra or {}) do l[k] = v end
  return l
end

-- Networks in a stable order: { label = { name, bridge, index } }, list.
local function plan_networks(reqs, names, prefix)
  local nets, list = {}, {}
  for _, hname in ipairs(names) do
    for _, nic in ipairs(util.sorted_keys(reqs[hname])) do
      if nic ~= "params" then
        local label = reqs[hname][nic].network
        if not nets[label] then nets[label] = { label = label }; list[#list + 1] = label end
      end
    end
  end
  table.sort(list)
  for i, label in ipairs(list) do
    local n = nets[label]
    n.index = i
    n.name = prefix .. (label:match("^[%w][%w_.%-]*$") and label or ("n" .. i))
    n.bridge = prefix .. i
  end
  return nets, list
end

function P:_create_networks(reqs, names)
  local nets, list = plan_networks(reqs, names, self.prefix)
  self.nets = nets
  if #list > 999 then error("podman: more than 999 networks in one recipe", 0) end
  if self.backend ~= "netlink" then
    -- Podman attaches a container to a network once.
    for _, hname in ipairs(names) do
      local seen = {}
      for _, nic in ipairs(util.sorted_keys(reqs[hname])) do
        if nic ~= "params" then
          local label = reqs[hname][nic].network
          if seen[label] then
            error(string.format("host %s: NICs %s and %s are both on network %s; the %s backend attaches a "
              .. "container to a network once: use --network-backend netlink", hname, seen[label], nic, label,
              self.backend), 0)
          end
          seen[label] = nic
        end
      end
    end
  end
  if self.backend == "netlink" then
    self.fabric = core.fabric()
    for _, label in ipairs(list) do
      nets[label].ifindex = self.fabric:bridge("lnbr" .. nets[label].index)
    end
    return
  end
  if self.backend == "cni" then
    local dir = M.cni_dir()
    for _, label in ipairs(list) do
      local n = nets[label]
      local ok, err = pc.cni_write(dir, n.name, n.bridge, self:_labels { ["lnst.network"] = label })
      if not ok then error(string.format("podman: network %s: %s", label, err), 0) end
      self.conflists[#self.conflists + 1] = n
    end
    -- the service reads the directory on every request: check it sees them
    local reqs_ = {}
    for i, label in ipairs(list) do reqs_[i] = { "GET", "/networks/" .. nets[label].name .. "/json" } end
    for i, r in ipairs(self:_batch(reqs_)) do
      local what = string.format("podman: CNI network %s (%s/%s.conflist)", list[i], dir, nets[list[i]].name)
      if r.status == 404 then
        error(string.format("%s: the Podman service at %s does not see it: it reads its CNI configs from "
          .. "another directory (containers.conf [network] network_config_dir); name that one with "
          .. "LNST_CNI_DIR=DIR", what, self.podman_uri), 0)
      elseif r.status ~= 200 then
        error(api_error(self.client, what, r.status, r.body, r.err), 0)
      end
    end
    return
  end
  -- netavark: internal networks, IPv6 enabled, no IPAM, through the API
  local creates = {}
  for i, label in ipairs(list) do
    local n = nets[label]
    creates[i] = { "POST", "/networks/create", body = {
      name = n.name, driver = "bridge", network_interface = n.bridge, internal = true, ipv6_enabled = true,
      ipam_options = { driver = "none" }, labels = self:_labels { ["lnst.network"] = label },
    } }
  end
  local failed
  for i, r in ipairs(self:_batch(creates)) do
    if r.status == 200 or r.status == 201 then
      self.networks[#self.networks + 1] = nets[list[i]].name
    elseif not failed then
      failed = api_error(self.client, string.format("podman: network %s (%s)", list[i], nets[list[i]].name),
        r.status, r.body, r.err)
    end
  end
  if failed then error(failed, 0) end
end

-- Runs requests at once: the service works on every host's container in
-- parallel.
function P:_batch(reqs)
  return self.client:batch(reqs)
end

-- The agent of a container reached over TCP: it writes the run's key and
-- a config from its environment, then listens with TLS-PSK on all its
-- addresses; the service publishes the port on a port of its host.
M.TCP_AGENT_SCRIPT = 'umask 077 && mkdir -p /tmp/lnst && printf "%s\\n" "$LNST_AGENT_PSK" >/tmp/lnst/psk && '
  .. 'printf "[security]\\nmode = psk\\npsk_file = psk\\n" >/tmp/lnst/agent.conf && '
  .. 'exec lnst-agent --listen 0.0.0.0:' .. M.TCP_PORT .. ' --config /tmp/lnst/agent.conf --once --name "$@"'

function P:_container_body(hname, nics)
  local cname = self.prefix .. hname
  local body = {
    name = cname, image = self.image, hostname = hname, privileged = true,
    labels = self:_labels { ["lnst.host"] = hname },
    stop_timeout = 2,
  }
  local args = { hname }
  if self.debug then args[2] = "-d" end
  if self.control == "unix" then
    body.command = { "lnst-agent", "--listen", "unix:" .. M.SOCKET_DIR .. "/agent.sock", "--once", "--name",
      unpack(args) }
    body.mounts = { { destination = M.SOCKET_DIR, source = self.run_dir .. "/" .. hname, type = "bind",
      options = { "rw" } } }
  else
    body.command = { "sh", "-c", M.TCP_AGENT_SCRIPT, "lnst-agent", unpack(args) }
    body.env = { LNST_AGENT_PSK = self.psk }
    body.portmappings = { { container_port = M.TCP_PORT, host_port = 0, protocol = "tcp" } }
  end
  if self.backend == "netlink" or (#nics == 0 and self.control == "unix") then
    body.netns = { nsmode = "none" }
  else
    body.networks = {}
    for _, nic in ipairs(nics) do
      if nic.name == M.CONTROL_NIC and self.control == "tcp" then
        self:_fail_host(hname, string.format("NIC name %s is the control NIC of container hosts reached over TCP",
          nic.name))
      end
      body.networks[self.nets[nic.network].name] = { interface_name = nic.name }
    end
    if self.control == "tcp" then body.networks[self.control_net] = { interface_name = M.CONTROL_NIC } end
  end
  return body
end

-- The state of containers: { name = inspect } for those that answered.
function P:_inspect(names)
  local reqs = {}
  for i, hname in ipairs(names) do reqs[i] = { "GET", "/containers/" .. self.prefix .. hname .. "/json" } end
  local out = {}
  for i, r in ipairs(self:_batch(reqs)) do
    if r.status == 200 and type(r.body) == "table" then out[names[i]] = r.body end
  end
  return out
end

-- "exited with code 3; its output: ..." for a container that stopped.
function P:_exit_story(hname, state)
  local cname = self.prefix .. hname
  local st, raw = self.client:request("GET", "/containers/" .. cname .. "/logs?stdout=true&stderr=true&tail=20")
  local text = st == 200 and log_text(raw) or ""
  text = text:gsub("%s+$", "")
  local why = string.format("container %s %s (exit code %s)", cname, state.Status or "stopped",
    tostring(state.ExitCode or "?"))
  if state.Error and state.Error ~= "" then why = why .. ": " .. state.Error end
  if text ~= "" then why = why .. "; its last output:\n" .. text end
  return why
end

function P:_fail_host(hname, what)
  error(string.format("host %s (container %s): %s", hname, self.prefix .. hname, what), 0)
end

function P:provision(reqs)
  local names = util.sorted_keys(reqs)
  local t0 = core.now()
  local has_networks = false
  for _, hname in ipairs(names) do
    for nic in pairs(reqs[hname]) do if nic ~= "params" then has_networks = true end end
  end
  self:_open(has_networks)
  self:_make_run_dir()
  self:_say("run %s, backend %s, image %s, agents over %s", self.runid, self.backend, self.image, self.control)
  if self.control == "tcp" then self:_control_network() end
  self:_create_networks(reqs, names)
  -- containers
  local nics_of, creates = {}, {}
  for i, hname in ipairs(names) do
    local nics = {}
    for _, nic in ipairs(util.sorted_keys(reqs[hname])) do
      if nic ~= "params" then nics[#nics + 1] = { name = nic, network = reqs[hname][nic].network } end
    end
    nics_of[hname] = nics
    if self.control == "unix" then
      local dir = self.run_dir .. "/" .. hname
      if #(dir .. "/agent.sock") > 107 then
        error(string.format("host %s: the socket path %s/agent.sock is too long for a Unix socket", hname, dir), 0)
      end
      local ok, err = pc.mkdir(dir, tonumber("700", 8))
      if not ok then error(string.format("host %s: %s", hname, err), 0) end
    end
    creates[i] = { "POST", "/containers/create", body = self:_container_body(hname, nics) }
  end
  local failed
  for i, r in ipairs(self:_batch(creates)) do
    if r.status == 201 or r.status == 200 then
      self.containers[#self.containers + 1] = self.prefix .. names[i]
    elseif not failed then
      failed = { names[i], r }
    end
  end
  if failed then
    local r = failed[2]
    self:_fail_host(failed[1], api_error(self.client, "cannot create the container", r.status, r.body, r.err))
  end
  local starts = {}
  for i, hname in ipairs(names) do starts[i] = { "POST", "/containers/" .. self.prefix .. hname .. "/start" } end
  for i, r in ipairs(self:_batch(starts)) do
    if r.status ~= 204 and r.status ~= 304 then
      self:_fail_host(names[i], api_error(self.client, "cannot start the container", r.status, r.body, r.err))
    end
    self.started[names[i]] = true
  end
  local info = self:_inspect(names)
  local pids, ports = {}, {}
  for _, hname in ipairs(names) do
    local st = info[hname] and info[hname].State
    if not st then self:_fail_host(hname, "cannot inspect the container") end
    if st.Status ~= "running" then self:_fail_host(hname, self:_exit_story(hname, st)) end
    pids[hname] = st.Pid
    if self.control == "tcp" then
      local b = ((info[hname].NetworkSettings or {}).Ports or {})[M.TCP_PORT .. "/tcp"]
      ports[hname] = tonumber(b and b[1] and b[1].HostPort)
      if not ports[hname] then self:_fail_host(hname, "the service published no port for its agent") end
    end
  end
  self.pids, self.ports = pids, ports
  for _, hname in ipairs(names) do
    self.command = self.command or M.service_command(info[hname].State.ConmonPid)
  end
  if self.backend == "netlink" then self:_wire(names, nics_of, info, t0 + self.timeout) end
  if self.control == "unix" then self:_connect(names, t0) else self:_connect_tcp(names, ports, t0) end
  local hosts, match = self:_map(names, nics_of)
  self:_watch()
  return hosts, match
end

-- Watches the service for the rest of the run: a stream of this run's
-- events (few), which ends when the service goes. Then every wait ends
-- with the error, and cleanup removes what it can without the service.
function P:_watch()
  local filters = string.format('{"label":["lnst.run=%s"]}', self.runid)
  local w, err = self.client:watch("/events?stream=true&filters=" .. filters:gsub("[^%w_.%-]", function(c)
    return string.format("%%%02X", c:byte())
  end), string.format("podman: the Podman service at %s went away during the run: its event stream ended",
    self.podman_uri))
  if not w then
    io.stderr:write(string.format("lnst: podman: warning: cannot watch the Podman service at %s (%s): if it "
      .. "goes away, the run notices only when it cleans up\n", self.podman_uri, err))
  end
  self.watch = w
end

-- A remote service: the run's key (TLS-PSK; its identity names the run)
-- and a control network whose published ports reach the agents.
function P:_control_network()
  local key = string.format("lnst-%s:%s", self.runid, random_hex(32))
  self.psk_file = self.run_dir .. "/psk"
  local ok, err = pc.write_private(self.psk_file, key .. "\n")
  if not ok then error("podman: " .. err, 0) end
  self.psk = key
  self.control_net = self.prefix .. "-ctl" -- no label makes a name starting with '-'
  local st, body, rerr = self.client:request("POST", "/networks/create", {
    name = self.control_net, driver = "bridge", network_interface = self.prefix .. "c",
    labels = self:_labels { ["lnst.network"] = "(control)" },
  })
  if st ~= 200 and st ~= 201 then
    error(api_error(self.client, "podman: the control network " .. self.control_net, st, body, rerr), 0)
  end
  self.networks[#self.networks + 1] = self.control_net
end

-- Connects to every agent over TCP once it listens (a refused connection
-- is retried) and sends hello; watches the containers meanwhile. Bounded by
-- the timeout from t0.
function P:_connect_tcp(names, ports, t0)
  local deadline = t0 + self.timeout
  local host_addr = self.client:host()
  self.hello = {}
  local pending, why = {}, {}
  -- a connection and its hello; a refused one is noted and closed
  local function open(hname)
    local conn = core.connect_agent { name = hname, host = host_addr, port = ports[hname], security = "psk",
      psk_file = self.psk_file, timeout = math.max(1, math.min(10, self.timeout)),
      what = "agent of container " .. self.prefix .. hname }
    local ok, id = pcall(conn.send, conn, "hello")
    if ok then pending[hname] = { conn = conn, id = id }; return end
    why[hname] = conn:lost() or tostring(id)
    conn:close()
    pending[hname] = { retry = true }
  end
  for _, hname in ipairs(names) do open(hname) end
  local next_check = core.now() + 0.25
  while next(pending) do
    for _, hname in ipairs(names) do
      local p = pending[hname]
      if p and p.retry then
        open(hname)
      elseif p then
        local ok, answered, hello, msg = pcall(p.conn.wait, p.conn, p.id, 0.05)
        if ok and answered then
          self.conns[hname], self.hello[hname], pending[hname] = p.conn, hello, nil
        elseif ok then
          self:_fail_host(hname, string.format("hello failed: %s (%s)", msg, hello))
        elseif p.conn:lost() then
          -- not listening yet (or refused): try again
          why[hname] = p.conn:lost()
          p.conn:close()
          open(hname)
        end
      end
    end
    local now = core.now()
    if next(pending) and now >= deadline then
      local late = {}
      for _, hname in ipairs(names) do if pending[hname] then late[#late + 1] = hname end end
      for _, p in pairs(pending) do if p.conn then p.conn:close() end end
      self:_fail_host(late[1], string.format("its agent did not answer on %s:%d within %g s (last: %s)",
        host_addr, ports[late[1]], self.timeout, why[late[1]] or "no answer"))
    end
    if next(pending) and now >= next_check then
      next_check = now + 0.25
      local left = {}
      for _, hname in ipairs(names) do if pending[hname] then left[#left + 1] = hname end end
      local info = self:_inspect(left)
      for _, hname in ipairs(left) do
        local st = info[hname] and info[hname].State
        if st and st.Status ~= "running" then self:_fail_host(hname, self:_exit_story(hname, st)) end
      end
    end
    if next(pending) then core.sleep(0.02) end
  end
end

-- Whether this controller sees the network namespace of process pid (the
-- process lives, in this controller's PID namespace).
local function netns_visible(pid)
  local f = io.open("/proc/" .. pid .. "/ns/net")
  if f then f:close() end
  return f ~= nil
end

-- Whether process pid is a conmon (Podman's container monitor) here: then
-- this controller sees the processes of the Podman service.
local function is_conmon(pid)
  local comm = type(pid) == "number" and pid > 0 and read_file("/proc/" .. pid .. "/comm")
  return comm and comm:gsub("%s+$", "") == "conmon" or false
end

-- The podman command line with the service's own storage, network and
-- runtime options, as the service gives it to the monitor (conmon) of
-- each container for `podman container cleanup`: { "/usr/bin/podman",
-- "--root", "/var/lib/containers/storage", ... }, or nil when the monitor
-- is not visible from here (a remote service, a controller in a container).
-- With it, cleanup removes the run's containers and networks when the
-- service is gone.
function M.service_command(conmon)
  if not is_conmon(conmon) then return nil end
  local args = {}
  for a in (read_file("/proc/" .. conmon .. "/cmdline") or ""):gmatch("([^%z]*)%z") do args[#args + 1] = a end
  local cmd = {}
  for i = 1, #args - 1 do
    if args[i] == "--exit-command" then
      cmd[1] = args[i + 1]
    elseif args[i] == "--exit-command-arg" and cmd[1] then
      if args[i + 1] == "container" then break end -- "container cleanup ID": the options are over
      cmd[#cmd + 1] = args[i + 1]
    end
  end
  if not (cmd[1] and cmd[1]:match("^/")) then return nil end
  return cmd
end

-- Runs argv (no input); returns whether it exited 0, and its output.
local function run_command(argv)
  local q = {}
  for i, a in ipairs(argv) do q[i] = "'" .. a:gsub("'", "'\\''") .. "'" end
  local f = io.popen(table.concat(q, " ") .. " </dev/null 2>&1; echo \"__lnst_rc=$?\"")
  if not f then return false, "cannot run " .. argv[1] end
  local out = f:read("*a")
  f:close()
  local rc = tonumber(out:match("__lnst_rc=(%d+)%s*$"))
  return rc == 0, (out:gsub("__lnst_rc=%d+%s*$", ""):gsub("%s+$", ""))
end

-- Cleanup without the service (it did not answer: why): removes the run's
-- containers and networks with the service's podman command line
-- (M.service_command). Appends what it did, or could not do, to problems.
function P:_remove_without_service(containers, networks, why, problems)
  local what = {}
  for _, n in ipairs(containers) do what[#what + 1] = "container " .. n end
  for _, n in ipairs(networks) do what[#what + 1] = "network " .. n end
  local gone = string.format("the Podman service at %s did not answer (%s)", self.podman_uri, why)
  if not self.command then
    problems[#problems + 1] = string.format("%s, and its podman command line is not known here (no container "
      .. "monitor of it is visible from this controller): left %s; `lnst cleanup --podman-uri %s` removes them "
      .. "once the service is back", gone, table.concat(what, ", "), self.podman_uri)
    return
  end
  local failed = {}
  local function run(args, list)
    if #list == 0 then return end
    local argv = { unpack(self.command) }
    for _, a in ipairs(args) do argv[#argv + 1] = a end
    for _, a in ipairs(list) do argv[#argv + 1] = a end
    local ok, out = run_command(argv)
    if not ok then failed[#failed + 1] = string.format("%s %s: %s", argv[1], table.concat(args, " "), out) end
  end
  run({ "rm", "--force", "--ignore", "--time", "0" }, containers)
  run({ "network", "rm", "--force" }, networks)
  if #failed == 0 then
    problems[#problems + 1] = string.format("%s: removed %s with %s instead", gone, table.concat(what, ", "),
      self.command[1])
  else
    problems[#problems + 1] = string.format("%s, and removing %s with the podman command failed: %s", gone,
      table.concat(what, ", "), table.concat(failed, "; "))
  end
end

-- Raises with the container's story when it stopped or is gone; returns
-- when it still runs. Its process may have died a moment ago: Podman learns
-- of an exit only once the container's conmon has written the exit file (a
-- while after the process died on a loaded machine) and says "running"
-- until then. So while the process is gone and its conmon is there, this
-- waits for Podman to tell (up to the deadline); a conmon gone has written
-- the file, so one more look tells.
function P:_fail_if_stopped(hname, pid, conmon, deadline)
  local cname = self.prefix .. hname
  local function state()
    local st, body, err = self.client:request("GET", "/containers/" .. cname .. "/json")
    if st == 404 then self:_fail_host(hname, "the container was removed while the run was setting it up") end
    if st ~= 200 or type(body) ~= "table" then
      self:_fail_host(hname, api_error(self.client, "cannot inspect the container", st, body, err))
    end
    return body.State
  end
  local st = state()
  while st.Status == "running" and not netns_visible(pid) and is_conmon(conmon) and core.now() < deadline do
    core.sleep(0.05)
    st = state()
  end
  if st.Status == "running" and not netns_visible(pid) and not is_conmon(conmon) then st = state() end
  if st.Status ~= "running" then self:_fail_host(hname, self:_exit_story(hname, st)) end
end

-- netlink backend: a veth per NIC, its fabric end on the network's bridge,
-- its other end created in the container's namespace under the NIC's name.
-- info: the containers' inspection after their start.
function P:_wire(names, nics_of, info, deadline)
  local v = 0
  for _, hname in ipairs(names) do
    local pid, conmon = info[hname].State.Pid, info[hname].State.ConmonPid
    if not netns_visible(pid) then
      self:_fail_if_stopped(hname, pid, conmon, deadline)
      if is_conmon(conmon) then
        self:_fail_host(hname, string.format("its process %d is gone, but the Podman service still says the "
          .. "container runs after %g s", pid, self.timeout))
      end
      self:_fail_host(hname, string.format("its process %d is not visible from this controller: the netlink "
        .. "backend needs the controller in the machine's PID namespace (podman run --pid=host) or use "
        .. "--network-backend cni|netavark", pid))
    end
    for _, nic in ipairs(nics_of[hname]) do
      v = v + 1
      nic.fabric_end = "lnv" .. v
      local ok, err = pcall(self.fabric.veth, self.fabric, nic.fabric_end, self.nets[nic.network].ifindex,
        pid, nic.name)
      if not ok then
        self:_fail_if_stopped(hname, pid, conmon, deadline)
        self:_fail_host(hname, tostring(err))
      end
    end
  end
end

-- Connects to every agent as soon as its socket is there and sends hello;
-- watches the containers meanwhile. Bounded by the timeout from t0.
function P:_connect(names, t0)
  local deadline = t0 + self.timeout
  local pending, hello_ids, n = {}, {}, #names
  for _, hname in ipairs(names) do pending[hname] = true end
  local next_check = core.now() + 0.25
  while n > 0 do
    for _, hname in ipairs(names) do
      if pending[hname] then
        local conn, code, msg = core.connect_unix(self.run_dir .. "/" .. hname .. "/agent.sock", hname)
        if conn then
          pending[hname] = nil
          n = n - 1
          self.conns[hname] = conn
          hello_ids[hname] = conn:send("hello")
        elseif code ~= "ENOENT" and code ~= "ECONNREFUSED" then
          self:_fail_host(hname, "cannot connect to its agent: " .. msg)
        end
      end
    end
    if n == 0 then break end
    local now = core.now()
    if now >= deadline then
      local late = {}
      for _, hname in ipairs(names) do if pending[hname] then late[#late + 1] = hname end end
      self:_fail_host(late[1], string.format("its agent did not listen on %s/agent.sock within %g s%s",
        M.SOCKET_DIR, self.timeout, #late > 1 and (" (nor did " .. table.concat(late, ", ", 2) .. ")") or ""))
    end
    if now >= next_check then
      next_check = now + 0.25
      local left = {}
      for _, hname in ipairs(names) do if pending[hname] then left[#left + 1] = hname end end
      local info = self:_inspect(left)
      for _, hname in ipairs(left) do
        local st = info[hname] and info[hname].State
        if st and st.Status ~= "running" then self:_fail_host(hname, self:_exit_story(hname, st)) end
      end
    end
    core.sleep(0.005)
  end
  self.hello = {}
  for _, hname in ipairs(names) do
    local conn = self.conns[hname]
    local left = math.max(deadline - core.now(), 0.1)
    local ok, answered, hello, msg = pcall(conn.wait, conn, hello_ids[hname], left)
    if not ok then
      self:_fail_host(hname, string.format("its agent did not answer hello within %g s (%s)", self.timeout,
        tostring(answered)))
    end
    if not answered then self:_fail_host(hname, string.format("hello failed: %s (%s)", msg, hello)) end
    self.hello[hname] = hello
  end
end

-- A conn whose pid() is the container's agent (for nsenter), for host.new.
local Conn = {}
function Conn.__index(w, k)
  if k == "pid" then return Conn.pid end
  local inner = rawget(w, "_c")
  local f = inner[k]
  if type(f) ~= "function" then return f end
  local m = function(_, ...) return f(inner, ...) end
  rawset(w, k, m)
  return m
end
function Conn.pid(w) return rawget(w, "_pid") end

function P:_map(names, nics_of)
  local match, map_ids = {}, {}
  for _, hname in ipairs(names) do
    local tcp = self.control == "tcp"
    local conn = setmetatable({ _c = self.conns[hname], _pid = tcp and 0 or self.pids[hname] }, Conn)
    local target = string.format("podman container %s (image %s, %s networks, agent %s)",
      self.prefix .. hname, self.image, self.backend, tcp and string.format("at %s:%d over TLS-PSK",
        self.client:host(), self.ports[hname]) or ("pid " .. self.pids[hname]))
    local h = host.new(hname, conn, self.hello[hname], { target = target, log = self.log })
    self.hosts[hname] = h
    map_ids[hname] = {}
    for _, nic in ipairs(nics_of[hname]) do map_ids[hname][nic.name] = conn:send("dev.map", { name = nic.name }) end
  end
  for _, hname in ipairs(names) do
    local h = self.hosts[hname]
    local m = { host = hname, target = h.target, nics = {} }
    for _, nic in ipairs(nics_of[hname]) do
      local ok, dev, msg = h.conn:wait(map_ids[hname][nic.name], self.timeout)
      if not ok then self:_fail_host(hname, string.format("cannot map NIC %s: %s (%s)", nic.name, msg, dev)) end
      h._devs[dev.ifindex] = dev
      rawget(h, "nics")[nic.name] = h:device(dev.ifindex)
      -- netlink backend: the wire's far end takes what the NIC may send
      if nic.fabric_end then
        h:_follow_mtu(dev.ifindex, function(mtu) self.fabric:mtu(nic.fabric_end, mtu) end)
      end
      local net = self.nets[nic.network]
      m.nics[#m.nics + 1] = { name = nic.name, target = string.format("%s (network %s: %s)", nic.name,
        nic.network, self.backend == "netlink" and "fabric bridge" or ("podman network " .. net.name)) }
    end
    match[#match + 1] = m
  end
  -- from now on, losing any host's agent ends the run at once (as for
  -- pool machines and netns hosts)
  for _, conn in pairs(self.conns) do conn:critical(true) end
  return self.hosts, match
end

-- ---------------------------------------------------------------- cleanup

-- Removes containers (killing them); one that is just stopping on its own
-- (its agent said bye and stopped, --once) cannot be killed for a moment:
-- retried for up to 3 s. Appends failures to problems; those the service
-- did not answer for go to unanswered instead when it is given (a list:
-- the names, and unanswered.why).
function M.remove_containers(client, names, problems, unanswered)
  local left = names
  for attempt = 1, 30 do
    local dels = {}
    for i, cname in ipairs(left) do dels[i] = { "DELETE", "/containers/" .. cname .. "?force=true&timeout=0" } end
    local again = {}
    for i, r in ipairs(client:batch(dels)) do
      if r.status ~= 200 and r.status ~= 404 then
        if r.status == 500 and attempt < 30 then
          again[#again + 1] = left[i]
        elseif r.status == 0 and unanswered then
          unanswered[#unanswered + 1] = left[i]
          unanswered.why = unanswered.why or r.err
        else
          problems[#problems + 1] = api_error(client, "cannot remove container " .. left[i], r.status, r.body, r.err)
        end
      end
    end
    if #again == 0 then return end
    left = again
    core.sleep(0.1)
  end
end

-- Why hosts lost their agents during the run: a container that stopped
-- (killed, its agent crashed) is told with its exit code and last output,
-- so the run's record names the container and what happened to it. Podman
-- learns of an exit a moment after it (its monitor writes the exit file):
-- a container it still says runs is asked again for up to 3 s.
function P:_lost_stories(problems)
  local lost = {}
  for name, conn in pairs(self.conns) do if conn:lost() then lost[#lost + 1] = name end end
  if #lost == 0 or not self.client then return end
  table.sort(lost)
  local deadline = core.now() + 3
  while #lost > 0 do
    local ok, info = pcall(self._inspect, self, lost)
    if not ok then return end
    local running = {}
    for _, hname in ipairs(lost) do
      local st = info[hname] and info[hname].State
      if st and st.Status ~= "running" then
        local sok, story = pcall(self._exit_story, self, hname, st)
        if sok then
          problems[#problems + 1] = string.format("host %s (container %s) lost its agent: %s", hname,
            self.prefix .. hname, story)
        end
      elseif st then
        running[#running + 1] = hname
      end
    end
    lost = running
    if #lost == 0 or core.now() >= deadline then return end
    core.sleep(0.1)
  end
end

-- Ends the run on every host, removes its containers, networks, conflists,
-- bridges and run directory. Never raises; returns a list of problems.
function P:cleanup()
  local problems = {}
  local function try(what, f, ...)
    local ok, err = pcall(f, ...)
    if not ok then problems[#problems + 1] = what .. ": " .. tostring(err) end
  end
  -- bye: each agent undoes its changes and (--once) stops
  if self.watch then self.watch:close(); self.watch = nil end
  for _, conn in pairs(self.conns) do conn:critical(false) end
  self:_lost_stories(problems)
  local ids = {}
  for name, conn in pairs(self.conns) do
    if not conn:lost() then
      local ok, id = pcall(conn.send, conn, "bye")
      if ok then ids[name] = id end
    end
  end
  for name, id in pairs(ids) do
    local ok, res, code, msg = pcall(self.conns[name].wait, self.conns[name], id, 10)
    if not ok then problems[#problems + 1] = tostring(res)
    elseif not res then problems[#problems + 1] = string.format("host %s: bye failed: %s (%s)", name, msg, code) end
  end
  for _, conn in pairs(self.conns) do conn:close() end
  self.conns = {}
  if self.client then
    local left = {} -- containers the service did not answer for (it is gone)
    local ok, err = pcall(M.remove_containers, self.client, self.containers, problems, left)
    if not ok then problems[#problems + 1] = tostring(err) end
    self.containers = {}
    local nets, left_nets = {}, {}
    for i, name in ipairs(self.networks) do nets[i] = { "DELETE", "/networks/" .. name .. "?force=true" } end
    local nok, res = pcall(self._batch, self, nets)
    if not nok then problems[#problems + 1] = tostring(res) end
    for i, r in ipairs(nok and res or {}) do
      if r.status == 0 then
        left_nets[#left_nets + 1] = self.networks[i]
        left.why = left.why or r.err
      elseif r.status ~= 200 and r.status ~= 404 then
        problems[#problems + 1] = api_error(self.client, "cannot remove network " .. self.networks[i],
          r.status, r.body, r.err)
      end
    end
    self.networks = {}
    if #left > 0 or #left_nets > 0 then
      self:_remove_without_service(left, left_nets, left.why or "no answer", problems)
    end
  end
  for _, n in ipairs(self.conflists) do
    local ok, err = pc.cni_remove(M.cni_dir(), n.name)
    if not ok then problems[#problems + 1] = err end
    local bok, berr, code = pc.bridge_del(n.bridge)
    if not bok and code ~= "ENODEV" then problems[#problems + 1] = berr end
  end
  self.conflists = {}
  if self.fabric then try("fabric", self.fabric.close, self.fabric); self.fabric = nil end
  if self.run_dir then
    remove_run_dir(self.run_dir)
    if self.lock then self.lock:release(); self.lock = nil end
    self.run_dir = nil
  end
  if self.client then self.client:close(); self.client = nil end
  return problems
end

-- ---------------------------------------------------------------- lnst cleanup

-- Whether the run `id` is alive: "alive", "dead", "foreign" (a run of
-- another machine, whose state this machine cannot see) or "elsewhere" (a
-- dead run of this machine that kept its directory under another run root,
-- LNST_PODMAN_RUN_DIR: that root's cleanup removes it). machine and rundir:
-- the object's lnst.machine and lnst.rundir labels (nil for this machine's
-- own links, and for objects of runs made before lnst.rundir). A run's lock
-- is probed where the run keeps it, so that a cleanup of one run root does
-- not take the live runs of another for dead ones.
local function run_state(id, machine, rundir)
  local own = M.run_root() .. "/" .. id
  local lock = pc.probe_lock(own .. "/lock")
  if lock == "held" then return "alive" end
  if lock == "free" then return "dead" end
  if machine ~= nil and machine ~= M.machine_id() then return "foreign" end
  if type(rundir) == "string" and rundir ~= own and rundir:match("^/.+/(%x+)$") == id then
    return pc.probe_lock(rundir .. "/lock") == "held" and "alive" or "elsewhere"
  end
  return "dead"
end

-- Removes what crashed runs left behind. opts: podman_uri, all (also runs
-- of other controller machines and of other run roots), dry_run. Returns
-- removed (list of "what name"), skipped (list of strings) and problems
-- (list of strings). Order:
-- containers, then this machine's conflists and bridges (our own files: the
-- service forgets a CNI network with its file), then the service's
-- networks, then run directories.
function M.cleanup_leftovers(opts)
  local removed, skipped, problems = {}, {}, {}
  local function note(what, name) removed[#removed + 1] = what .. " " .. name end
  local labelled = {} -- run id -> { machine, rundir } from its labelled objects
  local function decide(what, name, id, machine, rundir)
    if (machine or rundir) and not labelled[id] then labelled[id] = { machine, rundir } end
    local st = run_state(id, machine, rundir)
    if st == "alive" then
      skipped[#skipped + 1] = string.format("%s %s (run %s is alive)", what, name, id)
      return false
    end
    if st == "foreign" and not opts.all then
      skipped[#skipped + 1] = string.format("%s %s (run %s of controller machine %s; --all removes it)",
        what, name, id, tostring(machine))
      return false
    end
    if st == "elsewhere" and not opts.all then
      skipped[#skipped + 1] = string.format("%s %s (run %s keeps its directory %s, under another run root; "
        .. "--all removes it)", what, name, id, rundir)
      return false
    end
    note(what, name)
    return not opts.dry_run
  end
  local function listing(client, what, path)
    local st, list, err = client:request("GET", path .. "filters=%7B%22label%22%3A%5B%22lnst.run%22%5D%7D")
    if st == 200 and type(list) == "table" then return list end
    problems[#problems + 1] = api_error(client, "listing " .. what, st, list, err)
    return {}
  end
  local ok, client = pcall(M.connect, opts.podman_uri, opts.timeout)
  if not ok then
    problems[#problems + 1] = tostring(client)
    client = nil
  end
  if client then
    local names = {}
    for _, c in ipairs(listing(client, "containers", "/containers/json?all=true&")) do
      local name = c.Names and c.Names[1] or c.Id
      local labels = c.Labels or {}
      local id = labels["lnst.run"]
      if id and name:match(M.PREFIX_PATTERN)
          and decide("container", name, id, labels["lnst.machine"], labels["lnst.rundir"]) then
        names[#names + 1] = name
      end
    end
    M.remove_containers(client, names, problems)
  end
  -- this machine: conflists and their bridges
  local dir = M.cni_dir()
  local bridges_done = {}
  local files, err = pc.cni_list(dir, "lnst-")
  if not files then problems[#problems + 1] = err; files = {} end
  for _, name in ipairs(files) do
    local id = name:match(M.PREFIX_PATTERN)
    local info = id and pc.cni_read(dir, name)
    local labels = info and info.labels or {}
    if id and decide("CNI config", dir .. "/" .. name .. ".conflist", id, labels["lnst.machine"],
        labels["lnst.rundir"]) then
      local rok, rerr = pc.cni_remove(dir, name)
      if not rok then problems[#problems + 1] = rerr end
      if info and info.bridge then
        local bok, berr, code = pc.bridge_del(info.bridge)
        if bok then note("bridge", info.bridge); bridges_done[info.bridge] = true
        elseif code ~= "ENODEV" then problems[#problems + 1] = berr end
      end
    end
  end
  if client then
    local dels = {}
    for _, n in ipairs(listing(client, "networks", "/networks/json?")) do
      local labels = n.labels or {}
      local id = labels["lnst.run"]
      if id and n.name:match(M.PREFIX_PATTERN)
          and decide("network", n.name, id, labels["lnst.machine"], labels["lnst.rundir"]) then
        dels[#dels + 1] = { "DELETE", "/networks/" .. n.name .. "?force=true" }
      end
    end
    for i, r in ipairs(client:batch(dels)) do
      if r.status ~= 200 and r.status ~= 404 then
        problems[#problems + 1] = api_error(client, "removing " .. dels[i][2], r.status, r.body, r.err)
      end
    end
    client:close()
  end
  -- bridges of runs that are gone (CNI's, or netavark's if it left one);
  -- a bridge has no labels: the run's other objects tell its state
  for _, name in ipairs(pc.links("lnst-") or {}) do
    local id = name:match(M.PREFIX_PATTERN)
    local l = labelled[id] or {}
    if id and not bridges_done[name] and decide("bridge", name, id, l[1], l[2]) then
      local bok, berr, code = pc.bridge_del(name)
      if not bok and code ~= "ENODEV" then problems[#problems + 1] = berr end
    end
  end
  local root = M.run_root()
  for _, entry in ipairs(pc.list_dir(root) or {}) do
    local id = entry:match("^(%x%x%x%x%x%x)$") or entry:match("^(%x%x%x%x%x%x)%.new$")
    if id and pc.probe_lock(root .. "/" .. entry .. "/lock") ~= "held" then
      note("run directory", root .. "/" .. entry)
      if not opts.dry_run then remove_run_dir(root .. "/" .. entry) end
    end
  end
  return removed, skipped, problems
end

return M
