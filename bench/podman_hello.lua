-- bench/podman.sh's timed part: container hosts of the podman provisioner.
--   lnst bench/podman_hello.lua URI IMAGE parallel N    one run of N hosts
--   lnst bench/podman_hello.lua URI IMAGE sequential N  N runs of one host, one
--                                                       after another
-- Prints the milliseconds from the start until every host has answered
-- hello (hosts without NICs, so the reference `podman run --network none`
-- does the same work); cleanup is not timed.
local core = require "lnst.core"
local podman = require "lnst.podman"
local uri, image, mode, n = arg[1], arg[2], arg[3], tonumber(arg[4] or 1)

local function hosts(first, count)
  local h = {}
  for i = first, first + count - 1 do h["b" .. i] = {} end
  return h
end

local provs = {}
local t0 = core.now()
local ok, err = pcall(function()
  if mode == "parallel" then
    provs[1] = podman.new { podman_uri = uri, image = image, network_backend = "netavark" }
    provs[1]:provision(hosts(1, n))
  else
    for i = 1, n do
      provs[i] = podman.new { podman_uri = uri, image = image, network_backend = "netavark" }
      provs[i]:provision(hosts(i, 1))
    end
  end
end)
local ms = (core.now() - t0) * 1000
for _, p in ipairs(provs) do
  for _, problem in ipairs(p:cleanup()) do io.stderr:write("cleanup: ", problem, "\n") end
end
if not ok then error(err, 0) end
print(string.format("%.0f", ms))
