-- A test module of the integration tests' own (lnst.tests.from_file): it
-- raises, outlives its timeout or reports, as params.mode says.
local M = {}

local function explode(what)
  error("kaboom: " .. what)
end

function M.run(p, api)
  if p.mode == "raise" then explode("on purpose") end
  if p.mode == "sleep" then api.sleep(60) end
  if p.mode == "bad-result" then return { f = math.huge }, true end
  return { host = api.host }, true
end

return M
