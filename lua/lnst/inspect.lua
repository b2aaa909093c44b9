-- lnst.inspect: readable, deterministic text for any Lua value (the REPL
-- prints results with it).
--
--   local inspect = require "lnst.inspect"
--   inspect({ 1, 2, name = "eth0" })          --> { 1, 2, name = "eth0" }
--   inspect(value, { depth = 4, indent = "  ", width = 80 })
--   inspect.values(...)                       --> each value, tab-separated
--
-- Keys are sorted, strings are quoted with escapes, short tables stay on one
-- line, longer ones are indented. Objects with a __tostring metamethod (hosts,
-- devices, jobs) print through it; functions and other opaque values print as
-- <function>, <userdata>, <thread> so output never shows addresses. A table
-- already being printed further up shows as <cycle>; tables deeper than
-- opts.depth as {...}.

local M = {}

local KEYWORDS = {}
for w in ([[and break do else elseif end false for function goto if in local
  nil not or repeat return then true until while]]):gmatch("%a+") do KEYWORDS[w] = true end

local function fmt_number(n)
  if n ~= n then return "nan" end
  if n == math.huge then return "inf" end
  if n == -math.huge then return "-inf" end
  if n == math.floor(n) and math.abs(n) < 2 ^ 53 then return string.format("%d", n) end
  for digits = 14, 16 do -- the shortest that reads back as the same number
    local s = string.format("%." .. digits .. "g", n)
    if tonumber(s) == n then return s end
  end
  return string.format("%.17g", n)
end

local ESCAPES = { ["\n"] = "\\n", ["\t"] = "\\t", ["\r"] = "\\r", ['"'] = '\\"', ["\\"] = "\\\\",
  ["\a"] = "\\a", ["\b"] = "\\b", ["\f"] = "\\f", ["\v"] = "\\v" }

local function quote(s)
  return '"' .. s:gsub('[%c"\\\127]', function(c)
    return ESCAPES[c] or string.format("\\%03d", c:byte())
  end) .. '"'
end

local function via_tostring(v)
  local mt = getmetatable(v)
  if type(mt) ~= "table" or mt.__tostring == nil then return nil end
  local ok, s = pcall(tostring, v)
  if ok and type(s) == "string" then return s end
  return "<" .. type(v) .. " (__tostring failed)>"
end

local TYPE_RANK = { number = 1, string = 2, boolean = 3 }

local render

local function key_text(k, opts, level, ancestors)
  if type(k) == "string" and k:match("^[%a_][%w_]*$") and not KEYWORDS[k] then return k end
  return "[" .. render(k, opts, level, ancestors) .. "]"
end

local function render_table(t, opts, level, ancestors)
  if ancestors[t] then return "<cycle>" end
  if next(t) == nil then return "{}" end
  if level >= opts.depth then return "{...}" end
  ancestors[t] = true

  local items = {}
  local n = 0
  while rawget(t, n + 1) ~= nil do
    n = n + 1
    items[n] = render(rawget(t, n), opts, level + 1, ancestors)
  end
  local keys = {}
  for k in next, t do
    if not (type(k) == "number" and k >= 1 and k <= n and k == math.floor(k)) then
      keys[#keys + 1] = k
    end
  end
  local shown = {}
  for _, k in ipairs(keys) do
    shown[k] = key_text(k, opts, level + 1, ancestors)
  end
  table.sort(keys, function(a, b)
    local ta, tb = type(a), type(b)
    if ta ~= tb then return (TYPE_RANK[ta] or 4) < (TYPE_RANK[tb] or 4) end
    if ta == "number" or ta == "string" then return a < b end
    if ta == "boolean" then return not a and b end
    return shown[a] < shown[b]
  end)
  for _, k in ipairs(keys) do
    items[#items + 1] = shown[k] .. " = " .. render(rawget(t, k), opts, level + 1, ancestors)
  end
  ancestors[t] = nil

  local one_line = "{ " .. table.concat(items, ", ") .. " }"
  if not one_line:find("\n") and #one_line + #opts.indent * level <= opts.width then
    return one_line
  end
  local pad = opts.indent:rep(level + 1)
  return "{\n" .. pad .. table.concat(items, ",\n" .. pad) .. "\n" .. opts.indent:rep(level) .. "}"
end

function render(v, opts, level, ancestors)
  local t = type(v)
  if t == "string" then return quote(v) end
  if t == "number" then return fmt_number(v) end
  if t == "boolean" or t == "nil" then return tostring(v) end
  if t == "cdata" then return tostring(v) end
  local s = via_tostring(v)
  if s then return s end
  if t == "table" then return render_table(v, opts, level, ancestors) end
  return "<" .. t .. ">"
end

-- opts: depth (nesting levels shown, default 4), indent (default two
-- spaces), width (longest one-line table, default 80).
function M.inspect(v, opts)
  opts = opts or {}
  local o = { depth = opts.depth or 4, indent = opts.indent or "  ", width = opts.width or 80 }
  return render(v, o, 0, {})
end

-- All arguments (nil included), each inspected, joined by tabs.
function M.values(...)
  local out = {}
  for i = 1, select("#", ...) do out[i] = M.inspect((select(i, ...))) end
  return table.concat(out, "\t")
end

return setmetatable(M, { __call = function(_, v, opts) return M.inspect(v, opts) end })
