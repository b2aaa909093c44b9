-- VxlanLwtTunnel (LNST's VxlanLwtTunnelRecipe): an external (collect
-- metadata) vxlan device per host, /32 addresses on lo, and lightweight-tunnel
-- routes `encap ip id 1234 dst <peer carrier>`; pings are checked by a capture
-- of VXLAN on the carrier. Upstream tests IPv4 only.
--   lnst run recipes/enrt/vxlan_lwt_tunnel.lua -p perf_duration=5
local enrt = require "lnst.enrt"
local tunnel = require "lnst.enrt.tunnel"
local d = require "lnst.device"

return tunnel.p2p {
  name = "VxlanLwtTunnel",
  description = "Lightweight vxlan tunnel (external device, encap routes) between two hosts",
  requires = { kinds = { "vxlan" }, tools = { "tcpdump" }, features = { "lwtunnel" } },
  lwt = true, inner = { "ipv4" },
  defaults = { ip_versions = { "ipv4" } },
  device = function() return d.vxlan { external = true, dst_port = 4789 } end,
  capture = function(_, c)
    return { p_filter = "udp dst port 4789", grep_for = { enrt.strip(c.client_bind):gsub("%.", "%%.")
      .. " > " .. enrt.strip(c.destination_address):gsub("%.", "%%.") .. ": ICMP echo request" } }
  end,
}
