-- lnst.runfile: saved runs (`lnst run --save run.json`, `lnst report`).
--
-- A run file is one JSON object (docs/results.md):
--   { "format": "lnst-run", "version": 1, "recipe", "description", "params",
--     "match", "timestamp", "overall", "exception" (when one stopped the run),
--     "results": [ every result record, with its data ] }
-- Upstream LNST pickles the whole RecipeRun; a pickle is tied to Python's
-- class layout, so the port keeps plain data that any tool can read and
-- that lnst report renders again with every formatter.
local json = require "lnst.json"
local results = require "lnst.results"

local M = {}

M.FORMAT, M.VERSION = "lnst-run", 1

-- The run as a plain table (what the file holds).
function M.encode(run)
  local recs = json.array {}
  for i, rec in ipairs(run.results) do recs[i] = rec end
  return json.encode({
    format = M.FORMAT, version = M.VERSION, recipe = run.recipe, description = run.description,
    params = run.params, match = run.match, timestamp = run.timestamp, overall = run:overall(),
    exception = run.exception, results = recs,
  }, { indent = " " }) .. "\n"
end

-- Writes the run to path (through a temporary file, so a reader never sees
-- half a file). Returns true or nil, why.
function M.save(run, path)
  local tmp = path .. ".tmp"
  local f, err = io.open(tmp, "wb")
  if not f then return nil, "cannot write the run file: " .. tostring(err) end
  local ok, text = pcall(M.encode, run)
  if not ok then
    f:close()
    os.remove(tmp)
    return nil, "cannot encode the run: " .. tostring(text)
  end
  -- a full disk shows on write or, buffered, on close: check both
  local wok, werr = f:write(text)
  local cok, cerr = f:close()
  if not wok or not cok then
    os.remove(tmp)
    return nil, "cannot write the run file: " .. tmp .. ": " .. tostring(werr or cerr)
  end
  local renamed, rerr = os.rename(tmp, path)
  if not renamed then
    os.remove(tmp)
    return nil, "cannot write the run file: " .. tostring(rerr)
  end
  return true
end

-- A run from the text of a run file; nil, why when it is not one.
function M.decode(text, where)
  where = where or "run file"
  local doc, why = json.decode(text)
  if type(doc) ~= "table" then return nil, string.format("%s: not JSON (%s)", where, tostring(why)) end
  if doc.format ~= M.FORMAT then
    return nil, string.format("%s: not an lnst run file (format is %s, expected \"%s\")", where,
      doc.format and ('"' .. tostring(doc.format) .. '"') or "missing", M.FORMAT)
  end
  if doc.version ~= M.VERSION then
    return nil, string.format("%s: run file version %s, this lnst reads version %d", where, tostring(doc.version),
      M.VERSION)
  end
  if type(doc.results) ~= "table" then return nil, where .. ": no results list" end
  local run = results.new_run { recipe = doc.recipe, description = doc.description, params = doc.params,
    match = doc.match }
  run.timestamp = doc.timestamp or 0
  for i, rec in ipairs(doc.results) do
    if type(rec) ~= "table" or not rec.result then
      return nil, string.format("%s: result %d is not a result record", where, i)
    end
    local d = results.TYPES[rec.type] or results.TYPES.result
    rec.index = rec.index or (i - 1)
    rec.level = rec.level or d.level
    if not rec.data_level then
      rec.data_level = type(d.data_level) == "function" and d.data_level(rec.level) or d.data_level
    end
    rec.source = rec.source or "TestResult"
    rec.description = rec.description or ""
    run.results[i] = rec
  end
  if type(doc.exception) == "table" then
    run:set_exception(doc.exception.message, doc.exception.traceback)
  end
  return run
end

function M.load(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, "cannot read the run file: " .. tostring(err) end
  local text = f:read("*a")
  f:close()
  return M.decode(text, path)
end

return M
