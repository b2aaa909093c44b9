-- Unit tests for lnst.links (device specs, without agents) and for the
-- SKIPPED result of lnst.results / lnst.format. Run from the repo root:
-- luajit tests/lua/test_links.lua
package.path = "lua/?.lua;lua/?/init.lua;tests/lua/?.lua;" .. package.path
local T = require "testlib"
local links = require "lnst.links"
local R = require "lnst.results"
local F = require "lnst.format"

local d = links.factories

T.test("a factory for every kind", function()
  local n = 0
  for factory, kind in pairs(links.KINDS) do
    n = n + 1
    local s = d[factory] {}
    T.eq(links.is_spec(s), true)
    T.eq(s.kind, kind)
  end
  T.eq(n, 25)
  T.eq(links.KINDS.l2tp_session, "l2tp")
  T.eq(links.KINDS.vti6, "vti6")
end)

T.test("a spec keeps a copy of its parameters", function()
  local p = { name = "br0", stp_state = 0 }
  local s = d.bridge(p)
  p.stp_state = 1
  T.eq(s.params, { name = "br0", stp_state = 0 })
  T.eq(tostring(s), "<lnst.device.bridge br0, not created yet>")
  T.eq(tostring(d.vxlan {}), "<lnst.device.vxlan, not created yet>")
end)

T.test("bad factory arguments", function()
  T.raises_with(function() d.bridge "br0" end,
    'lnst.device.bridge takes a table of parameters, like lnst.device.bridge { name = "x" }')
  T.raises_with(function() d.bond { 1 } end, "lnst.device.bond: parameter names are strings, got 1")
  T.raises_with(function() d.vlan { kind = "x" } end, "lnst.device.vlan: 'kind' is set by the factory")
end)

T.test("a spec not created yet has no device fields", function()
  local s = d.macvlan { mode = "bridge" }
  T.raises_with(function() return s.mtu end,
    "lnst.device.macvlan: 'mtu' of a device that is not created yet: assign it to a host first (host.NAME = spec)")
  T.raises_with(function() s.mtu = 1400 end,
    "lnst.device.macvlan: cannot set 'mtu' before the device is created")
  T.eq(s.peer, nil)
end)

T.test("veth_pair: two specs sharing the pair's parameters", function()
  local a, b = d.veth_pair { name = "va", peer_name = "vb", mtu = 1400 }
  T.eq(a.kind, "veth")
  T.eq(b.kind, "veth")
  T.eq(a.params, { name = "va", peer_name = "vb", mtu = 1400 })
  T.eq(tostring(b), "<lnst.device.veth vb, not created yet>")
  T.eq(a == b, false)
  T.eq(a == a, true)
end)

T.test("a run with a skip record is SKIPPED, unless something failed", function()
  local run = R.new_run {}
  run:add { result = R.PASS, description = "ok" }
  run:skip("host h1: device kind bond not supported by its kernel")
  T.eq(run:overall(), R.SKIPPED)
  local rec = run.results[2]
  T.eq({ rec.result, rec.skip_run, rec.skipped, rec.source, rec.description },
    { R.WARNING, true, true, "Requirement", "SKIPPED: host h1: device kind bond not supported by its kernel" })
  local failed = R.new_run {}
  failed:add { result = R.FAIL, description = "broken" }
  failed:skip("x")
  T.eq(failed:overall(), R.FAIL)
  local exc = R.new_run {}
  exc:skip("x")
  exc:set_exception("boom")
  T.eq(exc:overall(), R.FAIL)
  T.eq(R.new_run {}:overall(), R.PASS)
end)

T.test("the skip signal is recognised, and says why", function()
  local s = R.skip_signal("no bond")
  T.eq(R.is_skip(s), true)
  T.eq(R.is_skip("skipped: no bond"), false)
  T.eq(tostring(s), "skipped: no bond")
end)

T.test("the summary shows SKIPPED for the record and the run", function()
  local run = R.new_run { recipe = "x" }
  run:skip("host h1: tool teamd not found on its PATH")
  local text = F.human(run, {})
  T.eq(text:find("SKIPPED 0_Requirement:\tSKIPPED: host h1: tool teamd not found on its PATH", 1, true) ~= nil, true)
  T.eq(text:match("Overall result of this Run: (%u+)"), "SKIPPED")
  T.eq(F.human(run, { colour = true }):find("\27[1;36mSKIPPED\27[0m", 1, true) ~= nil, true)
end)

T.run()
