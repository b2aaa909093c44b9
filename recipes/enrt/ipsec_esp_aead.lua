-- IpsecEspAead (LNST's IpsecEspAeadRecipe): host1.eth0 and host2.eth0 in
-- two networks with host routes (lnst.enrt.ipsec); per IP version an ESP
-- security association pair with rfc4106(gcm(aes)) (160-bit key, 96-bit
-- ICV; SPIs 0x00001000 host1 -> host2, 0x00001001 back) in ipsec_mode.
-- Pings are checked by a capture of ESP with SPI 0x00001001 on host2.eth0.
-- ipsec_offload_modprobe loads esp4_offload/esp6_offload on both hosts
-- (unloaded at the end).
--   lnst run --vm recipes/enrt/ipsec_esp_aead.lua -p perf_duration=5
local ipsec = require "lnst.enrt.ipsec"
local key = require("lnst.enrt.mixins.ipsec").key
local p = require "lnst.param"
local results = require "lnst.results"

local SPI = { "0x00001000", "0x00001001" }

local function modules(r, args)
  for _, h in ipairs { r.hosts.host1, r.hosts.host2 } do h:run(args, { level = results.NORMAL }) end
end

return ipsec.recipe {
  name = "IpsecEspAead",
  description = "IPsec ESP with an AEAD cipher between two hosts",
  requires = { tools = { "tcpdump" }, features = { "esp" } },
  params = {
    ipsec_offload_modprobe = p.bool { default = false, doc = "modprobe esp4_offload and esp6_offload first" },
  },
  algorithms = function()
    return { { desc = "rfc4106(gcm(aes)) algorithm using key length of 160 and icv length of 96",
      name = "rfc4106(gcm(aes))", key_len = 160, icv_len = 96 } }
  end,
  -- the same states on both hosts; each host's policies: in from the peer, out to it
  commands = function(P, alg, ip1, ip2)
    local out = {}
    for i, ends in ipairs { { ip2, ip1 }, { ip1, ip2 } } do
      local peer, me = ends[1], ends[2]
      local function state(src, dst, spi)
        return string.format("ip xfrm state add src %s dst %s proto esp spi %s aead '%s' %s %d mode %s sel src %s "
          .. "dst %s", src, dst, spi, alg.name, key(alg.key_len), alg.icv_len, P.ipsec_mode, src, dst)
      end
      local function policy(src, dst, dir)
        return string.format("ip xfrm policy add src %s dst %s dir %s tmpl src %s dst %s proto esp mode %s action "
          .. "allow", src, dst, dir, src, dst, P.ipsec_mode)
      end
      out[i] = { state(ip2, ip1, SPI[2]), policy(peer, me, "in"), state(ip1, ip2, SPI[1]), policy(me, peer, "out") }
    end
    return out
  end,
  capture = function(_, c)
    return { p_filter = "esp", grep_for = { "ESP%(spi=" .. SPI[2] }, p_min = c.count }
  end,
  configure_extra = function(r)
    if r.params.ipsec_offload_modprobe then modules(r, { "modprobe", "-a", "esp4_offload", "esp6_offload" }) end
  end,
  deconfigure = function(r)
    if r.params.ipsec_offload_modprobe then modules(r, { "modprobe", "-r", "esp4_offload", "esp6_offload" }) end
  end,
}
