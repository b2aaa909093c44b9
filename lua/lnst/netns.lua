-- lnst.netns: the embedded default provisioner.
-- Every recipe host is a fresh network namespace (with its own mount and PID
-- namespaces) whose first process is its agent, connected by a socketpair.
-- Every network label is a bridge in a private fabric namespace; every NIC is
-- a veth whose host end carries the recipe's NIC name. The kernel owns all of
-- it: when the agents and the fabric's descriptor go, everything goes.
local core = require "lnst.core"
local host = require "lnst.host"
local util = require "lnst.util"

local M = {}
local P = {}
P.__index = P

function M.new(opts)
  return setmetatable({ debug = opts.debug, log = opts.log, timeout = opts.timeout or host.DEFAULT_TIMEOUT,
    hosts = {}, conns = {} }, P)
end

-- Whether process pid runs (a zombie, an agent that exited unreaped, does
-- not). A process that is exiting has left its namespace before it is a
-- zombie: give it 0.2 s to become one.
local function agent_alive(pid)
  for _ = 1, 20 do
    local f = io.open("/proc/" .. tostring(pid) .. "/stat")
    if not f then return false end
    local stat = f:read("*l") or ""
    f:close()
    if stat:match("^%d+ %b() [ZX]") then return false end
    core.sleep(0.01)
  end
  return true
end

-- Provisions the recipe's hosts; returns { name = Host } and the match
-- description (for the summary).
function P:provision(reqs)
  local names = util.sorted_keys(reqs)
  local net_list = util.network_labels(reqs)
  -- agents first (each clone is a new host namespace), hello pipelined
  local hello_ids = {}
  for _, hname in ipairs(names) do
    local conn = core.spawn_agent(hname, self.debug)
    self.conns[hname] = conn
    hello_ids[hname] = conn:send("hello")
  end
  self.fabric = core.fabric()
  local bridges = {}
  for i, label in ipairs(net_list) do
    bridges[label] = self.fabric:bridge("lnbr" .. i)
  end
  local v, ends = 0, {}
  for _, hname in ipairs(names) do
    ends[hname] = {}
    for _, nic in ipairs(util.sorted_keys(reqs[hname])) do
      if nic ~= "params" then
        v = v + 1
        ends[hname][nic] = "lnv" .. v
        local conn = self.conns[hname]
        local ok, err = pcall(self.fabric.veth, self.fabric, "lnv" .. v, bridges[reqs[hname][nic].network],
          conn:pid(), nic)
        -- an agent that could not start takes its namespace with it: say why
        if not ok then
          local why = conn:exec_error(1)
          if not why and not agent_alive(conn:pid()) then
            why = string.format("host %s: its agent (pid %d) exited before NIC %s could be created (%s)",
              hname, conn:pid(), nic, err)
          end
          error(why or err, 0)
        end
      end
    end
  end
  local match, map_ids = {}, {}
  for _, hname in ipairs(names) do
    local conn = self.conns[hname]
    local ok, hello, msg = conn:wait(hello_ids[hname], 10)
    if not ok then error(string.format("host %s: hello failed: %s (%s)", hname, msg, hello)) end
    local target = string.format("netns host %s (agent pid %d)", hname, conn:pid())
    local h = host.new(hname, conn, hello, { target = target, log = self.log, timeout = self.timeout })
    self.hosts[hname] = h
    map_ids[hname] = {}
    for _, nic in ipairs(util.sorted_keys(reqs[hname])) do
      if nic ~= "params" then map_ids[hname][nic] = conn:send("dev.map", { name = nic }) end
    end
  end
  for _, hname in ipairs(names) do
    local h = self.hosts[hname]
    local m = { host = hname, target = h.target, nics = {} }
    for _, nic in ipairs(util.sorted_keys(map_ids[hname])) do
      local ok, dev, msg = h.conn:wait(map_ids[hname][nic], 10)
      if not ok then error(string.format("host %s: cannot map NIC %s: %s (%s)", hname, nic, msg, dev)) end
      h._devs[dev.ifindex] = dev
      rawget(h, "nics")[nic] = h:device(dev.ifindex)
      -- the wire's far end takes what the NIC may send (jumbo frames too)
      h:_follow_mtu(dev.ifindex, function(mtu) self.fabric:mtu(ends[hname][nic], mtu) end)
      m.nics[#m.nics + 1] = { name = nic, target = string.format("%s (network %s)", nic, reqs[hname][nic].network) }
    end
    match[#match + 1] = m
  end
  -- from now on, the death of any host's agent ends every wait at once
  for _, conn in pairs(self.conns) do conn:critical(true) end
  return self.hosts, match
end

-- Ends the run on every host (jobs killed, changes undone), stops the
-- agents and drops the fabric. Never raises; returns a list of problems.
function P:cleanup()
  local problems, ids = {}, {}
  -- agents leave on bye: that is no loss
  for _, conn in pairs(self.conns) do conn:critical(false) end
  for name, conn in pairs(self.conns) do
    local h = self.hosts[name]
    -- an agent that stopped answering pings is not asked again: it is killed
    if not conn:lost() and not (h and rawget(h, "unresponsive")) then
      local ok, id = pcall(conn.send, conn, "bye")
      if ok then ids[name] = id end
    end
  end
  local said_bye = {}
  for name, id in pairs(ids) do
    local ok, res, code, msg = pcall(self.conns[name].wait, self.conns[name], id, self.timeout)
    if not ok then problems[#problems + 1] = res
    elseif not res then problems[#problems + 1] = string.format("host %s: bye failed: %s (%s)", name, msg, code)
    else said_bye[name] = true end
  end
  for name, conn in pairs(self.conns) do
    local pid = conn:pid()
    -- an agent that answered bye exits by itself (closing its end first);
    -- one that broke its connection or did not answer gets no grace period
    if not said_bye[name] then core.kill(pid) end
    conn:close()
    local status = core.reap(pid, 5)
    if status ~= "exited 0" then
      problems[#problems + 1] = string.format("host %s: agent %s", name, status)
    end
  end
  self.conns = {}
  if self.fabric then self.fabric:close(); self.fabric = nil end
  return problems
end

return M
