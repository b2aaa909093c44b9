-- lnst.json: JSON text for the machine-readable results (lnst.format's
-- json formatter, saved run files). Pure Lua so the formatters stay pure
-- functions the unit tests can call.
--
-- encode(v, opts): object keys sorted (the output is deterministic); a table
-- is an array when its keys are exactly 1..n (or it was marked with
-- M.array); an empty unmarked table is {}; NaN and infinities, which JSON
-- cannot carry, become null. opts.indent = "  " pretty-prints.
-- decode(text, init) -> value, next index | nil, "why at byte N". null
-- decodes to nil.
local M = {}

local ARRAY = {}

-- Marks t as an array (so an empty one encodes as []). Returns t.
function M.array(t)
  return setmetatable(t or {}, ARRAY)
end

local ESC = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f", ["\n"] = "\\n",
  ["\r"] = "\\r", ["\t"] = "\\t" }

local function quote(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return ESC[c] or string.format("\\u%04x", c:byte())
  end) .. '"'
end
M.quote = quote

local function number(n)
  if n ~= n or n == math.huge or n == -math.huge then return "null" end
  if n == math.floor(n) and math.abs(n) < 2 ^ 53 then return string.format("%d", n) end
  return string.format("%.17g", n)
end

local function is_array(t)
  if getmetatable(t) == ARRAY then return true, #t end
  local n = 0
  for _ in next, t do n = n + 1 end
  if n == 0 then return false, 0 end
  for i = 1, n do
    if t[i] == nil then return false, n end
  end
  return true, n
end

local function key_text(k)
  if type(k) == "string" then return k end
  if type(k) == "number" then return number(k) end
  return tostring(k)
end

local encode

