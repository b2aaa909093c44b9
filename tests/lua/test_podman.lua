-- Unit tests for the pure parts of lnst.podman (options) and
-- lnst.container_runner (environment, recipe names, placement). The engine
-- modules are stand-ins: lnst.core is not used by these functions, and
-- lnst.podman_core's directory listing is done with ls.
-- Run from the repo root: luajit tests/lua/test_podman.lua
package.path = "lua/?.lua;lua/?/init.lua;tests/lua/?.lua;" .. package.path
package.preload["lnst.core"] = function() return { null = {} } end
package.preload["lnst.podman_core"] = function()
  return {
    URI_DEFAULT = "unix:///run/podman/podman.sock", CNI_DIR = "/etc/cni/net.d",
    -- the C client parses the URI when it opens (and raises, with a position)
    client = function(uri)
      if not (uri:match("^unix:/") or uri:match("^tcp://[^/]+:%d+$")) then
        error(string.format("Podman URI '%s': give unix:///PATH (the service's socket) or tcp://HOST:PORT", uri))
      end
      return { close = function() end }
    end,
    list_dir = function(dir)
      local p = io.popen("ls -A '" .. dir .. "' 2>/dev/null")
      local out = {}
      for line in p:lines() do out[#out + 1] = line end
      p:close()
      return out
    end,
  }
end
local T = require "testlib"
local podman = require "lnst.podman"
local runner = require "lnst.container_runner"

-- ------------------------------------------------------------ provisioner options

T.test("options: defaults and checks", function()
  local o = podman.options {}
  T.eq(o.podman_uri, "unix:///run/podman/podman.sock")
  T.eq(o.image, "localhost/lnst-agent:latest")
  T.eq(o.network_backend, "auto")
  T.eq(o.timeout, 30)
  T.raises(function() podman.options { network_backend = "vxlan" } end,
    "podman: unknown network backend 'vxlan' (known: auto, cni, netavark, netlink)")
  T.raises(function() podman.options { podman_timeout = 0 } end,
    "podman: podman_timeout must be a number of seconds > 0, not 0")
  T.raises(function() podman.options { image = "" } end, "podman: podman_uri and image must be strings")
  -- a malformed URI is told by options, without the client's position
  T.raises(function() podman.options { podman_uri = "http://h:1" } end,
    "podman: Podman URI 'http://h:1': give unix:///PATH (the service's socket) or tcp://HOST:PORT")
end)

T.test("cli_options: --podman and its companions", function()
  T.eq(podman.cli_options {}, {})
  local o = podman.cli_options { podman = true, podman_uri = "tcp://h:1", image = "i", network_backend = "cni",
    podman_timeout = "2.5" }
  T.eq(o, { provisioner = "podman", podman_uri = "tcp://h:1", image = "i", network_backend = "cni",
    podman_timeout = 2.5 })
  local no, why = podman.cli_options { image = "i" }
  T.eq(no, nil)
  T.eq(why, "--podman-uri, --image, --network-backend and --podman-timeout go with --podman")
  why = select(2, podman.cli_options { podman = true, podman_timeout = "soon" })
  T.eq(why, "--podman-timeout must be a number of seconds > 0, not 'soon'")
  why = select(2, podman.cli_options { podman = true, pools = { "p" } })
  T.eq(why, "--podman and --pool do not go together: hosts are either containers or pool machines")
  why = select(2, podman.cli_options { podman = true, network_backend = "bridge" })
  T.eq(why, "podman: unknown network backend 'bridge' (known: auto, cni, netavark, netlink)")
end)

-- ------------------------------------------------------------ container runner

T.test("flag: DEBUG=0 is off", function()
  for _, v in ipairs { "0", "", "false", "No", "OFF" } do T.eq(runner.flag("DEBUG", v), false, v) end
  T.eq(runner.flag("DEBUG", nil), false)
  for _, v in ipairs { "1", "true", "YES", "on" } do T.eq(runner.flag("DEBUG", v), true, v) end
  local v, why = runner.flag("DEBUG", "2")
  T.eq(v, nil)
  T.eq(why, "DEBUG must be 0 or 1 (or false/true, no/yes, off/on), not '2'")
end)

T.test("upstream_name: class names as recipe file names", function()
  T.eq(runner.upstream_name("SimpleNetworkRecipe"), "simple_network")
  T.eq(runner.upstream_name("XDPDropRecipe"), "xdp_drop")
  T.eq(runner.upstream_name("HelloWorldRecipe"), "hello_world")
  T.eq(runner.upstream_name("L2TPTunnelRecipe"), "l2tp_tunnel")
  T.eq(runner.upstream_name("Ip6GreTunnelRecipe"), "ip6gre_tunnel")
end)

local function tree()
  local d = os.tmpname()
  os.remove(d)
  assert(os.execute("mkdir -p " .. d .. "/r/enrt && touch " .. d .. "/r/hello_world.lua " .. d
    .. "/r/enrt/simple_network.lua " .. d .. "/r/enrt/ipip_tunnel.lua " .. d .. "/r/notes.txt") == 0)
  return d, { d .. "/r" }
end

T.test("find_recipe: names, paths, upstream class names", function()
  local d, dirs = tree()
  T.eq(runner.available(dirs), { "enrt/ipip_tunnel", "enrt/simple_network", "hello_world" })
  T.eq(runner.find_recipe("hello_world", dirs), d .. "/r/hello_world.lua")
  T.eq(runner.find_recipe("simple_network", dirs), d .. "/r/enrt/simple_network.lua")
  T.eq(runner.find_recipe("enrt/simple_network", dirs), d .. "/r/enrt/simple_network.lua")
  T.eq(runner.find_recipe(d .. "/r/hello_world.lua", dirs), d .. "/r/hello_world.lua")
  T.eq(runner.find_recipe("SimpleNetworkRecipe", dirs), d .. "/r/enrt/simple_network.lua")
  T.eq(runner.find_recipe("HelloWorldRecipe", dirs), d .. "/r/hello_world.lua")
  T.eq(runner.find_recipe("IpIpTunnelRecipe", dirs), d .. "/r/enrt/ipip_tunnel.lua")
  local no, why = runner.find_recipe("XDPDropRecipe", dirs)
  T.eq(no, nil)
  T.eq(why, "RECIPE XDPDropRecipe: no such recipe (upstream class XDPDropRecipe would be the recipe xdp_drop, "
    .. "which is not ported); available: enrt/ipip_tunnel, enrt/simple_network, hello_world (in " .. d .. "/r)")
  why = select(2, runner.find_recipe("nope", dirs))
  T.eq(why, "RECIPE nope: no such recipe; available: enrt/ipip_tunnel, enrt/simple_network, hello_world (in "
    .. d .. "/r)")
  why = select(2, runner.find_recipe("/no/such.lua", dirs))
  T.eq(why, "RECIPE /no/such.lua: no such file or recipe")
  os.execute("rm -rf " .. d)
end)

T.test("placement: Podman from the environment, else pool files, else an error", function()
  local function env(t) return function(k) return t[k] end end
  local o = runner.placement(env { PODMAN_URI = "unix:///x.sock", IMAGE_NAME = "img", NETWORK_BACKEND = "",
    PODMAN_TIMEOUT = "5" })
  T.eq(o, { provisioner = "podman", podman_uri = "unix:///x.sock", image = "img", podman_timeout = 5 })
  local no, why = runner.placement(env { PODMAN_URI = "unix:///x.sock", PODMAN_TIMEOUT = "later" })
  T.eq(no, nil)
  T.eq(why, "PODMAN_TIMEOUT must be a number of seconds")
  why = select(2, runner.placement(env { PODMAN_URI = "unix:///x.sock", NETWORK_BACKEND = "ovs" }))
  T.eq(why, "podman: unknown network backend 'ovs' (known: auto, cni, netavark, netlink)")
  local d = os.tmpname()
  os.remove(d)
  os.execute("mkdir -p " .. d)
  why = select(2, runner.placement(env { LNST_POOL_DIR = d }))
  T.eq(why, "where are the agents? Set PODMAN_URI (and IMAGE_NAME) for agents in containers, or copy pool files "
    .. "(*.xml) into or mount them at " .. d .. " for agents on machines")
  os.execute("touch " .. d .. "/m1.xml")
  o = runner.placement(env { LNST_POOL_DIR = d })
  T.eq(o, { provisioner = "agents", pools = { d } })
  os.execute("rm -rf " .. d)
end)

T.run()
