-- lnst.results: result records and the result list of one recipe run.
--
-- A run (R.new_run) is what a recipe execution leaves behind: the recipe
-- name, description, resolved params, the pool match, every result record in
-- order and the exception that ended the run, if any. Formatters (lnst.format)
-- read it; nothing here prints or talks to agents.
--
-- Result words and levels follow upstream LNST: PASS/FAIL/WARNING with FAIL
-- worst, levels IMPORTANT=1, NORMAL=2, DEBUG=3. A formatter at level L shows
-- records with level <= L (and every FAIL) and their data when data_level <= L.

local M = {}

M.PASS, M.FAIL, M.WARNING = "PASS", "FAIL", "WARNING"
-- The overall result of a run that was skipped (Run:skip); not a record's.
M.SKIPPED = "SKIPPED"
M.IMPORTANT, M.NORMAL, M.DEBUG = 1, 2, 3

local SEVERITY = { PASS = 1, WARNING = 2, FAIL = 3 }

-- Record types with their default level and data level. A job's data is one
-- level more verbose than the job itself, as upstream's job results are.
M.TYPES = {
  result = { level = M.IMPORTANT, data_level = M.NORMAL },
  measurement = { level = M.IMPORTANT, data_level = M.NORMAL },
  description = { level = M.IMPORTANT, data_level = M.NORMAL },
  exception = { level = M.IMPORTANT, data_level = M.NORMAL },
  job = { level = M.IMPORTANT, data_level = function(level) return math.min(level + 1, M.DEBUG) end },
  device_config = { level = M.NORMAL, data_level = M.NORMAL },
}

-- Wall-clock seconds with a fraction. Replace M.clock to control timestamps.
local function default_clock()
  return os.time()
end
do
  local ok, ffi = pcall(require, "ffi")
  if ok then
    local declared = pcall(ffi.cdef, [[
      typedef struct { long tv_sec; long tv_usec; } lnst_results_timeval;
      int gettimeofday(lnst_results_timeval *tv, void *tz);
    ]])
    if declared then
      local tv = ffi.new("lnst_results_timeval")
      default_clock = function()
        if ffi.C.gettimeofday(tv, nil) ~= 0 then return os.time() end
        return tonumber(tv.tv_sec) + tonumber(tv.tv_usec) / 1e6
      end
    end
  end
end
M.clock = default_clock

-- Accepts a result word or a boolean; returns the word or nil.
local function normalise(result)
  if result == true then return M.PASS end
  if result == false then return M.FAIL end
  if SEVERITY[result] then return result end
  return nil
end

local function check_result(result, where)
  local word = normalise(result)
  if not word then
    error(string.format("%s: result must be PASS, FAIL, WARNING or a boolean, got %s",
      where, type(result) == "string" and string.format("%q", result) or tostring(result)), 3)
  end
  return word
end

function M.worst(a, b)
  a, b = check_result(a, "results.worst"), check_result(b, "results.worst")
  return SEVERITY[a] >= SEVERITY[b] and a or b
end

local function check_level(v, name)
  if v ~= M.IMPORTANT and v ~= M.NORMAL and v ~= M.DEBUG then
    error(string.format("run:add: %s must be results.IMPORTANT (1), NORMAL (2) or DEBUG (3), got %s",
      name, tostring(v)), 3)
  end
end

local function default_source(rec)
  if rec.type == "job" then
    if rec.host ~= nil and rec.job_id ~= nil then
      return string.format("Host %s job %s", tostring(rec.host), tostring(rec.job_id))
    end
    return "Job"
  elseif rec.type == "device_config" then
    if rec.host ~= nil and rec.dev ~= nil then
      return string.format("Host %s device %s", tostring(rec.host), tostring(rec.dev))
    end
    return "DeviceConfig"
  end
  return "TestResult"
end

local Run = {}
Run.__index = Run

