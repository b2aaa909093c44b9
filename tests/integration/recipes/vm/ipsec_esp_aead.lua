-- IpsecEspAead (stand-in for ENRT's IpsecEspAeadRecipe): IPsec ESP in
-- transport mode between two hosts with an AEAD cipher, rfc4106(gcm(aes))
-- (AES-GCM, 128-bit key + 32-bit salt, 128-bit ICV), over IPv4 and IPv6; the
-- states and policies are made with ip xfrm (the agent has no xfrm methods
-- yet). Pings go through, and both hosts' inbound states must have counted
-- them. SKIPPED when the kernel cannot make the states (no ESP).
local lnst = require "lnst"
local p = lnst.param

local KEY = "0x" .. string.rep("3132333435363738", 2) .. "31323334" -- 128-bit key + 32-bit salt

return lnst.recipe {
  name = "IpsecEspAead",
  params = {
    ping_count = p.int { default = 3, min = 1 },
    algorithm = p.str { default = "rfc4106(gcm(aes))" },
  },
  hosts = {
    host1 = { eth0 = { network = "net1" } },
    host2 = { eth0 = { network = "net1" } },
  },
  test = function(r)
    local P = r.params
    local hs = { r.hosts.host1, r.hosts.host2 }
    local v4 = { "198.51.100.1", "198.51.100.2" }
    local v6 = { "2001:db8:1::1", "2001:db8:1::2" }
    for i, h in ipairs(hs) do
      h.eth0:ip_add(v4[i] .. "/24")
      h.eth0:ip_add(v6[i] .. "/64", { nodad = true })
      h.eth0:up()
    end
    for i, h in ipairs(hs) do
      local lines = {}
      for _, a in ipairs { v4, v6 } do
        local me, peer = a[i], a[3 - i]
        -- SPI 0x100 + n: 1 = host1 -> host2, 2 = host2 -> host1; the same on both sides
        for dir, pair in ipairs { { a[1], a[2] }, { a[2], a[1] } } do
          local spi = (a == v4 and 0x100 or 0x200) + dir
          lines[#lines + 1] = string.format("ip xfrm state add src %s dst %s proto esp spi 0x%x mode transport "
            .. "aead '%s' %s 128", pair[1], pair[2], spi, P.algorithm, KEY)
        end
        lines[#lines + 1] = string.format("ip xfrm policy add src %s dst %s dir out tmpl proto esp mode transport",
          me, peer)
        lines[#lines + 1] = string.format("ip xfrm policy add src %s dst %s dir in tmpl proto esp mode transport",
          peer, me)
      end
      local j = h:run("(set -e\n" .. table.concat(lines, "\n") .. ") 2>&1; echo rc=$?",
        { desc = "ESP states and policies on " .. h.name })
      local made = j.stdout:find("rc=0", 1, true) ~= nil
      if i == 1 and not made then
        local why = "the kernel cannot make ESP " .. P.algorithm .. " states: " .. j.stdout:gsub("%s+", " ")
        r.run:skip(why)
        error(lnst.results.skip_signal(why), 0)
      end
      r:check(made, "ESP states and policies on " .. h.name, { output = j.stdout })
    end
    for i, h in ipairs(hs) do
      h:run({ "ping", "-c", P.ping_count, "-i", "0.2", "-w", "10", v4[3 - i] })
      h:run({ "ping", "-c", P.ping_count, "-i", "0.2", "-w", "10", v6[3 - i] })
    end
    for i, h in ipairs(hs) do
      local j = h:run({ "ip", "-s", "xfrm", "state", "list", "dst", v4[i] })
      local pkts = tonumber(j.stdout:match("lifetime current:%s*\n%s*%d+%(bytes%), (%d+)%(packets%)") or "")
      r:check(pkts and pkts >= P.ping_count, string.format("%s's inbound ESP state counted %s packets", h.name,
        tostring(pkts)), { state = j.stdout })
    end
  end,
}
