-- Prints what Podman holds that a run could leave behind (podman_lib.sh):
--   lnst podman_state.lua SOCK CNI_SOCK TEST_ID
-- Containers are those of this build tree's test images (the services of
-- other trees share the storage); networks are per service anyway.
--   lnst podman_state.lua SOCK CNI_SOCK TEST_ID others
-- prints what the other containers (of other trees' tests, or anyone's
-- runs) hold on this machine, one a line: "prefix lnst-<run>-" for the
-- bridges and conflists of their runs, "netns NAME" for their named network
-- namespaces; so that leak checks can tell them from this test's leftovers.
local pc = require "lnst.podman_core"
local sock, cni_sock, id, what = arg[1], arg[2], arg[3], arg[4]

local function list(uri, path)
  local c = pc.client("unix://" .. uri, 10)
  local st, out, err = c:request("GET", path)
  c:close()
  if st ~= 200 then error(string.format("%s %s: %s %s", uri, path, st, err or "")) end
  return out
end

local function names(uri, path, field, keep)
  local out = {}
  for _, x in ipairs(list(uri, path)) do
    local v = x[field]
    if not keep or keep(x) then out[#out + 1] = type(v) == "table" and v[1] or v end
  end
  table.sort(out)
  return table.concat(out, " ")
end

local function ours(c)
  return tostring(c.Image):find("lnst%-test%-%a+%-" .. id:gsub("%p", "%%%0")) ~= nil
end

if what == "others" then
  local reqs = {}
  for _, c in ipairs(list(sock, "/containers/json?all=true")) do
    if not ours(c) then
      local run = c.Labels and c.Labels["lnst.run"]
      if run then print("prefix lnst-" .. run .. "-") end
      reqs[#reqs + 1] = { "GET", "/containers/" .. c.Id .. "/json" }
    end
  end
  local c = pc.client("unix://" .. sock, 10)
  for _, r in ipairs(c:batch(reqs)) do
    local key = r.status == 200 and type(r.body) == "table" and (r.body.NetworkSettings or {}).SandboxKey
    if type(key) == "string" and key ~= "" then print("netns " .. key:match("([^/]+)$")) end
  end
  c:close()
  return
end
print("containers: " .. names(sock, "/containers/json?all=true", "Names", ours))
print("networks: " .. names(sock, "/networks/json", "name"))
print("cni networks: " .. names(cni_sock, "/networks/json", "name"))
