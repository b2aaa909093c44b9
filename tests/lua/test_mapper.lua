-- Unit tests for lnst.mapper on synthetic pools. Run from the repo root: luajit tests/lua/test_mapper.lua
package.path = "lua/?.lua;lua/?/init.lua;tests/lua/?.lua;" .. package.path
local T = require "testlib"
local mapper = require "lnst.mapper"

-- machine "m1" { arch = "x86_64" } with interfaces { {"eth1", "lan1", { driver = "ixgbe" }}, ... }
local function machine(id, params, ifaces)
  local m = { id = id, params = params or {}, interfaces = {} }
  for i, f in ipairs(ifaces or {}) do
    local p = { hwaddr = string.format("02:00:00:00:%02X:%02X", #id, i) }
    for k, v in pairs(f[3] or {}) do p[k] = v end
    m.interfaces[i] = { id = f[1], label = f[2], params = p, hwaddr = p.hwaddr }
  end
  return m
end

-- The text contains the Lua pattern.
local function like(text, pat)
  T.ok(type(text) == "string" and text:find(pat) ~= nil,
    string.format("text does not match %q:\n%s", pat, tostring(text)))
end

local function pool(name, machines) return { name = name, dir = "/pools/" .. name, machines = machines } end

-- "host1=m1(eth0=eth1) host2=m2(eth0=eth1)" for a match
local function show(match)
  local parts = {}
  local hosts = {}
  for h in pairs(match.hosts) do hosts[#hosts + 1] = h end
  table.sort(hosts)
  for _, h in ipairs(hosts) do
    local a = match.hosts[h]
    local nics = {}
    for n, f in pairs(a.nics) do nics[#nics + 1] = n .. "=" .. f.id end
    table.sort(nics)
    parts[#parts + 1] = string.format("%s=%s(%s)", h, a.machine.id, table.concat(nics, ","))
  end
  return match.pool .. ": " .. table.concat(parts, " ")
end

local function all(matches)
  local out = {}
  for i, m in ipairs(matches) do out[i] = show(m) end
  return out
end

local two_hosts = { host1 = { eth0 = { network = "net1" } }, host2 = { eth0 = { network = "net1" } } }

T.test("the first match is the smallest in sorted order", function()
  local p = pool("lab", {
    machine("m2", {}, { { "eth1", "lan" } }),
    machine("m1", {}, { { "eth2", "lan" }, { "eth1", "lan" } }),
    machine("m3", {}, { { "eth1", "lan" } }),
  })
  local m = mapper.match(two_hosts, { p })
  T.eq(#m, 1)
  T.eq(show(m[1]), "lab: host1=m1(eth0=eth1) host2=m2(eth0=eth1)")
  T.eq(m[1].networks, { net1 = "lan" })
  T.eq(m[1].pool_dir, "/pools/lab")
end)

T.test("multimatch yields every match in a stable order", function()
  local p = pool("lab", {
    machine("m1", {}, { { "eth1", "lan" }, { "eth2", "lan" } }),
    machine("m2", {}, { { "eth1", "lan" } }),
  })
  local m = mapper.match(two_hosts, { p }, { multimatch = true })
  T.eq(all(m), {
    "lab: host1=m1(eth0=eth1) host2=m2(eth0=eth1)",
    "lab: host1=m1(eth0=eth2) host2=m2(eth0=eth1)",
    "lab: host1=m2(eth0=eth1) host2=m1(eth0=eth1)",
    "lab: host1=m2(eth0=eth1) host2=m1(eth0=eth2)",
  })
  T.eq(all(mapper.match(two_hosts, { p }, { multimatch = true })), all(m), "same order every time")
end)

T.test("host and NIC parameters match by string equality", function()
  local reqs = {
    a = { params = { arch = "aarch64", cores = 8 }, eth0 = { network = "n", driver = "ixgbe" } },
  }
  local p = pool("lab", {
    machine("m1", { arch = "x86_64", cores = "8" }, { { "eth1", "l", { driver = "ixgbe" } } }),
    machine("m2", { arch = "aarch64", cores = "8" }, { { "eth1", "l", { driver = "e1000" } } }),
    machine("m3", { arch = "aarch64", cores = "8" },
      { { "eth1", "l", { driver = "e1000" } }, { "eth2", "l", { driver = "ixgbe" } } }),
  })
  local m = mapper.match(reqs, { p })
  T.eq(show(m[1]), "lab: a=m3(eth0=eth2)")
end)

T.test("NIC params may also come as a params table, empty values are not compared", function()
  local reqs = { a = { params = { arch = "" }, eth0 = { network = "n", params = { driver = "virtio_net" } } } }
  local p = pool("lab", { machine("m1", {}, { { "eth1", "l", { driver = "virtio_net" } } }) })
  T.eq(show(mapper.match(reqs, { p })[1]), "lab: a=m1(eth0=eth1)")
end)

T.test("network labels map one-to-one", function()
  -- two recipe networks may not share one pool label, one network may not span two labels
  local reqs = { h = { eth0 = { network = "net1" }, eth1 = { network = "net2" } } }
  local same = pool("lab", { machine("m1", {}, { { "a", "lan" }, { "b", "lan" } }) })
  local m, why = mapper.match(reqs, { same })
  T.eq(m, nil)
  like(why, "candidates: eth0 %-> a|b, eth1 %-> a|b")
  local spread = { h1 = { eth0 = { network = "net1" } }, h2 = { eth0 = { network = "net1" } } }
  local p = pool("lab", {
    machine("m1", {}, { { "a", "lan1" } }),
    machine("m2", {}, { { "a", "lan2" } }),
    machine("m3", {}, { { "a", "lan1" } }),
  })
  T.eq(show(mapper.match(spread, { p })[1]), "lab: h1=m1(eth0=a) h2=m3(eth0=a)")
end)

T.test("backtracking undoes a label chosen too early", function()
  -- host a takes m1; its eth0 could be x (label L1) or y (label L2); only
  -- L2 exists on m2 for host b, so the search must come back and take y.
  local reqs = { a = { eth0 = { network = "n" } }, b = { eth0 = { network = "n" } } }
  local p = pool("lab", {
    machine("m1", {}, { { "x", "L1" }, { "y", "L2" } }),
    machine("m2", {}, { { "z", "L2" } }),
  })
  T.eq(show(mapper.match(reqs, { p })[1]), "lab: a=m1(eth0=y) b=m2(eth0=z)")
end)

T.test("backtracking over machines when a later host needs the earlier one's machine", function()
  local reqs = { a = { eth0 = { network = "n" } }, b = { params = { big = "yes" }, eth0 = { network = "n" } } }
  local p = pool("lab", {
    machine("m1", { big = "yes" }, { { "e", "L" } }),
    machine("m2", {}, { { "e", "L" } }),
  })
  T.eq(show(mapper.match(reqs, { p })[1]), "lab: a=m2(eth0=e) b=m1(eth0=e)")
end)

T.test("several pools: a match lies in one pool, pools are tried in order", function()
  local small = pool("small", { machine("s1", {}, { { "e", "L" } }) })
  local big = pool("big", { machine("b1", {}, { { "e", "L" } }), machine("b2", {}, { { "e", "L" } }) })
  local other = pool("other", { machine("o1", {}, { { "e", "L" } }), machine("o2", {}, { { "e", "L" } }) })
  T.eq(show(mapper.match(two_hosts, { small, big, other })[1]), "big: host1=b1(eth0=e) host2=b2(eth0=e)")
  local m = mapper.match(two_hosts, { small, other, big }, { multimatch = true })
  T.eq(all(m), {
    "other: host1=o1(eth0=e) host2=o2(eth0=e)",
    "other: host1=o2(eth0=e) host2=o1(eth0=e)",
    "big: host1=b1(eth0=e) host2=b2(eth0=e)",
    "big: host1=b2(eth0=e) host2=b1(eth0=e)",
  })
end)

T.test("no match: each host's refusals name the machine and the parameter", function()
  local reqs = {
    h1 = { params = { arch = "aarch64" }, eth0 = { network = "n" } },
    h2 = { eth0 = { network = "n", driver = "ixgbe" } },
  }
  local p = pool("lab", {
    machine("m1", { arch = "x86_64" }, { { "eth1", "L", { driver = "e1000" } } }),
    machine("m2", {}, { { "eth1", "L", { driver = "virtio_net" } }, { "eth2", "L" } }),
  })
  local m, why = mapper.match(reqs, { p })
  T.eq(m, nil)
  like(why, "^no machine pool can provision this recipe:\npool lab %(/pools/lab%): 2 machines\n")
  like(why, "\n  host h1 %(arch=aarch64%): no machine fits\n"
    .. "    m1: arch is 'x86_64', wanted 'aarch64'\n"
    .. "    m2: has no parameter 'arch' %(wanted 'aarch64'%)\n")
  like(why, "\n  host h2: no machine fits\n"
    .. "    m1: NIC eth0 %(network n, driver=ixgbe%): no interface fits: "
    .. "interface eth1 driver is 'e1000', wanted 'ixgbe'\n"
    .. "    m2: NIC eth0 %(network n, driver=ixgbe%): no interface fits: interface eth1 driver is 'virtio_net', "
    .. "wanted 'ixgbe'; interface eth2 has no parameter 'driver' %(wanted 'ixgbe'%)$")
end)

T.test("no match: too few machines, too few interfaces", function()
  local p = pool("tiny", { machine("m1", {}, { { "e", "L" } }) })
  local _, why = mapper.match(two_hosts, { p })
  like(why, "the recipe has 2 hosts, the pool only 1 machines")
  local _, why2 = mapper.match({ h = { eth0 = { network = "a" }, eth1 = { network = "b" } } }, { p })
  like(why2, "m1: has 1 interface, the host needs 2")
end)

T.test("no match: hosts fit alone but not together, and the explanation says where it stopped", function()
  -- both hosts need big=yes, only m1 has it
  local reqs = { a = { params = { big = "yes" }, eth0 = { network = "n" } },
    b = { params = { big = "yes" }, eth0 = { network = "n" } } }
  local p = pool("lab", { machine("m1", { big = "yes" }, { { "e", "L" } }), machine("m2", {}, { { "e", "L" } }) })
  local _, why = mapper.match(reqs, { p })
  like(why, "host a %(big=yes%): fits m1\n  host b %(big=yes%): fits m1\n")
  like(why, "every host fits some machine on its own, but not all together")
  like(why, "The search got furthest with a %-> m1 %(eth0 %-> e%); then host b %(big=yes%) found no machine:\n"
    .. "    m1: taken by host a\n    m2: has no parameter 'big' %(wanted 'yes'%)")
end)

T.test("no match: a label conflict is named", function()
  -- a's net1 and net2 must be on different labels; b's net1 only on a label already net2's
  local reqs = { a = { eth0 = { network = "net1" }, eth1 = { network = "net2" } }, b = { eth0 = { network = "net1" } } }
  local p = pool("lab", {
    machine("m1", {}, { { "x", "L1" }, { "y", "L2" } }),
    machine("m2", {}, { { "z", "L3" } }),
  })
  local m, why = mapper.match(reqs, { p })
  T.eq(m, nil)
  like(why, "m2: NIC eth0 %(network net1%): no interface fits: interface z is on label L3, "
    .. "but network net1 is already label L%d")
end)

T.test("no pools at all", function()
  local m, why = mapper.match(two_hosts, {})
  T.eq(m, nil)
  like(why, "no machine pool is configured")
end)

T.test("describe", function()
  local p = pool("lab", { machine("m1", {}, { { "eth1", "L" } }), machine("m2", {}, { { "eth1", "L" } }) })
  T.eq(mapper.describe(mapper.match(two_hosts, { p })[1]), "host1 -> m1 (eth0 -> eth1); host2 -> m2 (eth0 -> eth1)")
end)

T.run()
