-- lnst.util: small helpers shared by the library modules.
local M = {}

-- Keys of a table, sorted (strings before numbers, each in natural order).
function M.sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    local ta, tb = type(a), type(b)
    if ta ~= tb then return ta < tb end
    return a < b
  end)
  return keys
end

-- The network labels of a recipe's hosts ({ host = { nic = { network = } } }),
-- each once, sorted: the order in which provisioners make networks.
function M.network_labels(reqs)
  local seen, list = {}, {}
  for _, nics in pairs(reqs) do
    for nic, spec in pairs(nics) do
      if nic ~= "params" and not seen[spec.network] then
        seen[spec.network] = true
        list[#list + 1] = spec.network
      end
    end
  end
  table.sort(list)
  return list
end

-- "file:line" of the function at stack level `level` (caller's caller = 3).
function M.where(level)
  local info = debug.getinfo(level + 1, "Sl")
  if not info or info.currentline < 0 then return "?" end
  return (info.short_src or "?") .. ":" .. info.currentline
end

-- A valid Linux interface name: 1..15 chars, no '/', ':' or white space.
function M.valid_ifname(name)
  return type(name) == "string" and #name >= 1 and #name <= 15
    and not name:find("[/%s:]") and name ~= "." and name ~= ".."
end

return M
