-- lnst.host: a test host as the recipe sees it.
-- It wraps the agent connection, keeps the host's device table current from
-- the agent's events, and offers run() for jobs. Recipe NICs are reachable as
-- host.<nic name> (host1.eth0); any other device by host:device(name).
local device = require "lnst.device"
local job = require "lnst.job"
local modules = require "lnst.modules"
local netcfg = require "lnst.netcfg"
local netns_obj = require "lnst.netns_obj"

local M = {}

-- Seconds a request may go unanswered before the agent is taken for dead
-- (the controller's `timeout` option overrides it; docs/faults.md).
M.DEFAULT_TIMEOUT = 10

local Host = {}

function Host.__index(h, k)
  local m = Host[k]
  if m ~= nil then return m end
  local nic = rawget(h, "nics")[k]
  if nic then return nic end
  local x = netns_obj.lookup(h, k) -- namespaces (h.ns1) and devices moved here (h.vb = ...)
  return x
end

-- host.KEY = value: a value whose metatable has __lnst_assign(value, host,
-- key) attaches itself (lnst.netns() creates a namespace, a device moves
-- here); host.KEY = nil deletes the namespace KEY. No tail calls, so that
-- errors can point at the recipe's line (3 levels up from __lnst_assign).
function Host.__newindex(h, k, v)
  local mt = getmetatable(v)
  if type(mt) == "table" and mt.__lnst_assign then
    mt.__lnst_assign(v, h, k)
    return
  end
  if v == nil and netns_obj.has(h, k) then
    netns_obj.delete(h, k)
    return
  end
  error(string.format("host %s: cannot set '%s' (a recipe NIC or method of that name does not exist)",
    rawget(h, "name"), tostring(k)), 2)
end

function Host.__tostring(h)
  local nics = {}
  for name in pairs(rawget(h, "nics")) do nics[#nics + 1] = name end
  table.sort(nics)
  return string.format("<host %s: %s; NICs: %s>", h.name, h.target or "?",
    #nics > 0 and table.concat(nics, ", ") or "none")
end

-- Tab completion in the REPL: NICs and fields after '.', methods after ':'.
function Host.__complete(h, methods)
  local out = {}
  if methods then
    for k, v in pairs(Host) do
      if type(v) == "function" and not k:find("^_") then out[#out + 1] = k end
    end
  else
    for name in pairs(rawget(h, "nics")) do out[#out + 1] = name end
    for _, k in ipairs({ "name", "pid", "kernel", "target", "capabilities", "agent_version" }) do
      out[#out + 1] = k
    end
  end
  return out
end

-- Sends a request and waits: true, result | false, code, message. The
-- wait is bounded by the host's request timeout (controller option
-- `timeout`, default M.DEFAULT_TIMEOUT) unless timeout is given.
-- A request that timed out marks the host unresponsive (cleanup then kills
-- its agent without asking it again) and raises an error naming the method.
local function replied(self, method, timeout, ok, ...)
  if ok then return ... end
  local err = tostring((...))
  if err:find("no reply from the agent within", 1, true) then
    rawset(rawget(self, "parent") or self, "unresponsive", true) -- a namespace's (lnst.netns_obj): its host's
    error(string.format("host %s: no reply from the agent to %s within %g s", self.name, method, timeout), 0)
  end
  error(err, 0)
end

-- Seconds a request may go unanswered (namespaces use their host's).
function Host:request_timeout()
  return (rawget(self, "parent") or self).timeout
end

function Host:call_raw(method, params, timeout)
  local id = self.conn:send(method, params)
  timeout = timeout or self:request_timeout()
  return replied(self, method, timeout, pcall(self.conn.wait, self.conn, id, timeout))
end

-- Checks that the agent still answers (a `ping` within the request
-- timeout) while the caller waits for something that may take longer, such
-- as a job. Raises an error naming the host and `what` when it does not.
function Host:alive(what)
  local ok, err = pcall(self.call_raw, self, "ping")
  if ok then return end
  if rawget(rawget(self, "parent") or self, "unresponsive") then
    error(string.format("host %s: the agent stopped answering: no reply to ping within %g s while %s",
      self.name, self:request_timeout(), what), 0)
  end
  error(err, 0)
end

-- Sends a request and waits; an error reply raises an error naming the host.
function Host:call(method, params, timeout)
  local ok, res, msg = self:call_raw(method, params, timeout)
  if not ok then
    error(string.format("host %s: %s failed: %s (%s)", self.name, method, msg, res), 2)
  end
  return res
end

-- Hands a result record to the run, if a run is recording.
function Host:record(rec)
  local recorder = rawget(self, "recorder")
  if recorder then return recorder(rec) end
end

-- Lets a paused-on-fail run stop here, outside any event handler.
function Host:checkpoint()
  local cp = rawget(self, "checkpoint_fn")
  if cp then cp() end
end

-- The proxy of a device by ifindex or name; nil when there is none.
function Host:device(key)
  if type(key) == "number" then
    return self._devs[key] and device.proxy(self, key) or nil
  end
  for ifindex, d in pairs(self._devs) do
    if d.name == key then return device.proxy(self, ifindex) end
  end
  return nil
end

-- All devices, sorted by ifindex.
function Host:devices()
  local idx = {}
  for i in pairs(self._devs) do idx[#idx + 1] = i end
  table.sort(idx)
  local out = {}
  for _, i in ipairs(idx) do out[#out + 1] = device.proxy(self, i) end
  return out
end

-- has_kind(kind), l2tp_tunnel_add{...} (lnst.links: soft devices).
for k, f in pairs(require("lnst.links").host_methods) do Host[k] = f end

-- Whether the agent found a tool on its PATH (hello capabilities).
function Host:has_tool(name)
  for _, t in ipairs(self.capabilities.tools or {}) do
    if t == name then return true end
  end
  return false
end

-- Runs a command: an argv table (no shell) or, explicitly, a shell string,
-- or a test module spec (lnst.tests.ping{...}; see lnst.modules).
-- opts: bg, timeout (s; default 60 in the foreground, none in the background),
-- expect (true: exit 0 passes; false: non-zero passes; N: exit N passes),
-- desc, env, cwd, level (result level, default IMPORTANT).
function Host:run(cmd, opts)
  opts = opts or {}
  local params, desc = {}, nil
  local spec = modules.is_spec(cmd) and cmd or nil
  if spec then -- a test module (lnst.tests.*): shipped, then run by the agent
    local skip
    params, desc, skip = modules.prepare(self, spec)
    if skip then return modules.skipped(self, spec, skip, opts) end
  elseif type(cmd) == "string" then
    params.shell, desc = cmd, cmd
  elseif type(cmd) == "table" and #cmd > 0 then
    local argv = {}
    for i, a in ipairs(cmd) do argv[i] = tostring(a) end
    params.argv, desc = argv, table.concat(argv, " ")
  else
    error("host:run: the command must be an argv table like {\"ping\", \"-c1\", addr} or a shell string", 2)
  end
  local bg = opts.bg or false
  local timeout = opts.timeout or (spec and not bg and spec.timeout) or (bg and 0 or 60)
  params.timeout, params.env, params.cwd = timeout, opts.env, opts.cwd
  params.stream = opts.stream
  if params.stream == nil and bg and rawget(_G, "__lnst_interactive") then
    params.stream = true -- so job:follow() works on jobs started from the REPL
  end
  desc = opts.desc or desc
  local level = opts.level or 1
  local ok, res, msg = self:call_raw("job.start", params)
  if not ok then
    local j = job.new(self, { id = 0, desc = desc, expect = opts.expect, bg = bg, module = spec })
    j:_finish { exit_code = nil, stdout = "", stderr = msg, error = spec and { message = msg } or nil }
    self:record { type = "job", action = "finish", host = self.name, job_id = 0, command = desc,
      module = spec and spec.name, result = "FAIL", level = level, source = "Host " .. self.name,
      description = "Job could not start: " .. desc .. ": " .. msg }
    return j
  end
  local j = job.new(self, { id = res.id, pid = res.pid, desc = desc, expect = opts.expect, bg = bg, module = spec,
    level = level, on_output = opts.on_output, streamed = params.stream or false })
  self._jobs[res.id] = j
  self:record { type = "job", action = "start", host = self.name, job_id = res.id, command = desc,
    module = spec and spec.name, result = "PASS", level = level, data_level = math.min(level + 1, 3),
    source = string.format("Host %s job %d", self.name, res.id),
    description = "Job started: " .. desc }
  for _, ev in ipairs(self._early_output[res.id] or {}) do
    j:_output(ev.stream, ev.data)
  end
  self._early_output[res.id] = nil
  local early = self._early[res.id]
  if early then
    self._early[res.id] = nil
    self:_finished(j, early)
  end
  if not bg then
    local waited, err = pcall(j.wait, j, timeout > 0 and timeout + 10 or nil)
    if not waited then
      -- interrupted (Ctrl-C) or lost: do not leave the job running
      if not j.finished and not rawget(self, "unresponsive") then
        pcall(self.call_raw, self, "job.kill", { id = j.id, signal = 9 })
      end
      error(err, 0)
    end
  elseif spec then
    modules.started(self, j) -- returns once the module announced it is ready
  end
  self:checkpoint()
  return j
end

-- Applies one event from the agent.
function Host:_event(ev)
  local name = ev.event
  -- Events of namespaces, and device moves (lnst.netns_obj).
  if (ev.netns ~= nil or name == "dev.netns_changed") and netns_obj.event(self, ev) then return end
  if name == "dev.created" or name == "dev.changed" then
    local followers = rawget(self, "_mtu_followers") -- (a namespace object has none)
    local follow = followers and followers[ev.dev.ifindex]
    local old = self._devs[ev.dev.ifindex]
    self._devs[ev.dev.ifindex] = ev.dev
    if follow and ev.dev.mtu and (not old or old.mtu ~= ev.dev.mtu) then
      local ok, err = pcall(follow, ev.dev.mtu)
      if not ok and self.log then self.log(self.name, "warning", tostring(err)) end
    end
  elseif name == "dev.deleted" then
    self._devs[ev.ifindex] = nil
    device.forget(self, ev.ifindex)
  elseif name == "job.finished" then
    local j = self._jobs[ev.job.id]
    if not j then
      -- it finished before job.start's reply was handled (same read)
      self._early[ev.job.id] = ev.job
      return
    end
    self:_finished(j, ev.job)
  elseif name == "job.notice" then
    modules.notice(self, ev, self._jobs)
  elseif name == "job.output" then
    local j = self._jobs[ev.job]
    if j then
      j:_output(ev.stream, ev.data)
    else
      -- arrived before job.start's reply was handled: hand it over later
      local q = self._early_output[ev.job] or {}
      q[#q + 1] = ev
      self._early_output[ev.job] = q
    end
  elseif name == "netns.lost" then -- (of a namespace object) its worker died: its jobs never report
    rawset(self, "lost", ev.reason or "its worker is gone")
  elseif name == "log" then
    if self.log then self.log(self.name, ev.level, ev.message) end
  end
end

function Host:_finished(j, report)
  self._jobs[j.id] = nil
  j:_finish(report)
  if j.module then return modules.record_finish(self, j) end
  local what
  if j.timed_out then what = "timed out"
  elseif j.signal then what = "killed by SIG" .. j.signal
  else what = "exit code " .. tostring(j.exit_code) end
  local data = { exit_code = j.exit_code, stdout = j.stdout, stderr = j.stderr }
  self:record { type = "job", action = "finish", host = self.name, job_id = j.id, command = j.desc,
    result = j.passed and "PASS" or "FAIL", level = j.level, data_level = math.min(j.level + 1, 3),
    source = string.format("Host %s job %d", self.name, j.id),
    description = string.format("Job finished: %s (%s)", j.desc, what), data = data }
end

-- Routes, neighbours, rules and sysctl (lnst.netcfg).
for k, f in pairs(netcfg.host) do Host[k] = f end

-- A host over an open agent connection whose hello reply is `hello`.
function M.new(name, conn, hello, opts)
  local h = setmetatable({
    name = name, conn = conn, target = opts.target, pid = conn:pid(),
    kernel = hello.kernel, agent_version = hello.agent_version,
    capabilities = hello.capabilities or {}, nics = {}, _devs = {}, _jobs = {}, _early = {}, _early_output = {},
    _mtu_followers = {},
    log = opts.log, timeout = opts.timeout or M.DEFAULT_TIMEOUT,
  }, Host)
  for _, d in ipairs(hello.devices or {}) do h._devs[d.ifindex] = d end
  conn:on_event(function(ev) h:_event(ev) end)
  return h
end

-- Calls fn(mtu) whenever device ifindex's MTU changes, however it was
-- changed (a provisioner keeps the NIC's far end of the wire in step).
function Host:_follow_mtu(ifindex, fn)
  self._mtu_followers[ifindex] = fn
end

function M.is_host(x)
  return getmetatable(x) == Host
end

return M
