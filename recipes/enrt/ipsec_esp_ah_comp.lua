-- IpsecEspAhComp (LNST's IpsecEspAhCompRecipe): host1.eth0 and host2.eth0
-- in two networks with host routes (lnst.enrt.ipsec); per IP version and
-- cipher x hash of `ciphers` x `hashes`, IPComp (deflate) + ESP (the
-- cipher) + AH (the hash) between them in ipsec_mode (SPIs: comp
-- 0x00000004 host1 -> host2 and 0x00000001 back, ESP 0x00000002, AH
-- 0x00000003). The ping is checked by a capture of AH carrying ESP on
-- host2.eth0 (requests and replies: twice the ping count); then a ping of
-- 1500 bytes, whose IPComp packets are checked by a capture in tunnel mode
-- (transport mode: not compressed below the MTU, as upstream).
--   lnst run --vm recipes/enrt/ipsec_esp_ah_comp.lua -p perf_duration=5
local ipsec = require "lnst.enrt.ipsec"
local key = require("lnst.enrt.mixins.ipsec").key
local p = require "lnst.param"

local SPI = { "0x00000001", "0x00000002", "0x00000003", "0x00000004" }

local pair = p.list { of = p.str {} }

return ipsec.recipe {
  name = "IpsecEspAhComp",
  description = "IPsec IPComp + ESP + AH for every cipher x hash between two hosts",
  requires = { tools = { "tcpdump" }, features = { "esp", "ah_comp" } },
  params = {
    ciphers = p.list { of = pair, default = { { "aes", "128" }, { "aes", "256" } },
      doc = "ESP ciphers: [name, key bits] pairs" },
    hashes = p.list { of = pair, default = { { "hmac(md5)", "128" }, { "sha256", "256" } },
      doc = "AH hashes: [name, key bits] pairs" },
  },
  algorithms = function(P)
    for _, what in ipairs { "ciphers", "hashes" } do
      for _, a in ipairs(P[what]) do
        if #a ~= 2 or not tonumber(a[2]) or tonumber(a[2]) % 8 ~= 0 then
          error(string.format("parameter '%s': %s: expected [name, key bits (a multiple of 8)]", what,
            table.concat(a, ", ")), 0)
        end
      end
    end
    local out = {}
    for _, c in ipairs(P.ciphers) do
      for _, h in ipairs(P.hashes) do
        out[#out + 1] = { desc = string.format("cipher %s (%s bits), hash %s (%s bits)", c[1], c[2], h[1], h[2]),
          cipher = c[1], cipher_key = key(tonumber(c[2])), hash = h[1], hash_key = key(tonumber(h[2])) }
      end
    end
    return out
  end,
  commands = function(P, alg, ip1, ip2)
    local mode = P.ipsec_mode
    local function policy(src, dst, dir, comp_spi)
      return string.format("ip xfrm policy add src %s dst %s dir %s tmpl src %s dst %s proto comp spi %s mode %s%s "
        .. "tmpl src %s dst %s proto esp spi %s mode %s tmpl src %s dst %s proto ah spi %s mode %s", src, dst, dir,
        src, dst, comp_spi, mode, dir == "in" and " level use" or "", src, dst, SPI[2], mode, src, dst, SPI[3], mode)
    end
    local function states()
      local out = {}
      for _, sd in ipairs { { ip1, ip2, SPI[4] }, { ip2, ip1, SPI[1] } } do
        out[#out + 1] = string.format("ip xfrm state add src %s dst %s proto comp spi %s mode %s comp deflate",
          sd[1], sd[2], sd[3], mode)
      end
      for _, sd in ipairs { { ip1, ip2 }, { ip2, ip1 } } do
        out[#out + 1] = string.format("ip xfrm state add src %s dst %s proto esp spi %s mode %s enc '%s' %s",
          sd[1], sd[2], SPI[2], mode, alg.cipher, alg.cipher_key)
      end
      for _, sd in ipairs { { ip1, ip2 }, { ip2, ip1 } } do
        out[#out + 1] = string.format("ip xfrm state add src %s dst %s proto ah spi %s mode %s auth '%s' %s",
          sd[1], sd[2], SPI[3], mode, alg.hash, alg.hash_key)
      end
      return out
    end
    local cmds = {}
    for i, dirs in ipairs { { "out", "in" }, { "in", "out" } } do
      cmds[i] = { policy(ip1, ip2, dirs[1], SPI[4]), policy(ip2, ip1, dirs[2], SPI[1]) }
      for _, c in ipairs(states()) do cmds[i][#cmds[i] + 1] = c end
    end
    return cmds
  end,
  capture = function(_, c)
    if c.ipcomp then return { p_filter = "", grep_for = { "IPComp" }, p_min = c.count } end
    return { p_filter = "ah", grep_for = { "AH%(spi=" .. SPI[3], "ESP%(spi=" .. SPI[2] }, p_min = 2 * c.count }
  end,
  after_ping = function(r, cfg, c, capture_ping)
    local big = {}
    for k, v in pairs(c) do big[k] = v end
    big.size = 1500
    if r.params.ipsec_mode == "tunnel" then
      big.ipcomp = true
      capture_ping(r, cfg, { big })
    else
      require("lnst.perf").ping(r, { big })
    end
  end,
}
