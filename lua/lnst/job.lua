-- lnst.job: a process run on a host (host:run returns one).
--   job.passed, job.exit_code, job.signal, job.stdout, job.stderr,
--   job.timed_out, job.duration, job.result; job:wait(timeout), job:kill(sig)
local core = require "lnst.core"

local Job = {}
Job.__index = Job

local M = {}

local SIGNALS = { HUP = 1, INT = 2, QUIT = 3, KILL = 9, USR1 = 10, USR2 = 12, TERM = 15, STOP = 19, CONT = 18 }
local SIGNAME = {}
for name, num in pairs(SIGNALS) do SIGNAME[num] = name end

function M.new(host, fields)
  local job = setmetatable(fields, Job)
  job.host = host
  job.finished = false
  job.chunks = {}
  return job
end

-- Applies the agent's job.finished report.
function Job:_finish(report)
  self.finished = true
  self.exit_code = report.exit_code
  self.signal = report.signal
  self.timed_out = report.timed_out or false
  self.duration = report.duration
  self.stdout = report.stdout or ""
  self.stderr = report.stderr or ""
  self.truncated = report.truncated
  self.result = { stdout = self.stdout, stderr = self.stderr, exit_code = self.exit_code }
  local expect = self.expect
  if self.killed_with and self.signal == self.killed_with then
    self.passed = true -- stopped on purpose by job:kill()
  elseif self.timed_out or (self.exit_code == nil) then
    self.passed = false
  elseif expect == true or expect == nil then
    self.passed = self.exit_code == 0
  elseif expect == false then
    self.passed = self.exit_code ~= 0
  else
    self.passed = self.exit_code == expect
  end
  if self.module then require("lnst.modules").apply_report(self, report) end
end

-- Waits until the job finishes (timeout in seconds, nil or 0: forever).
-- Returns the job; raises on timeout. A job may run longer than the host's
-- request timeout, so that one does not bound the wait; instead, each time
-- the wait has gone that long, the agent must answer a ping (Host:alive).
function Job:wait(timeout)
  local host = self.host
  local deadline = timeout and timeout > 0 and core.now() + timeout or nil
  local checked = core.now()
  while not self.finished do
    local lost = host.conn:lost()
    if lost then
      error(string.format("host %s: agent connection lost while waiting for job %d (%s)",
        host.name, self.id, lost), 2)
    end
    lost = rawget(host, "lost") -- a namespace whose worker died (lnst.netns_obj)
    if lost then
      error(string.format("host %s: namespace lost while waiting for job %d (%s): its worker is gone (%s)",
        host.name, self.id, self.desc, lost), 2)
    end
    local now = core.now()
    local left = deadline and deadline - now or 1
    if left <= 0 then
      error(string.format("host %s: job %d (%s) did not finish within %g s",
        host.name, self.id, self.desc, timeout), 2)
    end
    local every = host:request_timeout()
    if every and now - checked >= every then
      host:alive(string.format("waiting for job %d (%s)", self.id, self.desc))
      checked = core.now()
    end
    -- the loss of this job's own agent also ends the poll (every host's
    -- agent is critical): then the check above names the job
    local ok, err = pcall(core.poll, math.min(left, 1, every and math.max(every - (now - checked), 0.01) or 1))
    if not ok and not host.conn:lost() then error(err, 0) end
  end
  return self
end

-- Sends a signal ("INT", "TERM", "KILL" or a number; default KILL) to the job's process group.
function Job:kill(sig)
  if self.finished then return self end
  local num = type(sig) == "number" and sig or SIGNALS[tostring(sig or "KILL"):gsub("^SIG", "")]
  if not num then error("job:kill: unknown signal '" .. tostring(sig) .. "'", 2) end
  self.killed_with = SIGNAME[num]
  self.host:call("job.kill", { id = self.id, signal = num })
  return self
end

-- Prints the job's output as it arrives (what came before too), until it
-- finishes or Ctrl-C stops following (the job goes on). The job must have
-- been started with stream = true (the REPL does that for background jobs).
function Job:follow()
  if not self.streamed then
    error("job " .. self.id .. " was not started with { stream = true }: its output is not sent until it ends", 2)
  end
  io.stdout:write(table.concat(self.chunks))
  io.stdout:flush()
  self.following = true
  local ok, err = pcall(function()
    while not self.finished do core.poll(0.2) end
  end)
  self.following = false
  if not ok and not tostring(err):find("interrupted by SIG") then error(err, 0) end
  return self
end

-- Output chunk from the agent (stream = true).
function Job:_output(stream, data)
  self.chunks[#self.chunks + 1] = data
  if self.following then io.stdout:write(data); io.stdout:flush() end
  if self.on_output then self.on_output(stream, data) end
end

function M.is_job(x)
  return getmetatable(x) == Job
end

function Job:__tostring()
  local state
  if not self.finished then state = "running"
  elseif self.timed_out then state = "timed out"
  elseif self.signal then state = "killed by SIG" .. self.signal
  else state = "exit " .. tostring(self.exit_code) end
  return string.format("<job %d on %s: %s (%s)>", self.id, self.host.name, self.desc, state)
end

return M
