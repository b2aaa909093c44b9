-- lnst.container_runner: the containerized controller (the entrypoint of
-- the controller image, container_files/controller/entrypoint). It runs one
-- recipe described by environment variables:
--   RECIPE         a recipe name from the recipe directories (hello_world,
--                  enrt/simple_network), a path, or an upstream class name
--                  (SimpleNetworkRecipe -> simple_network)
--   RECIPE_PARAMS  key=value;key=value: values are literals (numbers,
--                  strings, [lists], {dicts}) parsed as data, never run
--   FORMATTERS     human;json;junit (upstream class names too): written to
--                  the results directory; the human summary also to stdout
--   DEBUG          0 or 1 (also false/true, no/yes, off/on); "0" is off
--   PODMAN_URI, IMAGE_NAME, NETWORK_BACKEND, PODMAN_TIMEOUT
--                  agents in containers of that Podman service
--   otherwise      agents on machines of the pool directory (pool files
--                  copied into or mounted at /root/.lnst/pool)
-- LNST_RECIPES (directories, ':'-separated), LNST_POOL_DIR and
-- LNST_RESULTS_DIR move the defaults. Exit code: the run's (0 passed, 1 a
-- check failed, 2 an error).
local core = require "lnst.core"
local pc = require "lnst.podman_core"

local M = {}

M.POOL_DIR = "/root/.lnst/pool"
M.RESULTS_DIR = "/root/.lnst/results"
M.EXTENSIONS = { human = "txt", json = "json", junit = "xml" }

local function errln(fmt, ...)
  io.stderr:write("lnst-controller: ", string.format(fmt, ...), "\n")
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

-- DEBUG and the like: true, false, or nil, why.
function M.flag(name, text)
  if text == nil or text == "" then return false end
  local t = text:lower()
  if t == "0" or t == "false" or t == "no" or t == "off" then return false end
  if t == "1" or t == "true" or t == "yes" or t == "on" then return true end
  return nil, string.format("%s must be 0 or 1 (or false/true, no/yes, off/on), not '%s'", name, text)
end

