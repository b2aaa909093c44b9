-- lnst.agents: the `agents` provisioner: recipe hosts on real machines.
--
-- Machines run `lnst-agent --listen` and are described by pool files
-- (core.pool_load). The provisioner loads the pools, maps the recipe onto
-- them (lnst.mapper), connects to every mapped agent at once over TCP with
-- TLS (psk or cert, from the pool file and the controller config), checks
-- their hello (protocol version, not busy), maps each recipe NIC to the
-- machine's NIC by MAC, and at the end says `bye` to each agent, which
-- undoes the run there. Nothing is touched on any machine until every agent
-- has answered hello, so a mapping or connection failure leaves all of them
-- as they were.
--
-- Also here: the controller configuration (load_config), pool resolution
-- (load_pools), and what `lnst pool list` and `lnst pool check` do.
local core = require "lnst.core"
local host = require "lnst.host"
local mapper = require "lnst.mapper"
local util = require "lnst.util"

local M = {}
local P = {}
P.__index = P

M.DEFAULT_TIMEOUT = 10

local function exists(path)
  local f = io.open(path, "r")
  if f then f:close() end
  return f ~= nil
end

-- The controller configuration: `path` if given (it must exist), else
-- $LNST_CONFIG, else /etc/lnst/lnst.conf then ~/.lnst/lnst.conf (the
-- later file's options win; pools accumulate, a later pool of the same name
-- replaces the earlier).
function M.load_config(path)
  local files, must
  local env = os.getenv("LNST_CONFIG")
  if path then files, must = { path }, true
  elseif env and env ~= "" then files, must = { env }, true
  else files, must = { "/etc/lnst/lnst.conf", (os.getenv("HOME") or "/root") .. "/.lnst/lnst.conf" }, false end
  local cfg = { environment = {}, security = {}, pools = {}, files = {} }
  for _, f in ipairs(files) do
    if must or exists(f) then
      local c, err = core.config_load(f, "controller")
      if not c then error("config " .. err, 0) end
      cfg.files[#cfg.files + 1] = c.file
      for _, sec in ipairs({ "environment", "security" }) do
        for k, v in pairs(c[sec] or {}) do cfg[sec][k] = v end
      end
      for _, p in ipairs(c.pools or {}) do
        local replaced = false
        for i, q in ipairs(cfg.pools) do
          if q.name == p.name then cfg.pools[i], replaced = p, true end
        end
        if not replaced then cfg.pools[#cfg.pools + 1] = p end
      end
    end
  end
  return cfg
end

local function basename(dir)
  return (dir:gsub("/+$", ""):match("([^/]+)$")) or dir
end

-- Pools to use: each spec is a pool name from the config or a directory;
-- no spec means every pool of the config. Loaded and validated; an invalid
-- pool is an error naming its files and lines.
function M.load_pools(specs, cfg)
  local list = {}
  if not specs or #specs == 0 then
    for _, p in ipairs(cfg.pools) do list[#list + 1] = { name = p.name, dir = p.dir } end
  else
    for _, s in ipairs(specs) do
      local named
      for _, p in ipairs(cfg.pools) do
        if p.name == s then named = p end
      end
      if named and not s:find("/") then
        list[#list + 1] = { name = named.name, dir = named.dir }
      else
        list[#list + 1] = { name = basename(s), dir = s }
      end
    end
  end
  local pools = {}
  for _, p in ipairs(list) do
    local loaded, err = core.pool_load(p.dir)
    if not loaded then
      error(string.format("pool %s: %s", p.name, err), 0)
    end
    pools[#pools + 1] = { name = p.name, dir = loaded.dir, machines = loaded.machines }
  end
  return pools
end

-- Every match of the recipe's hosts (multimatch), or the first; raises the
-- mapper's explanation when there is none.
function M.matches(reqs, opts)
  local cfg = opts.config or M.load_config(opts.config_file)
  local pools = M.load_pools(opts.pools, cfg)
  local found, why = mapper.match(reqs, pools, { multimatch = opts.multimatch })
  if not found then error(why, 0) end
  return found, cfg
end

-- core.connect_agent options for machine m, or raises naming the pool file.
local function connect_opts(name, m, cfg, timeout)
  local sec = m.security or { mode = "none" }
  local port = m.params.rpc_port and m.port or cfg.environment.rpcport or m.port
  local o = { name = name, what = "agent " .. m.id, host = m.hostname, port = port, security = sec.mode,
    timeout = timeout }
  if sec.mode == "psk" then
    o.psk_file = sec.psk_file or cfg.security.psk_file
    if not o.psk_file then
      error(string.format("machine %s (%s): security psk needs <psk_file> in the pool file or "
        .. "[security] psk_file in the controller config", m.id, m.file), 0)
    end
  elseif sec.mode == "cert" then
    o.cert, o.key, o.trust = cfg.security.cert, cfg.security.key, sec.pubkey
    if not o.cert or not o.key then
      error(string.format("machine %s (%s): security cert needs the controller's own certificate: "
        .. "[security] cert and key in the controller config (%s)", m.id, m.file,
        #cfg.files > 0 and table.concat(cfg.files, ", ") or "no config file found"), 0)
    end
  end
  return o
end

-- Connects to machines at once and waits for every hello. targets: list of
-- { name =, machine = }. Returns conns and hellos by name, plus a list of
-- failures ("name: why"); connections that failed are closed.
local function connect_all(targets, cfg, timeout)
  local conns, ids, hellos, failures = {}, {}, {}, {}
  for _, t in ipairs(targets) do
    local conn
    local ok, err = pcall(function()
      conn = core.connect_agent(connect_opts(t.name, t.machine, cfg, timeout))
      ids[t.name] = conn:send("hello")
    end)
    if ok then
      conns[t.name] = conn
    else
      if conn then conn:close() end
      failures[#failures + 1] = string.format("%s: %s", t.name,
        (tostring(err):gsub("^[^\n]-%.lua:%d+: ", ""):gsub("^host [^:]+: ", "")))
    end
  end
  for _, t in ipairs(targets) do
    local conn = conns[t.name]
    if conn then
      local m = t.machine
      local where = string.format("agent %s at %s:%s", m.id, m.hostname, tostring(m.port))
      local ok, replied, res, msg = pcall(conn.wait, conn, ids[t.name], timeout + 2)
      local why
      if not ok then
        why = tostring(replied):gsub("^host [^:]+: ", "")
      elseif not replied then
        why = string.format("%s refused: %s (%s)", where, msg, res)
      elseif res.protocol ~= core.PROTOCOL then
        why = string.format("%s speaks protocol %s (lnst-agent %s), this controller speaks %d: "
          .. "install matching versions", where, tostring(res.protocol), tostring(res.agent_version), core.PROTOCOL)
      else
        hellos[t.name] = res
      end
      if why then
        failures[#failures + 1] = string.format("%s: %s", t.name, why)
        conn:close()
        conns[t.name] = nil
      end
    end
  end
  return conns, hellos, failures
end

-- Writes each host's agent log lines to <log_dir>/<run>/<host>.log too.
local function file_logger(dir, inner)
  local files = {}
  local run = os.date("%Y%m%d-%H%M%S") .. "-" .. core.getpid()
  local ok, err = core.mkdir(dir .. "/" .. run)
  if not ok then error("log_dir: " .. err, 0) end
  return function(hostname, level, message)
    local f = files[hostname]
    if not f then
      f = io.open(string.format("%s/%s/%s.log", dir, run, hostname), "a")
      files[hostname] = f or false
    end
    if f then
      f:write(string.format("%s %s: %s\n", os.date("%H:%M:%S"), level, message))
      f:flush()
    end
    if inner then inner(hostname, level, message) end
  end, function()
    for _, f in pairs(files) do if f then f:close() end end
  end
end

-- opts: pools (list of names/dirs), config (loaded) or config_file, match (a
-- precomputed match; else the first), timeout (s), debug, log.
function M.new(opts)
  local self = setmetatable({
    debug = opts.debug, log = opts.log, pools = opts.pools, match = opts.match,
    config = opts.config, config_file = opts.config_file, conns = {}, hosts = {},
  }, P)
  self.config = self.config or M.load_config(self.config_file)
  self.timeout = opts.timeout or self.config.environment.timeout or M.DEFAULT_TIMEOUT
  if self.config.environment.log_dir then
    self.log, self.close_logs = file_logger(self.config.environment.log_dir, self.log)
  end
  return self
end

function P:provision(reqs)
  local match = self.match
  if not match then
    local found = M.matches(reqs, { config = self.config, pools = self.pools })
    match = found[1]
  end
  local names = util.sorted_keys(match.hosts)
  local targets = {}
  for _, hname in ipairs(names) do
    targets[#targets + 1] = { name = hname, machine = match.hosts[hname].machine }
  end
  local conns, hellos, failures = connect_all(targets, self.config, self.timeout)
  self.conns = conns
  if #failures > 0 then
    error(string.format("cannot use the machines of pool %s (nothing was changed on any of them):\n  %s",
      match.pool, table.concat(failures, "\n  ")), 0)
  end
  -- every agent is ours: map the NICs by MAC, pipelined
  local map_ids = {}
  for _, hname in ipairs(names) do
    local a = match.hosts[hname]
    local conn = conns[hname]
    local peer = conn:peer()
    local m = a.machine
    local target = string.format("machine %s (%s:%d, pool %s, %s%s)", m.id, m.hostname, m.port, match.pool,
      m.security.mode, peer ~= "" and " as '" .. peer .. "'" or "")
    self.hosts[hname] = host.new(hname, conn, hellos[hname], { target = target, log = self.log,
      timeout = self.timeout })
    if self.log then
      local h = hellos[hname]
      self.log(hname, "info", string.format("connected to %s: lnst-agent %s, kernel %s", target,
        tostring(h.agent_version), tostring(h.kernel)))
    end
    map_ids[hname] = {}
    for _, nic in ipairs(util.sorted_keys(a.nics)) do
      map_ids[hname][nic] = conn:send("dev.map", { hwaddr = a.nics[nic].hwaddr })
    end
  end
  local desc = {}
  for _, hname in ipairs(names) do
    local h, a = self.hosts[hname], match.hosts[hname]
    local d = { host = hname, target = h.target, nics = {} }
    for _, nic in ipairs(util.sorted_keys(map_ids[hname])) do
      local f = a.nics[nic]
      local ok, dev, msg = h.conn:wait(map_ids[hname][nic], self.timeout)
      if not ok then
        error(string.format("host %s: machine %s has no usable NIC %s with hwaddr %s for recipe NIC %s: %s (%s)",
          hname, a.machine.id, f.id, f.hwaddr, nic, msg, dev), 0)
      end
      h._devs[dev.ifindex] = dev
      rawget(h, "nics")[nic] = h:device(dev.ifindex)
      d.nics[#d.nics + 1] = { name = nic, target = string.format("%s %s (%s, label %s -> network %s)",
        f.id, f.hwaddr, dev.name, f.label, reqs[hname][nic].network) }
    end
    desc[#desc + 1] = d
  end
  desc.pool = match.pool
  -- from now on, losing any of them ends the run at once
  for _, hname in ipairs(names) do conns[hname]:critical(true) end
  return self.hosts, desc
end

-- Says bye to every agent (each ends the run: jobs killed, changes
-- undone) and closes the connections. Never raises; returns problems.
function P:cleanup()
  local problems, ids = {}, {}
  for _, conn in pairs(self.conns) do conn:critical(false) end
  for _, name in ipairs(util.sorted_keys(self.conns)) do
    local conn = self.conns[name]
    if not conn:lost() then
      local ok, id = pcall(conn.send, conn, "bye")
      if ok then ids[name] = id end
    end
  end
  for _, name in ipairs(util.sorted_keys(ids)) do
    local conn = self.conns[name]
    local ok, res, code, msg = pcall(conn.wait, conn, ids[name], self.timeout)
    if not ok then problems[#problems + 1] = tostring(res)
    elseif not res then problems[#problems + 1] = string.format("host %s: bye failed: %s (%s)", name, msg, code)
    elseif self.log then
      self.log(name, "info", string.format("bye: %s changes undone, %s jobs killed", tostring(code.undone),
        tostring(code.jobs_killed)))
    end
  end
  for _, name in ipairs(util.sorted_keys(self.conns)) do
    local conn = self.conns[name]
    local lost = conn:lost()
    if lost and not ids[name] then
      problems[#problems + 1] = string.format("host %s: the agent was lost (%s), so the run could not be "
        .. "undone from here (a running agent undoes it when it notices the controller is gone)", name, lost)
    end
    conn:close()
  end
  self.conns = {}
  if self.close_logs then self.close_logs() end
  return problems
end

-- ---- lnst pool list / check ------------------------------------------------------

local function params_text(params, skip)
  local out = {}
  for _, k in ipairs(util.sorted_keys(params)) do
    if not skip[k] then out[#out + 1] = k .. "=" .. tostring(params[k]) end
  end
  return table.concat(out, " ")
end

-- `lnst pool list`: machines, NICs, labels and whether each agent's port
-- answers. Returns the exit code.
function M.pool_list(opts, out)
  out = out or io.stdout
  local cfg = M.load_config(opts.config_file)
  local pools = M.load_pools(opts.pools, cfg)
  if #pools == 0 then error("no machine pool is configured (give --pool DIR or [pools] in lnst.conf)", 0) end
  local probes, where = {}, {}
  for _, p in ipairs(pools) do
    for _, m in ipairs(p.machines) do
      local port = m.params.rpc_port and m.port or cfg.environment.rpcport or m.port
      probes[#probes + 1] = { host = m.hostname, port = port }
      where[m] = #probes
    end
  end
  local reach = core.tcp_probe(probes, opts.timeout or 3)
  for _, p in ipairs(pools) do
    out:write(string.format("pool %s (%s): %d machine%s\n", p.name, p.dir, #p.machines, #p.machines == 1 and "" or "s"))
    for _, m in ipairs(p.machines) do
      local r = reach[where[m]]
      local pr = probes[where[m]]
      out:write(string.format("  %s  %s:%d  security %s  %s\n", m.id, m.hostname, pr.port, m.security.mode,
        r == true and "reachable" or "UNREACHABLE (" .. tostring(r) .. ")"))
      local ps = params_text(m.params, { hostname = true, rpc_port = true })
      if ps ~= "" then out:write("    params: ", ps, "\n") end
      for _, f in ipairs(m.interfaces) do
        local fp = params_text(f.params, { hwaddr = true })
        out:write(string.format("    %s  %s  label %s%s\n", f.id, f.hwaddr, f.label, fp ~= "" and "  " .. fp or ""))
      end
    end
  end
  return 0
end

-- `lnst pool check`: connects to every agent (with its security), runs
-- hello, and checks that each listed NIC exists there with its MAC.
-- Returns 0 when every machine is fine, 1 otherwise.
function M.pool_check(opts, out)
  out = out or io.stdout
  local cfg = M.load_config(opts.config_file)
  local pools = M.load_pools(opts.pools, cfg)
  if #pools == 0 then error("no machine pool is configured (give --pool DIR or [pools] in lnst.conf)", 0) end
  local timeout = opts.timeout or cfg.environment.timeout or M.DEFAULT_TIMEOUT
  local bad = 0
  for _, p in ipairs(pools) do
    out:write(string.format("pool %s (%s)\n", p.name, p.dir))
    local targets, conn_errors = {}, {}
    for _, m in ipairs(p.machines) do
      local ok, err = pcall(connect_opts, m.id, m, cfg, timeout)
      if ok then targets[#targets + 1] = { name = m.id, machine = m } else conn_errors[m.id] = err end
    end
    local conns, hellos, failures = connect_all(targets, cfg, timeout)
    for _, f in ipairs(failures) do conn_errors[f:match("^([^:]+):")] = f:gsub("^[^:]+: ", "") end
    for _, m in ipairs(p.machines) do
      local h = hellos[m.id]
      if not h then
        bad = bad + 1
        out:write(string.format("  %s  FAIL  %s\n", m.id, conn_errors[m.id] or "no hello"))
      else
        local byhw = {}
        for _, d in ipairs(h.devices or {}) do byhw[(d.hwaddr or ""):upper()] = d end
        local missing = {}
        for _, f in ipairs(m.interfaces) do
          if not byhw[f.hwaddr] then missing[#missing + 1] = f.id .. " " .. f.hwaddr end
        end
        local peer = conns[m.id]:peer()
        out:write(string.format("  %s  %s  lnst-agent %s, protocol %s, kernel %s, %s, security %s%s\n",
          m.id, #missing == 0 and "OK" or "FAIL", tostring(h.agent_version), tostring(h.protocol),
          tostring(h.kernel), tostring(h.arch), m.security.mode, peer ~= "" and " as '" .. peer .. "'" or ""))
        out:write(string.format("      tools: %s\n", table.concat((h.capabilities or {}).tools or {}, " ")))
        for _, f in ipairs(m.interfaces) do
          local d = byhw[f.hwaddr]
          out:write(string.format("      %s %s: %s\n", f.id, f.hwaddr, d
            and string.format("present as %s (%s)", d.name, d.up and "up" or "down")
            or "MISSING: no device with this MAC"))
        end
        if #missing > 0 then bad = bad + 1 end
        local ok, id = pcall(conns[m.id].send, conns[m.id], "bye")
        if ok then pcall(conns[m.id].wait, conns[m.id], id, timeout) end
      end
      if conns[m.id] then conns[m.id]:close() end
    end
  end
  out:write(bad == 0 and "all machines OK\n" or string.format("%d machine%s not usable\n", bad, bad == 1 and "" or "s"))
  return bad == 0 and 0 or 1
end

return M
