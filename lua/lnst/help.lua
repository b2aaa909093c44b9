-- lnst.help: the texts `:help` and `:help OBJECT` show in the REPL.
local M = {}

M.topics = {}

M.topics.general = [[
Lua with the lnst library loaded as `lnst`. Expressions print their value;
incomplete statements continue on the next line (prompt >>). Tab completes
globals, hosts, devices, methods and fields.
  :help [OBJECT]     this text, or the API of OBJECT (host, device, job, r, lnst, or an expression)
  :sh HOST CMD       run a shell command on a host and stream its output (Ctrl-C stops it)
  :continue / :c     resume a paused run (Ctrl-D does too)
  :abort             end a paused run here and tear everything down
  :quit / :q         leave the REPL (its hosts are torn down)
In a session opened by `lnst repl RECIPE` or a paused run: r, hosts, params
(and result, the failing result). r:test() runs the recipe's test body.]]

M.topics.host = [[
host: a test host.
  host.NAME                   a recipe NIC (a device), e.g. hosts.host1.eth0
  host:run(cmd, opts)         run an argv table or a shell string; returns a job
                              opts: bg, timeout, expect, desc, env, cwd, level, stream, on_output
  host:device(name|ifindex)   any device of the host
  host:devices()              all devices
  host:has_tool(name)         whether the agent found a program on its PATH
  host.name, host.kernel, host.pid (agent pid: nsenter -t PID -n -m -p), host.capabilities]]

M.topics.device = [[
device: a network device on a host (reading its fields costs no round trip).
  fields: name ifindex kind driver hwaddr mtu state carrier operstate flags ips master stats enabled
  dev:ip_add("198.51.100.1/24")  dev:ip_del(addr)  dev:ip_flush()
  dev:up()  dev:down()  dev:up_and_wait(timeout)  dev:info()
  dev.mtu = 1400   dev.hwaddr = "02:00:00:00:00:01"   dev.name = "t0"]]

M.topics.job = [[
job: a process run on a host.
  fields: passed exit_code signal stdout stderr timed_out duration finished result
  job:wait(timeout)   job:kill(sig)   job:follow()  (print output as it comes, Ctrl-C stops following)]]

M.topics.r = [[
r: the running recipe, as its test body sees it.
  r.hosts  r.params  r.run (results so far)
  r:check(cond, description, data)       PASS or FAIL
  r:add_result(result, description, data, level, data_level)
  r:wait(seconds)                        wait while events flow
  r:test()                               run the test body (lnst repl)]]

M.topics.lnst = [[
lnst: the library.
  lnst.recipe{...}  lnst.param.*  lnst.controller{...}  lnst.pause(why)
  lnst.PASS lnst.FAIL lnst.WARNING  lnst.IMPORTANT lnst.NORMAL lnst.DEBUG]]

-- The topic for a value: by its kind of object.
function M.topic_of(v)
  local host = require "lnst.host"
  local device = require "lnst.device"
  local job = require "lnst.job"
  if host.is_host(v) then return "host" end
  if device.is_device(v) then return "device" end
  if job.is_job and job.is_job(v) then return "job" end
  if type(v) == "table" and v.run and v.hosts and v.params then return "r" end
  return nil
end

return M
