-- ethtool settings of a veth through ethtool-netlink: driver, offloads on
-- and off (checked with the ethtool tool), channels, link settings, driver
-- statistics, and the errors of what veth does not support.
local lnst = require "lnst"

local function fails(r, what, pattern, f)
  local ok, err = pcall(f)
  r:check(not ok and tostring(err):find(pattern) ~= nil,
    string.format("%s fails: %s", what, ok and "it did not" or tostring(err)))
end

local function has(list, x)
  for _, v in ipairs(list or {}) do if v == x then return true end end
  return false
end

return lnst.recipe {
  name = "Ethtool",
  hosts = { h1 = { eth0 = { network = "n" } }, h2 = { eth0 = { network = "n" } } },
  test = function(r)
    local h1 = r.hosts.h1
    local eth0 = h1.eth0
    local caps = h1.capabilities.ethtool or {}
    r:check(has(caps, "features") and has(caps, "channels") and has(caps, "driver"),
      "hello lists ethtool operations: " .. table.concat(caps, " "))
    r:check(eth0.driver == "veth", "driver: " .. tostring(eth0.driver))
    r:check(h1:device("lo").driver == "loopback", "lo's driver: " .. tostring(h1:device("lo").driver))
    local info = eth0.driver_info
    r:check(info.driver == "veth" and info.version ~= nil, "driver info", info)

    -- offloads
    local off = eth0.offloads
    r:check(off.gro == false and off["rx-gro"] == false and off.tso == true, "veth starts with gro off, tso on")
    eth0.offloads = { gro = true, tso = false }
    off = eth0.offloads
    r:check(off.gro == true and off.tso == false and off["tx-tcp-segmentation"] == false, "gro on, tso off")
    local k = h1:run({ "ethtool", "-k", "eth0" })
    r:check(k.stdout:find("generic-receive-offload: on", 1, true) ~= nil
      and k.stdout:find("tcp-segmentation-offload: off", 1, true) ~= nil, "ethtool -k agrees")
    eth0.offloads = { ["rx-gro"] = false, gso = false }
    r:check(eth0.offloads.gro == false and eth0.offloads.gso == false, "kernel feature names work too")

    -- channels
    local ch = eth0.channels
    r:check(ch.rx == 1 and ch.rx_max == 2, "channels", ch)
    eth0.channels = { rx = 2 }
    r:check(eth0.channels.rx == 2, "rx channels set to 2")
    local l = h1:run({ "ethtool", "-l", "eth0" })
    r:check(l.stdout:match("Current hardware settings:%s+RX:%s+(%d+)") == "2", "ethtool -l agrees")

    -- link settings and statistics
    local ls = eth0.link_settings
    r:check(ls.speed == 10000 and ls.duplex == "full" and ls.autoneg == false, "link settings", ls)
    local st = eth0.ethtool_stats
    r:check(type(st.peer_ifindex) == "number" and st.peer_ifindex > 0, "driver statistics", st)

    -- what veth cannot do: errors name the device, the operation and the driver
    fails(r, "reading coalescing", "ethtool coalesce on eth0: not supported by its driver %(veth%)",
      function() return eth0.coalescing end)
    fails(r, "reading rings", "ethtool rings on eth0: not supported by its driver %(veth%)",
      function() return eth0.rings end)
    fails(r, "LNST's rx_pause_frames", "ethtool pause on eth0: not supported by its driver %(veth%)",
      function() return eth0.rx_pause_frames end)
    local ok, code, msg = h1:call_raw("ethtool.set", { ifindex = eth0.ifindex, what = "features",
      values = { lro = true } })
    r:check(not ok and code == "EOPNOTSUPP" and msg:find("'lro' is fixed %(off%)") ~= nil, "a fixed feature: " .. msg)
    ok, code, msg = h1:call_raw("ethtool.set", { ifindex = eth0.ifindex, what = "features",
      values = { warp = true } })
    r:check(not ok and code == "EINVAL" and msg:find("unknown feature 'warp'") ~= nil, "an unknown feature: " .. msg)
    ok, code, msg = h1:call_raw("ethtool.set", { ifindex = eth0.ifindex, what = "channels",
      values = { rx_max = 4 } })
    r:check(not ok and code == "EINVAL" and msg:find("'rx_max' is read%-only") ~= nil, "a read-only setting: " .. msg)
    ok, code, msg = h1:call_raw("ethtool.set", { ifindex = eth0.ifindex, what = "channels",
      values = { rx = 3 } })
    r:check(not ok and code == "EINVAL" and msg:find("ethtool channels on eth0 failed") ~= nil,
      "more channels than the maximum: " .. msg)
    ok, code, msg = h1:call_raw("ethtool.set", { ifindex = eth0.ifindex, what = "link",
      values = { speed = 1000, duplex = "full", autoneg = false } })
    r:check(not ok and code == "EOPNOTSUPP" and msg:find("ethtool link on eth0") ~= nil, "setting the speed: " .. msg)
    ok, code, msg = h1:call_raw("ethtool.get", { ifindex = eth0.ifindex, what = "colour" })
    r:check(not ok and code == "EINVAL" and msg:find("must be one of features") ~= nil, "an unknown group: " .. msg)
    fails(r, "setting offloads to a number", "offloads: takes a table", function() eth0.offloads = 1 end)
  end,
}