function encode(v, out, indent, depth, seen)
  local t = type(v)
  if t == "nil" then out[#out + 1] = "null"
  elseif t == "boolean" then out[#out + 1] = tostring(v)
  elseif t == "number" then out[#out + 1] = number(v)
  elseif t == "string" then out[#out + 1] = quote(v)
  elseif t == "table" then
    if seen[v] then error("json.encode: the value contains a cycle", 0) end
    seen[v] = true
    local nl = indent and ("\n" .. indent:rep(depth + 1)) or ""
    local close = indent and ("\n" .. indent:rep(depth)) or ""
    local arr, n = is_array(v)
    if arr then
      if n == 0 then out[#out + 1] = "[]" else
        out[#out + 1] = "["
        for i = 1, n do
          if i > 1 then out[#out + 1] = "," end
          out[#out + 1] = nl
          encode(v[i], out, indent, depth + 1, seen)
        end
        out[#out + 1] = close .. "]"
      end
    else
      local keys = {}
      for k in next, v do keys[#keys + 1] = key_text(k) end
      table.sort(keys)
      local lookup = {}
      for k, x in next, v do lookup[key_text(k)] = x end
      if #keys == 0 then out[#out + 1] = "{}" else
        out[#out + 1] = "{"
        for i, k in ipairs(keys) do
          if i > 1 then out[#out + 1] = "," end
          out[#out + 1] = nl .. quote(k) .. (indent and ": " or ":")
          encode(lookup[k], out, indent, depth + 1, seen)
        end
        out[#out + 1] = close .. "}"
      end
    end
    seen[v] = nil
  else
    -- functions, userdata: what they are, so nothing is silently lost
    out[#out + 1] = quote("<" .. t .. ">")
  end
end

function M.encode(v, opts)
  local out = {}
  encode(v, out, opts and opts.indent, 0, {})
  return table.concat(out)
end

-- ---------------------------------------------------------------- decode

local decode_value

local function skip_ws(s, i)
  return s:find("[^ \t\r\n]", i) or #s + 1
end

local function fail(why, i)
  error({ json_error = why .. " at byte " .. i }, 0)
end

local function utf8(cp)
  if cp < 0x80 then return string.char(cp) end
  if cp < 0x800 then return string.char(0xC0 + math.floor(cp / 64), 0x80 + cp % 64) end
  if cp < 0x10000 then
    return string.char(0xE0 + math.floor(cp / 4096), 0x80 + math.floor(cp / 64) % 64, 0x80 + cp % 64)
  end
  return string.char(0xF0 + math.floor(cp / 262144), 0x80 + math.floor(cp / 4096) % 64,
    0x80 + math.floor(cp / 64) % 64, 0x80 + cp % 64)
end

local UNESC = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }

local function decode_string(s, i)
  local parts, j = {}, i + 1
  while true do
    local k = s:find('["\\%c]', j)
    if not k then fail("unterminated string", i) end
    parts[#parts + 1] = s:sub(j, k - 1)
    local c = s:sub(k, k)
    if c == '"' then return table.concat(parts), k + 1 end
    if c ~= "\\" then fail("control character in a string", k) end
    local e = s:sub(k + 1, k + 1)
    if UNESC[e] then
      parts[#parts + 1] = UNESC[e]
      j = k + 2
    elseif e == "u" then
      local hex = s:sub(k + 2, k + 5)
      if not hex:match("^%x%x%x%x$") then fail("bad \\u escape", k) end
      local cp = tonumber(hex, 16)
      j = k + 6
      if cp >= 0xD800 and cp <= 0xDBFF and s:sub(j, j + 1) == "\\u" then
        local lo = tonumber(s:sub(j + 2, j + 5), 16)
        if lo and lo >= 0xDC00 and lo <= 0xDFFF then
          cp = 0x10000 + (cp - 0xD800) * 1024 + (lo - 0xDC00)
          j = j + 6
        end
      end
      parts[#parts + 1] = utf8(cp)
    else
      fail("bad escape", k)
    end
  end
end

function decode_value(s, i)
  i = skip_ws(s, i)
  local c = s:sub(i, i)
  if c == "{" then
    local obj = {}
    i = skip_ws(s, i + 1)
    if s:sub(i, i) == "}" then return obj, i + 1 end
    while true do
      if s:sub(i, i) ~= '"' then fail("expected a string key", i) end
      local k
      k, i = decode_string(s, i)
      i = skip_ws(s, i)
      if s:sub(i, i) ~= ":" then fail("expected ':'", i) end
      local v
      v, i = decode_value(s, i + 1)
      obj[k] = v
      i = skip_ws(s, i)
      local d = s:sub(i, i)
      if d == "}" then return obj, i + 1 end
      if d ~= "," then fail("expected ',' or '}'", i) end
      i = skip_ws(s, i + 1)
    end
  elseif c == "[" then
    local arr, n = {}, 0
    i = skip_ws(s, i + 1)
    if s:sub(i, i) == "]" then return M.array(arr), i + 1 end
    while true do
      local v
      v, i = decode_value(s, i)
      n = n + 1
      arr[n] = v
      i = skip_ws(s, i)
      local d = s:sub(i, i)
      if d == "]" then return M.array(arr), i + 1 end
      if d ~= "," then fail("expected ',' or ']'", i) end
      i = i + 1
    end
  elseif c == '"' then
    return decode_string(s, i)
  elseif s:find("^true", i) then return true, i + 4
  elseif s:find("^false", i) then return false, i + 5
  elseif s:find("^null", i) then return nil, i + 4
  end
  local num = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", i)
  if num and num ~= "" and num ~= "-" then
    local v = tonumber(num)
    if v then return v, i + #num end
  end
  if i > #s then fail("unexpected end of text", i) end
  fail("unexpected character '" .. c .. "'", i)
end

function M.decode(s, init)
  if type(s) ~= "string" then return nil, "json.decode: expected a string" end
  local ok, v, nxt = pcall(decode_value, s, init or 1)
  if not ok then
    if type(v) == "table" and v.json_error then return nil, v.json_error end
    error(v, 0)
  end
  return v, nxt
end

return M
