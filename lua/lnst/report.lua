-- lnst.report: where a run's results go when it ends, and `lnst report`.
--
-- Outputs are formatter selections "NAME" or "NAME:FILE" (lnst run
-- --format, repeatable; or the FORMATTERS environment variable, comma
-- separated, which also takes upstream's class names such as
-- JsonRunSummaryFormatter). Without a FILE the text goes to the
-- controller's output (stdout). With none given, the human summary is
-- printed, as always. --save FILE writes the run file (lnst.runfile).
local format = require "lnst.format"
local runfile = require "lnst.runfile"

local M = {}

-- Upstream's formatter class names, as FORMATTERS may carry them.
M.ALIASES = {
  HumanReadableRunSummaryFormatter = "human",
  JsonRunSummaryFormatter = "json",
}

-- "json:out.json" -> { name = "json", file = "out.json" }; nil, why when
-- the name is not a formatter.
function M.parse(text)
  local name, file = tostring(text):match("^([^:]+):(.+)$")
  name = name or tostring(text)
  name = M.ALIASES[name] or name
  if not format.FORMATTERS[name] then
    local known = {}
    for k in pairs(format.FORMATTERS) do known[#known + 1] = k end
    table.sort(known)
    return nil, string.format("unknown format '%s' (known: %s)", name, table.concat(known, ", "))
  end
  return { name = name, file = file }
end

-- A list of selections from --format values, else FORMATTERS; nil, why.
function M.selections(given, env)
  local list = {}
  if given and #given > 0 then
    for _, g in ipairs(given) do list[#list + 1] = g end
  elseif env and env ~= "" then
    for item in env:gmatch("[^,;%s]+") do list[#list + 1] = item end
  end
  local out = {}
  for i, text in ipairs(list) do
    local sel, why = M.parse(text)
    if not sel then return nil, why end
    out[i] = sel
  end
  return out
end

local function write_file(path, text)
  local f, err = io.open(path, "wb")
  if not f then return nil, tostring(err) end
  -- a full disk shows on write or, buffered, on close: check both
  local wok, werr = f:write(text)
  local cok, cerr = f:close()
  if not wok or not cok then
    os.remove(path) -- no half-written output
    return nil, tostring(werr or cerr)
  end
  return true
end

-- Renders the run to every selection. opts: formats (selections; default
-- the human summary on output unless summary is false), output (file for
-- selections without one), level, colour (human on the output only), save
-- (run file path). Returns a list of problems (also printed on stderr).
function M.emit(run, opts)
  local problems = {}
  local formats = opts.formats
  if not formats or #formats == 0 then formats = opts.summary == false and {} or { { name = "human" } } end
  for _, sel in ipairs(formats) do
    local text = format.render(sel.name, run, { level = opts.level, colour = not sel.file and opts.colour })
    if sel.file then
      local ok, why = write_file(sel.file, text)
      if not ok then problems[#problems + 1] = string.format("--format %s:%s: %s", sel.name, sel.file, why) end
    else
      opts.output:write(text)
      opts.output:flush()
    end
  end
  if opts.save then
    local ok, why = runfile.save(run, opts.save)
    if not ok then problems[#problems + 1] = "--save " .. opts.save .. ": " .. why end
  end
  for _, p in ipairs(problems) do io.stderr:write("lnst: ", p, "\n") end
  run.output_problems = #problems > 0 and problems or nil
  return problems
end

return M