function M.recipe_dirs(env)
  local dirs = {}
  local given = env("LNST_RECIPES")
  if given and given ~= "" then
    for d in given:gmatch("[^:]+") do dirs[#dirs + 1] = d end
    return dirs
  end
  dirs[1] = "/usr/share/lnst/recipes"
  dirs[2] = "recipes"
  if pc.SOURCE_DIR then dirs[3] = pc.SOURCE_DIR .. "/recipes" end
  return dirs
end

-- SimpleNetworkRecipe -> simple_network, XDPDropRecipe -> xdp_drop (how
-- an upstream class name would be spelt as a recipe file).
function M.upstream_name(class)
  local base = class:gsub("Recipe$", "")
  base = base:gsub("(%u)(%u%l)", "%1_%2"):gsub("(%l)(%u)", "%1_%2")
  return base:lower()
end

-- A recipe name without case and separators: IpIpTunnelRecipe and
-- enrt/ipip_tunnel both give "ipiptunnel".
local function squashed(name)
  return (name:gsub("Recipe$", ""):match("([^/]+)$") or ""):gsub("[_%-]", ""):lower()
end

-- Every recipe name the directories offer, one level of subdirectories
-- deep (enrt/simple_network); sorted, unique.
function M.available(dirs)
  local seen, out = {}, {}
  local function scan(dir, prefix, depth)
    for _, e in ipairs(pc.list_dir(dir) or {}) do
      local name = e:match("^(.+)%.lua$")
      if name and not seen[prefix .. name] then
        seen[prefix .. name] = true
        out[#out + 1] = prefix .. name
      elseif not name and depth > 0 and not e:find("^%.") then
        scan(dir .. "/" .. e, prefix .. e .. "/", depth - 1)
      end
    end
  end
  for _, d in ipairs(dirs) do scan(d, "", 1) end
  table.sort(out)
  return out
end

-- The recipe file for RECIPE; nil, why.
function M.find_recipe(name, dirs)
  if name:find("/") or name:find("%.lua$") then
    if exists(name) then return name end
    if not name:find("%.lua$") then
      -- a name with a directory: enrt/simple_network
      for _, d in ipairs(dirs) do
        if exists(d .. "/" .. name .. ".lua") then return d .. "/" .. name .. ".lua" end
      end
    end
    return nil, string.format("RECIPE %s: no such file or recipe", name)
  end
  local function locate(n)
    for _, d in ipairs(dirs) do
      for _, path in ipairs { d .. "/" .. n .. ".lua", d .. "/enrt/" .. n .. ".lua" } do
        if exists(path) then return path end
      end
    end
  end
  local found = locate(name)
  if found then return found end
  local avail = M.available(dirs)
  local upstream = name:match("^%u%w*$") and name
  if upstream then -- an upstream class name: the recipe whose name matches it
    for _, a in ipairs(avail) do
      if squashed(a) == squashed(upstream) then return locate(a) end
    end
  end
  local mapped = upstream and string.format(" (upstream class %s would be the recipe %s, which is not "
    .. "ported)", name, M.upstream_name(name)) or ""
  return nil, string.format("RECIPE %s: no such recipe%s; available: %s (in %s)", name, mapped,
    #avail > 0 and table.concat(avail, ", ") or "none", table.concat(dirs, ", "))
end

local function pool_files(dir)
  local n = 0
  for _, e in ipairs(pc.list_dir(dir) or {}) do if e:match("%.xml$") then n = n + 1 end end
  return n
end

-- mkdir -p; true | nil, err
local function make_dirs(path)
  local at = path:sub(1, 1) == "/" and "" or "."
  for part in path:gmatch("[^/]+") do
    at = at .. "/" .. part
    local ok, err, code = pc.mkdir(at, tonumber("755", 8))
    if not ok and code ~= "EEXIST" then return nil, err end
  end
  return true
end

-- The controller options for where the agents are; nil, why.
function M.placement(env)
  local uri = env("PODMAN_URI")
  if uri and uri ~= "" then
    local timeout = env("PODMAN_TIMEOUT")
    local o = { provisioner = "podman", podman_uri = uri, image = env("IMAGE_NAME"),
      network_backend = env("NETWORK_BACKEND"), podman_timeout = timeout and tonumber(timeout) }
    if timeout and not o.podman_timeout then return nil, "PODMAN_TIMEOUT must be a number of seconds" end
    if o.image == "" then o.image = nil end
    if o.network_backend == "" then o.network_backend = nil end
    local ok, err = pcall(require("lnst.podman").options, o)
    if not ok then return nil, tostring(err) end
    return o
  end
  local dir = env("LNST_POOL_DIR") or M.POOL_DIR
  if pool_files(dir) > 0 then
    local ok = pcall(require, "lnst.agents")
    if not ok then return nil, "this lnst has no pool support (lnst.agents) for the pool files in " .. dir end
    return { provisioner = "agents", pools = { dir } }
  end
  return nil, string.format("where are the agents? Set PODMAN_URI (and IMAGE_NAME) for agents in containers, "
    .. "or copy pool files (*.xml) into or mount them at %s for agents on machines", dir)
end

-- Runs the recipe the environment describes; returns the exit code.
-- env: a function like os.getenv (tests pass their own).
function M.main(env)
  env = env or os.getenv
  _G.lnst = require "lnst"
  local debug, why = M.flag("DEBUG", env("DEBUG"))
  if debug == nil then errln("%s", why); return 2 end
  local name = env("RECIPE")
  local dirs = M.recipe_dirs(env)
  if not name or name == "" then
    local avail = M.available(dirs)
    errln("RECIPE is not set: name a recipe (available: %s)", #avail > 0 and table.concat(avail, ", ") or "none")
    return 2
  end
  local path, err = M.find_recipe(name, dirs)
  if not path then errln("%s", err); return 2 end
  local recipe, lerr = require("lnst.cli").load_recipe(path)
  if not recipe then errln("%s", lerr); return 2 end
  local params, perr = core.assignments(env("RECIPE_PARAMS") or "", ";")
  if not params then errln("RECIPE_PARAMS: %s", perr); return 2 end
  local report = require "lnst.report"
  local formats, ferr = report.selections(nil, env("FORMATTERS") or "human")
  if not formats then errln("FORMATTERS: %s", ferr); return 2 end
  local where, werr = M.placement(env)
  if not where then errln("%s", werr); return 2 end
  -- outputs: a results directory per run
  local root = env("LNST_RESULTS_DIR") or M.RESULTS_DIR
  local dir = string.format("%s/%s-%s", root, recipe.name:gsub("[^%w_.-]", "_"), os.date("%Y%m%d-%H%M%S"))
  local mok, merr = make_dirs(dir)
  if not mok then errln("results: %s", merr); return 2 end
  local outs = { { name = "human" } }
  for _, sel in ipairs(formats) do
    outs[#outs + 1] = { name = sel.name, file = sel.file or (dir .. "/result." .. M.EXTENSIONS[sel.name]) }
  end
  io.stdout:write(string.format("lnst-controller: recipe %s (%s), agents: %s%s; results in %s\n", recipe.name,
    path, where.provisioner, where.podman_uri and (" at " .. where.podman_uri) or "", dir))
  io.stdout:flush()
  local ctl = require("lnst.controller").new {
    debug = debug, provisioner = where.provisioner, pools = where.pools, podman_uri = where.podman_uri,
    image = where.image, network_backend = where.network_backend, podman_timeout = where.podman_timeout,
    formats = outs, save = dir .. "/run.json", colour = false,
  }
  local ok, run = pcall(ctl.run, ctl, recipe, params)
  if not ok then errln("%s: %s", name, tostring(run)); return 2 end
  if run.output_problems then return 2 end
  return run:exit_code()
end

return M
