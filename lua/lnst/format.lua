-- lnst.format: turns a run (lnst.results) into text for people.
--
-- format.human renders the run summary printed at the end of `lnst run`, in
-- the layout of upstream LNST's human-readable summary: header, description,
-- pool match, one line per shown result (with its data tree), the exception
-- that ended the run, and the overall result. Output is deterministic: table
-- keys are sorted and nothing depends on addresses or hash order.
--
-- Pure functions of the run; the caller decides where the text goes and
-- whether colours are wanted (a tty and no NO_COLOR).

local R = require "lnst.results"

local M = {}

local INDENT = "    "

local COLOURS = { PASS = "\27[1;32m", FAIL = "\27[1;31m", WARNING = "\27[1;33m" }
local RESET = "\27[0m"

-- Upstream shows the source of its Result family as "TestResult:", with the
-- colon; job and device records show their source bare.
local COLON_TYPES = { result = true, measurement = true, description = true, exception = true }

local function fmt_number(n)
  if n ~= n then return "nan" end
  if n == math.huge then return "inf" end
  if n == -math.huge then return "-inf" end
  if n == math.floor(n) and math.abs(n) < 2 ^ 53 then return string.format("%d", n) end
  return string.format("%.14g", n)
end

local function split_lines(s)
  local lines = {}
  for l in (s .. "\n"):gmatch("(.-)\n") do lines[#lines + 1] = l end
  return lines
end

local function indented(depth, text)
  if text == "" then return "" end
  return INDENT:rep(depth) .. text
end

-- ------------------------------------------------------------ data tree

-- Text of a non-table value, or of a table shown through __tostring.
local function scalar_text(v)
  local t = type(v)
  if t == "number" then return fmt_number(v) end
  if t == "string" then return v end
  if t == "boolean" or t == "nil" then return tostring(v) end
  local mt = getmetatable(v)
  if (t == "table" or t == "userdata") and type(mt) == "table" and mt.__tostring then
    return tostring(v)
  end
  if t == "table" then return nil end
  return "<" .. t .. ">"
end

local TYPE_RANK = { number = 1, string = 2, boolean = 3 }

local function key_less(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then return (TYPE_RANK[ta] or 4) < (TYPE_RANK[tb] or 4) end
  if ta == "number" or ta == "string" then return a < b end
  if ta == "boolean" then return not a and b end
  return tostring(a) < tostring(b)
end

-- Number of items when t is a non-empty sequence 1..n, else nil.
local function array_length(t)
  local n = 0
  for _ in next, t do n = n + 1 end
  if n == 0 then return nil end
  for i = 1, n do
    if t[i] == nil then return nil end
  end
  return n
end

local add_value

-- Appends `label` and v to out: on one line when v is a one-line scalar,
-- otherwise the label alone and v's lines one level deeper.
local function add_entry(out, depth, label, v, ancestors)
  local text = scalar_text(v)
  if text == nil and ancestors[v] then text = "<cycle>" end
  if text == nil and next(v) == nil then text = "{}" end
  if text ~= nil and not text:find("\n") then
    out[#out + 1] = INDENT:rep(depth) .. label .. ": " .. text
  else
    out[#out + 1] = INDENT:rep(depth) .. label .. ":"
    add_value(out, depth + 1, v, ancestors)
  end
end

function add_value(out, depth, v, ancestors)
  local text = scalar_text(v)
  if text ~= nil then
    for _, l in ipairs(split_lines(text)) do out[#out + 1] = indented(depth, l) end
    return
  end
  ancestors[v] = true
  local n = array_length(v)
  if n then
    for i = 1, n do add_entry(out, depth, "item " .. i, v[i], ancestors) end
  else
    local keys = {}
    for k in next, v do keys[#keys + 1] = k end
    table.sort(keys, key_less)
    for _, k in ipairs(keys) do
      add_entry(out, depth, scalar_text(k) or "<table>", v[k], ancestors)
    end
  end
  ancestors[v] = nil
end

-- ------------------------------------------------------------ summary

local function painter(colour)
  if not colour then return function(word) return word end end
  return function(word)
    return COLOURS[word] and (COLOURS[word] .. word .. RESET) or word
  end
end

local function add_match(out, match)
  out[#out + 1] = "Pool match description:"
  if match == nil then return end
  local hosts = {}
  for i, h in ipairs(match) do hosts[i] = h end
  table.sort(hosts, function(a, b) return tostring(a.host) < tostring(b.host) end)
  for _, h in ipairs(hosts) do
    out[#out + 1] = string.format('  host "%s" uses "%s"', tostring(h.host), tostring(h.target))
    local nics = {}
    for i, nic in ipairs(h.nics or {}) do nics[i] = nic end
    table.sort(nics, function(a, b) return tostring(a.name) < tostring(b.name) end)
    for _, nic in ipairs(nics) do
      out[#out + 1] = string.format('    interface "%s" matched to "%s"',
        tostring(nic.name), tostring(nic.target))
    end
  end
end

-- "<head>\t<text>" for one line of text, else head and the text's lines
-- indented below it.
local function add_headed(out, head, text)
  text = text:gsub("\n$", "")
  if not text:find("\n") then
    out[#out + 1] = head .. "\t" .. text
    return
  end
  out[#out + 1] = head
  for _, l in ipairs(split_lines(text)) do out[#out + 1] = indented(1, l) end
end

-- A job start record followed by the passing finish of the same job adds
-- nothing the finish line does not say.
local function collapses(rec, next_rec)
  return next_rec ~= nil and rec.type == "job" and rec.action == "start"
    and rec.result ~= R.FAIL
    and next_rec.type == "job" and next_rec.action == "finish"
    and next_rec.job_id == rec.job_id and next_rec.host == rec.host
    and next_rec.result == R.PASS
end

-- opts.level: show records up to this level (default results.IMPORTANT);
-- FAIL records are shown whatever their level. opts.colour: ANSI colours.
function M.human(run, opts)
  opts = opts or {}
  local level = opts.level or R.IMPORTANT
  if level ~= R.IMPORTANT and level ~= R.NORMAL and level ~= R.DEBUG then
    error("format.human: level must be 1, 2 or 3, got " .. tostring(level), 2)
  end
  local paint = painter(opts.colour)
  local out = { "RUN SUMMARY", "Description:" }
  if run.description and run.description ~= "" then
    for _, l in ipairs(split_lines(tostring(run.description))) do out[#out + 1] = l end
  end
  add_match(out, run.match)

  local shown = {}
  for _, rec in ipairs(run.results) do
    if rec.result == R.FAIL or rec.level <= level then shown[#shown + 1] = rec end
  end
  for i, rec in ipairs(shown) do
    if not collapses(rec, shown[i + 1]) then
      local source = tostring(rec.source) .. (COLON_TYPES[rec.type] and ":" or "")
      add_headed(out, paint(rec.result) .. " " .. rec.index .. "_" .. source, rec.description or "")
      if rec.data ~= nil and rec.data_level <= level then
        add_value(out, 1, rec.data, {})
      end
    end
  end

  local exc = run.exception
  if exc then
    add_headed(out, paint(R.FAIL) .. " Exception:", tostring(exc.message))
    if exc.traceback and exc.traceback ~= "" then
      for _, l in ipairs(split_lines(tostring(exc.traceback))) do
        local tabs, rest = l:match("^(\t*)(.*)$")
        out[#out + 1] = indented(1, INDENT:rep(#tabs) .. rest)
      end
    end
  end

  out[#out + 1] = "Overall result of this Run: " .. paint(run:overall())
  return table.concat(out, "\n")
end

-- One record as the summary shows it, with its data (for a paused run).
function M.human_result(rec, opts)
  opts = opts or {}
  local paint = painter(opts.colour)
  local out = {}
  local source = tostring(rec.source) .. (COLON_TYPES[rec.type] and ":" or "")
  add_headed(out, paint(rec.result) .. " " .. tostring(rec.index) .. "_" .. source, rec.description or "")
  if rec.data ~= nil then add_value(out, 1, rec.data, {}) end
  return table.concat(out, "\n")
end

return M
