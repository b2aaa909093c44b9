-- Unit tests for lnst.util. Run from the repo root: luajit tests/lua/test_util.lua
package.path = "lua/?.lua;lua/?/init.lua;tests/lua/?.lua;" .. package.path
local T = require "testlib"
local util = require "lnst.util"

T.test("network_labels: each label once, sorted, host params ignored", function()
  T.eq(util.network_labels {
    h2 = { eth0 = { network = "net2" }, eth1 = { network = "net1" }, params = { arch = "x86_64" } },
    h1 = { eth0 = { network = "net1" } },
    h3 = {},
  }, { "net1", "net2" })
  T.eq(util.network_labels {}, {})
end)

T.test("valid_ifname", function()
  T.ok(util.valid_ifname("eth0"))
  T.ok(not util.valid_ifname("a/b"))
  T.ok(not util.valid_ifname(string.rep("x", 16)))
end)

T.run()
