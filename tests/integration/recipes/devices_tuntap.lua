-- tun and tap devices (TUNSETIFF + TUNSETPERSIST): flags, owner, and the
-- generic parameters applied after creation (mtu, hwaddr, master); deletion.
local lnst = require "lnst"
local d = lnst.device

local function has(job, text) return job.stdout:find(text, 1, true) ~= nil end

return lnst.recipe {
  name = "DevicesTunTap",
  hosts = { h1 = {} },
  test = function(r)
    local h1 = r.hosts.h1
    h1.tun = d.tun { owner = 0, group = 0 }
    h1.br0 = d.bridge {}
    h1.tap = d.tap { multi_queue = true, vnet_hdr = true, mtu = 1400, hwaddr = "02:00:00:00:02:02",
      master = h1.br0 }
    h1.tap2 = d.tap { name = "tap2", pi = true }
    r:check(h1.tun.name == "t_tun0" and h1.tap.name == "t_tap0", "default names t_tun0, t_tap0")
    local j = h1:run({ "ip", "-d", "link", "show", "t_tun0" })
    r:check(has(j, "tun type tun pi off vnet_hdr off persist on user root group root"), "tun as created")
    j = h1:run({ "ip", "-d", "link", "show", "t_tap0" })
    r:check(has(j, "mtu 1400") and has(j, "02:00:00:00:02:02") and has(j, "master t_br0")
      and has(j, "tun type tap pi off vnet_hdr on multi_queue"), "tap with mtu, hwaddr, master, flags")
    r:check(h1.tap.mtu == 1400 and h1.tap.master == h1.br0, "the device table agrees")
    j = h1:run({ "ip", "-d", "link", "show", "tap2" })
    r:check(has(j, "tun type tap pi on"), "tap2 with packet info")
    h1.tap2:delete()
    r:check(h1:device("tap2") == nil, "tap2 deleted")
    h1:run({ "ip", "link", "show", "tap2" }, { expect = false, desc = "tap2 is gone" })
  end,
}
