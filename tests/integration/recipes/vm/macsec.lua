-- SimpleMacsec (stand-in for ENRT's SimpleMacsecRecipe): a MACsec device on
-- eth0 of each host with static keys in both directions, pinged over IPv4
-- and IPv6, with encryption on and then off; with encryption on, the peer
-- must have decrypted packets (ip -s macsec counters).
-- The devices are made with ip(8) in host:run: lnst.device.macsec exists,
-- but the agent's kind probe misses macsec on kernels that have it (it
-- probes macsec on a veth that already carries a macvlan, EBUSY), so the
-- agent refuses to create one; replace these commands with lnst.device.macsec
-- once that is fixed. SKIPPED when the kernel has no macsec.
local lnst = require "lnst"
local p = lnst.param

-- A counter from `ip -s macsec show`: a "stats:" line of names, the values
-- under it; the first such counter in the output.
local function counter(text, name)
  local lines = {}
  for l in text:gmatch("[^\n]+") do lines[#lines + 1] = l end
  for i, l in ipairs(lines) do
    local names = l:match("^%s*stats:(.*)$")
    if names and lines[i + 1] then
      local col = 0
      for n in names:gmatch("%S+") do
        col = col + 1
        if n == name then
          local v = 0
          for num in lines[i + 1]:gmatch("%d+") do
            v = v + 1
            if v == col then return tonumber(num) end
          end
        end
      end
    end
  end
end

local KEYS = { "81818181818181818181818181818181", "82828282828282828282828282828282" }

return lnst.recipe {
  name = "SimpleMacsec",
  params = { ping_count = p.int { default = 3, min = 1 } },
  hosts = {
    host1 = { eth0 = { network = "net1" } },
    host2 = { eth0 = { network = "net1" } },
  },
  test = function(r)
    local P = r.params
    local hs = { r.hosts.host1, r.hosts.host2 }
    local probe = hs[1]:run("ip link add link eth0 lnmsprobe type macsec 2>&1 && ip link del lnmsprobe; echo rc=$?",
      { desc = "is macsec in this kernel?", level = 3 })
    if not probe.stdout:find("rc=0", 1, true) then
      local why = "the kernel has no macsec (" .. probe.stdout:gsub("%s+", " ") .. ")"
      r.run:skip(why)
      error(lnst.results.skip_signal(why), 0)
    end
    local macs = {}
    for i, h in ipairs(hs) do
      h.eth0:up()
      macs[i] = h.eth0.hwaddr
    end
    for _, encrypt in ipairs { "on", "off" } do
      for i, h in ipairs(hs) do
        local peer = 3 - i
        h:run(string.format([[
set -e
ip link del ms0 2>/dev/null || true
ip link add link eth0 ms0 type macsec port 1 encrypt %s
ip macsec add ms0 tx sa 0 pn 1 on key 0%d %s
ip macsec add ms0 rx port 1 address %s
ip macsec add ms0 rx port 1 address %s sa 0 pn 1 on key 0%d %s
ip addr add 198.51.100.%d/24 dev ms0
ip addr add 2001:db8:1::%d/64 dev ms0 nodad
ip link set ms0 up]], encrypt, i, KEYS[i], macs[peer], macs[peer], peer, KEYS[peer], i, i),
          { desc = string.format("macsec ms0 on %s, encrypt %s", h.name, encrypt) })
      end
      for i, h in ipairs(hs) do
        h:run({ "ping", "-c", P.ping_count, "-i", "0.2", "-w", "10", "198.51.100." .. (3 - i) })
        h:run({ "ping", "-c", P.ping_count, "-i", "0.2", "-w", "10", "2001:db8:1::" .. (3 - i) })
      end
      local j = hs[2]:run({ "ip", "-s", "macsec", "show", "ms0" })
      local ok = counter(j.stdout, "InPktsOK")
      r:check(ok and ok > 0, string.format("host2 accepted protected packets with encrypt %s (InPktsOK %s)", encrypt,
        tostring(ok)), { stats = j.stdout })
      local enc = hs[1]:run({ "ip", "-s", "macsec", "show", "ms0" })
      local out = counter(enc.stdout, encrypt == "on" and "OutPktsEncrypted" or "OutPktsProtected")
      r:check(out and out > 0, string.format("host1 sent %s packets (%s)", encrypt == "on" and "encrypted"
        or "integrity-protected", tostring(out)), { stats = enc.stdout })
    end
  end,
}
