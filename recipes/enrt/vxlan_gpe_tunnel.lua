-- VxlanGpeTunnel (LNST's VxlanGpeTunnelRecipe): as VxlanLwtTunnel with a
-- VXLAN-GPE device (external, gpe, no learning; UDP port 4790).
--   lnst run recipes/enrt/vxlan_gpe_tunnel.lua -p perf_duration=5
local tunnel = require "lnst.enrt.tunnel"
local d = require "lnst.device"

return tunnel.p2p {
  name = "VxlanGpeTunnel",
  description = "Lightweight VXLAN-GPE tunnel (external gpe device, encap routes) between two hosts",
  requires = { kinds = { "vxlan" }, tools = { "tcpdump" }, features = { "lwtunnel" } },
  lwt = true, inner = { "ipv4" },
  defaults = { ip_versions = { "ipv4" } },
  device = function() return d.vxlan { external = true, gpe = true, learning = false, dst_port = 4790 } end,
  capture = function() return { p_filter = "udp dst port 4790", grep_for = {} } end,
}
