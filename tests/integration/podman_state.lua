-- Prints what Podman holds that a run could leave behind (podman_lib.sh):
--   lnst podman_state.lua SOCK CNI_SOCK TEST_ID
-- Containers are those of this build tree's test images (the services of
-- other trees share the storage); networks are per service anyway.
local pc = require "lnst.podman_core"
local sock, cni_sock, id = arg[1], arg[2], arg[3]

local function names(uri, path, field, keep)
  local c = pc.client("unix://" .. uri, 10)
  local st, list, err = c:request("GET", path)
  c:close()
  if st ~= 200 then error(string.format("%s %s: %s %s", uri, path, st, err or "")) end
  local out = {}
  for _, x in ipairs(list) do
    local v = x[field]
    if not keep or keep(x) then out[#out + 1] = type(v) == "table" and v[1] or v end
  end
  table.sort(out)
  return table.concat(out, " ")
end

local function ours(c)
  return tostring(c.Image):find("lnst%-test%-%a+%-" .. id:gsub("%p", "%%%0")) ~= nil
end

print("containers: " .. names(sock, "/containers/json?all=true", "Names", ours))
print("networks: " .. names(sock, "/networks/json", "name"))
print("cni networks: " .. names(cni_sock, "/networks/json", "name"))