-- opts: recipe, description, params, match (see lnst.format for the shape
-- of match). Every field is optional.
function M.new_run(opts)
  opts = opts or {}
  return setmetatable({
    recipe = opts.recipe,
    description = opts.description,
    params = opts.params,
    match = opts.match,
    timestamp = M.clock(),
    results = {},
    exception = nil,
  }, Run)
end

-- How the REPL prints a run: its result, then one line per record the
-- default summary shows (IMPORTANT or FAIL) and the exception; every
-- record is in run.results.
function Run:__tostring()
  local lines = { string.format("<run %s: %s, %d results", tostring(self.recipe or "?"), self:overall(),
    #self.results) }
  local human = require("lnst.format").human_result
  for _, rec in ipairs(self.results) do
    if rec.level == M.IMPORTANT or rec.result == M.FAIL then
      lines[#lines + 1] = "  " .. human({ result = rec.result, index = rec.index, source = rec.source,
        type = rec.type, description = rec.description })
    end
  end
  if self.exception then lines[#lines + 1] = "  exception: " .. tostring(self.exception.message) end
  return table.concat(lines, "\n") .. ">"
end

-- Appends a record built from `fields` (which is not modified) and returns
-- it. Fills index (0-based), timestamp, type, level, data_level and source.
function Run:add(fields)
  if type(fields) ~= "table" then error("run:add: expected a table of fields", 2) end
  local rec = {}
  for k, v in next, fields do rec[k] = v end
  rec.result = check_result(fields.result, "run:add")
  rec.type = rec.type or "result"
  local defaults = M.TYPES[rec.type]
  if not defaults then
    local known = {}
    for t in next, M.TYPES do known[#known + 1] = t end
    table.sort(known)
    error(string.format("run:add: unknown type %q (known: %s)", tostring(rec.type),
      table.concat(known, ", ")), 2)
  end
  if rec.description == nil then rec.description = "" end
  if type(rec.description) ~= "string" then
    error("run:add: description must be a string, got a " .. type(rec.description), 2)
  end
  rec.level = rec.level or defaults.level
  check_level(rec.level, "level")
  if rec.data_level == nil then
    rec.data_level = defaults.data_level
    if type(rec.data_level) == "function" then rec.data_level = rec.data_level(rec.level) end
  end
  check_level(rec.data_level, "data_level")
  rec.source = rec.source or default_source(rec)
  rec.index = #self.results
  rec.timestamp = M.clock()
  self.results[#self.results + 1] = rec
  return rec
end

-- FAIL if any result failed or the run raised; WARNING if any warned;
-- PASS otherwise, including for a run without results.
-- SKIPPED when a record ended the run as skipped (Run:skip) and nothing
-- failed: the run could not test what it is for, which is neither PASS nor
-- FAIL.
function Run:overall()
  local overall = self.exception and M.FAIL or M.PASS
  local skipped = false
  for _, rec in ipairs(self.results) do
    overall = M.worst(overall, rec.result)
    skipped = skipped or rec.skip_run == true
  end
  if skipped and overall ~= M.FAIL then return M.SKIPPED end
  return overall
end

-- Records why the run is skipped (a missing kernel feature or tool): a
-- WARNING record marked skip_run, which makes the overall result SKIPPED.
-- r:require ends the test body with M.skip_signal after it.
function M.skip_record(reason, source)
  return { type = "result", result = M.WARNING, skip_run = true, skipped = true,
    description = "SKIPPED: " .. tostring(reason), source = source or "Requirement" }
end

function Run:skip(reason, source)
  return self:add(M.skip_record(reason, source))
end

-- The error value that ends a test body as skipped (not as an exception).
local Skip = {}
Skip.__tostring = function(s) return "skipped: " .. s.reason end
function M.skip_signal(reason) return setmetatable({ reason = reason }, Skip) end
function M.is_skip(x) return getmetatable(x) == Skip end

-- Records the error that ended the run (its message and traceback text).
function Run:set_exception(msg, traceback)
  self.exception = { message = tostring(msg), traceback = traceback }
end

return M
