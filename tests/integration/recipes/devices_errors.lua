-- Bad input for soft devices: every error names the host, the device and
-- what is wrong, and nothing is left half-made. Each case prints
-- "case NAME: <error>" for test_devices.sh to compare word for word.
local lnst = require "lnst"
local d = lnst.device

return lnst.recipe {
  name = "DevicesErrors",
  hosts = { h1 = { eth0 = { network = "n" } }, h2 = { eth0 = { network = "n" } } },
  test = function(r)
    local h1, h2 = r.hosts.h1, r.hosts.h2
    local function case(name, f)
      local ok, err = pcall(f)
      print(string.format("case %s: %s", name, ok and "no error" or tostring(err)))
    end
    h2.br0 = d.bridge {}
    case("missing", function() h1.mv = d.macvlan { mode = "bridge" } end)
    case("range", function() h1.vx = d.vxlan { vxlan_id = 16777216, remote = "203.0.113.2" } end)
    case("enum", function() h1.mv = d.macvlan { realdev = h1.eth0, mode = "bridged" } end)
    case("unknown", function() h1.br = d.bridge { stp = 1 } end)
    case("clash", function() h1.br = d.bridge { name = "eth0" } end)
    case("clash_peer", function() h1.v = d.veth { peer_name = "eth0" } end)
    case("master_other_host", function() h1.eth0.master = h2.br0 end)
    case("realdev_other_host", function() h1.mv = d.macvlan { realdev = h2.eth0 } end)
    case("not_created", function() h1.mv = d.macvlan { realdev = d.bridge {} } end)
    case("field", function() return d.bridge {}.mtu end)
    case("delete_nic", function() h1.eth0:delete() end)
    case("not_slave", function() h2.br0:slave_del(h2.eth0) end)
    case("port_flag", function() h2.eth0:bridge_port_set { learning = false } end)
    case("bad_mac", function() h2.br0:fdb_add("02:00:00:00:00") end)
    case("no_kind", function() h1:call("link.create", { kind = "bonding" }) end)
    -- a kind this kernel lacks, when there is one
    local missing
    for factory, kind in pairs(lnst.device.KINDS or {}) do
      if not h1:has_kind(kind) and (not missing or factory < missing) then missing = factory end
    end
    if missing then
      case("unsupported", function() h1.x = d[missing] {} end)
      print("unsupported kind tried: " .. missing)
    else
      print("unsupported kind tried: none (this kernel accepts every kind)")
    end
    -- composite creation rolled back: the tap is made, enslaving it fails
    case("rollback", function() h1.t = d.tap { name = "rbtap", master = h1.eth0 } end)
    local j = h1:run({ "ip", "link", "show", "rbtap" }, { expect = false, desc = "rbtap does not exist" })
    print("rbtap gone: " .. tostring(j.passed and h1:device("rbtap") == nil))
    -- a veth pair whose second end cannot go where it is assigned
    local a, b = d.veth_pair { name = "pa", peer_name = "pb" }
    h2.ns1 = lnst.netns()
    h1.pa = a
    case("move_other_host", function() h2.ns1.pb = b end)
  end,
}
