-- lnst.enrt.mixins.macsec: the sub-configurations of LNST's
-- SimpleMacsecRecipe: one per value of macsec_encryption ("on", "off").
-- Applied: on each host msec0 (macsec over eth0, encrypt on/off) with a
-- receive channel for the peer's eth0 MAC (port 1), a transmit SA (sa 0,
-- pn 1, key id 00 on host1, 01 on host2) and a receive SA with the peer's
-- key, `ip macsec` jobs; addresses from net_ipv4/net_ipv6 (.1, .2),
-- eth0 and msec0 up; cfg.pairs = msec0 <-> msec0. Removed: msec0 deleted
-- (its addresses forgotten), eth0 down.
local enrt = require "lnst.enrt"
local d = require "lnst.device"
local p = require "lnst.param"
local results = require "lnst.results"

local M = {}

M.KEYS = { { id = "00", key = "7a16780284000775d4f0a3c0f0e092c0" },
  { id = "01", key = "3212ef5c4cc5d0e4210b17208e88779e" } }

-- The `ip macsec` commands of host i (1, 2) whose peer's eth0 has peer_mac.
function M.sa_commands(name, i, peer_mac)
  local mine, theirs = M.KEYS[i], M.KEYS[3 - i]
  return {
    { "ip", "macsec", "add", name, "rx", "port", "1", "address", peer_mac },
    { "ip", "macsec", "add", name, "tx", "sa", "0", "pn", "1", "on", "key", mine.id, mine.key },
    { "ip", "macsec", "add", name, "rx", "port", "1", "address", peer_mac, "sa", "0", "pn", "1", "on", "key",
      theirs.id, theirs.key },
  }
end

M.macsec = {
  params = {
    macsec_encryption = p.list { of = p.choice { choices = { "on", "off" } }, default = { "on", "off" },
      doc = "macsec encryption, one sub-configuration each" },
  },
  subconfigs = function(P) return P.macsec_encryption end,
  describe_sub = function(v) return "macsec encryption " .. v end,
  apply_variant = function(r, cfg, v)
    local P, hosts = r.params, { r.hosts.host1, r.hosts.host2 }
    cfg._macsec = {}
    -- a host field names a device for the whole run: the device is msec0
    -- in every sub-configuration, its field msec0, then msec0_2, msec0_3...
    cfg._macsec_n = (cfg._macsec_n or 0) + 1
    local key = cfg._macsec_n == 1 and "msec0" or ("msec0_" .. cfg._macsec_n)
    for i, h in ipairs(hosts) do
      h[key] = d.macsec { name = "msec0", realdev = h.eth0, encrypt = v == "on" }
      local dev = h[key]
      cfg._macsec[i] = dev
      for _, c in ipairs(M.sa_commands(dev.name, i, hosts[3 - i].eth0.hwaddr)) do
        local j = h:run(c, { level = results.NORMAL })
        if not j.passed then error(string.format("macsec on %s: '%s' failed: %s", h.name, table.concat(c, " "),
          tostring((j.stderr or ""):match("[^\n]+"))), 0) end
      end
    end
    for i, h in ipairs(hosts) do
      local dev = cfg._macsec[i]
      cfg:ip_add(dev, enrt.addr(P.net_ipv4, i))
      cfg:ip_add(dev, enrt.addr(P.net_ipv6, i))
      h.eth0:up()
      dev:up_and_wait()
    end
    cfg.pairs = { { cfg._macsec[1], cfg._macsec[2] } }
  end,
  remove_variant = function(r, cfg)
    for _, dev in ipairs(cfg._macsec or {}) do
      cfg:untrack(dev)
      dev:delete()
    end
    cfg._macsec = nil
    for _, h in ipairs { r.hosts.host1, r.hosts.host2 } do h.eth0:down() end
    cfg.pairs = {}
  end,
}

return M
