-- lnst.param: recipe (and test module) parameter types.
--
-- A parameter spec is declared with a constructor (p.int{...}, p.ip{...}) and
-- knows how to check and convert one value (spec:check) and describe itself
-- in a few words (spec:describe). p.resolve applies a table of specs to the
-- values a user gave, filling defaults and collecting every error at once.
--
-- Kinds: int, float, str, bool, list, dict, choice, const, ip, network,
-- hostname, and any (no check, upstream's plain Param). p.parse_ip and
-- p.format_ip expose the address parser for other modules.
--
-- Ports the behaviour of upstream LNST's Parameters.py with its holes closed:
-- integers are not silently truncated, bools take "true"/"false" strings (CLI
-- values arrive as strings), network params reject set host bits with a
-- message instead of crashing, and field typos in a declaration are errors.
--
-- Pure Lua: no engine calls, nothing here touches the network.

local M = {}

local Param = {}
Param.__index = Param

-- ---------------------------------------------------------------- helpers

local function fmt_number(n)
  if n ~= n then return "nan" end
  if n == math.huge then return "inf" end
  if n == -math.huge then return "-inf" end
  if n == math.floor(n) and math.abs(n) < 2 ^ 53 then
    return string.format("%d", n)
  end
  return string.format("%.14g", n)
end

-- User text as it may appear in a message: control characters (a newline
-- would split a one-problem-per-line error), '"' and '\' as escapes.
local function escape(s)
  return (s:gsub('[%c"\\]', function(c)
    if c == "\n" then return "\\n" end
    if c == "\t" then return "\\t" end
    if c == '"' or c == "\\" then return "\\" .. c end
    return string.format("\\%03d", c:byte())
  end))
end

local function quote(s)
  return '"' .. escape(s) .. '"'
end

-- How a value appears after "got" in a message.
local function show(v)
  local t = type(v)
  if t == "string" then return quote(v) end
  if t == "number" then return fmt_number(v) end
  if t == "boolean" or t == "nil" then return tostring(v) end
  return "a " .. t
end

local function bounds_text(spec, sep)
  local parts = {}
  if spec.min then parts[#parts + 1] = ">= " .. fmt_number(spec.min) end
  if spec.max then parts[#parts + 1] = "<= " .. fmt_number(spec.max) end
  if #parts == 0 then return "" end
  return " " .. table.concat(parts, sep)
end

local function check_bounds(spec, n, what)
  if (spec.min and n < spec.min) or (spec.max and n > spec.max) then
    return nil, "expected " .. what .. bounds_text(spec, " and ")
  end
  return n
end

local function deep_copy(v, seen)
  if type(v) ~= "table" then return v end
  seen = seen or {}
  if seen[v] then return seen[v] end
  local c = {}
  seen[v] = c
  for k, x in next, v do c[deep_copy(k, seen)] = deep_copy(x, seen) end
  return setmetatable(c, getmetatable(v))
end

local function deep_equal(a, b)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  for k, v in next, a do
    if not deep_equal(v, b[k]) then return false end
  end
  for k in next, b do
    if a[k] == nil then return false end
  end
  return true
end

local function sorted_keys(t)
  local keys = {}
  for k in next, t do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  return keys
end

-- ---------------------------------------------------------------- addresses

local function parse_v4(s)
  local a, b, c, d = s:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  if not a then return nil, "not a dotted quad" end
  local bytes = {}
  for i, octet in ipairs { a, b, c, d } do
    if #octet > 1 and octet:sub(1, 1) == "0" then
      return nil, "octet " .. octet .. " has a leading zero"
    end
    local n = tonumber(octet)
    if #octet > 3 or n > 255 then return nil, "octet " .. octet .. " > 255" end
    bytes[i] = n
  end
  return bytes
end

-- Parses the groups on one side of "::" into 16-bit numbers; a dotted quad
-- is allowed as the very last piece of the address (v4_ok).
local function parse_groups(part, v4_ok)
  local groups = {}
  if part == "" then return groups end
  local pieces = {}
  for piece in (part .. ":"):gmatch("([^:]*):") do pieces[#pieces + 1] = piece end
  for i, piece in ipairs(pieces) do
    if piece:find(".", 1, true) and i == #pieces and v4_ok then
      local bytes, why = parse_v4(piece)
      if not bytes then return nil, "bad IPv4 tail (" .. why .. ")" end
      groups[#groups + 1] = bytes[1] * 256 + bytes[2]
      groups[#groups + 1] = bytes[3] * 256 + bytes[4]
    elseif piece:match("^%x%x?%x?%x?$") then
      groups[#groups + 1] = tonumber(piece, 16)
    elseif piece == "" then
      return nil, "empty group"
    else
      return nil, "bad group '" .. escape(piece) .. "'"
    end
  end
  return groups
end

local function parse_v6(s)
  if s:find(":::", 1, true) then return nil, "':::' is not allowed" end
  local head, tail = s:match("^(.-)::(.*)$")
  local groups
  if head then
    if tail:find("::", 1, true) then return nil, "'::' used more than once" end
    local h, why = parse_groups(head, false)
    if not h then return nil, why end
    local t
    t, why = parse_groups(tail, true)
    if not t then return nil, why end
    if #h + #t > 7 then return nil, "too many groups" end
    groups = h
    for _ = 1, 8 - #h - #t do groups[#groups + 1] = 0 end
    for _, g in ipairs(t) do groups[#groups + 1] = g end
  else
    local why
    groups, why = parse_groups(s, true)
    if not groups then return nil, why end
    if #groups ~= 8 then return nil, "has " .. #groups .. " groups instead of 8" end
  end
  local bytes = {}
  for i, g in ipairs(groups) do
    bytes[2 * i - 1] = math.floor(g / 256)
    bytes[2 * i] = g % 256
  end
  return bytes
end

-- Parses "address[/prefix]". Returns { family = 4|6, bytes = {...},
-- prefix = n or nil } or nil, reason.
function M.parse_ip(text)
  if type(text) ~= "string" then return nil, "not a string" end
  local addr, prefix = text:match("^([^/]*)/(.*)$")
  addr = addr or text
  local family, bytes, why
  if addr:find(":", 1, true) then
    family = 6
    bytes, why = parse_v6(addr)
  else
    family = 4
    bytes, why = parse_v4(addr)
  end
  if not bytes then return nil, why end
  local plen
  if prefix then
    local limit = family == 4 and 32 or 128
    if not prefix:match("^%d%d?%d?$") then
      return nil, "bad prefix length '" .. escape(prefix) .. "'"
    end
    plen = tonumber(prefix)
    if plen > limit then
      return nil, "prefix length " .. plen .. " > " .. limit
    end
  end
  return { family = family, bytes = bytes, prefix = plen }
end

-- Text of an address (RFC 5952 form for IPv6).
function M.format_ip(family, bytes)
  if family == 4 then return table.concat(bytes, ".", 1, 4) end
  local groups = {}
  for i = 1, 8 do groups[i] = bytes[2 * i - 1] * 256 + bytes[2 * i] end
  local best, best_len, i = nil, 1, 1
  while i <= 8 do
    if groups[i] == 0 then
      local j = i
      while j < 8 and groups[j + 1] == 0 do j = j + 1 end
      if j - i + 1 > best_len then best, best_len = i, j - i + 1 end
      i = j + 1
    else
      i = i + 1
    end
  end
  local function hex(from, to)
    local out = {}
    for k = from, to do out[#out + 1] = string.format("%x", groups[k]) end
    return table.concat(out, ":")
  end
  if not best then return hex(1, 8) end
  return hex(1, best - 1) .. "::" .. hex(best + best_len, 8)
end

local function family_name(family)
  return family and ("IPv" .. family) or "IP"
end

-- ---------------------------------------------------------------- kinds
--
-- Each kind: fields it accepts beyond the common ones, how it checks one
-- value, how it describes itself, and an optional declaration-time
-- validation of its own fields. check returns the converted value, or nil and
-- a reason to which Param:check appends ", got <value>" unless a third return
-- value says the reason already names the value.

local COMMON = { mandatory = true, default = true, doc = true }

local kinds = {}

local function number_check(spec, v, integral)
  local what = integral and "an integer" or "a number"
  local n
  if type(v) == "number" then
    n = v
  elseif type(v) == "string" then
    local s = v:match("^%s*(.-)%s*$")
    if integral then
      n = s:match("^[+-]?%d+$") and tonumber(s)
    elseif not s:find("^[+-]?0[xX]") then
      n = tonumber(s)
    end
  end
  if n == nil or n ~= n or (integral and (n ~= math.floor(n) or math.abs(n) == math.huge)) then
    return nil, "expected " .. what .. bounds_text(spec, " and ")
  end
  return check_bounds(spec, n, what)
end

local function number_validate(spec)
  for _, f in ipairs { "min", "max" } do
    if spec[f] ~= nil and type(spec[f]) ~= "number" then
      return f .. " must be a number"
    end
  end
  if spec.min and spec.max and spec.min > spec.max then
    return "min " .. fmt_number(spec.min) .. " > max " .. fmt_number(spec.max)
  end
end

kinds.int = {
  fields = { min = true, max = true },
  validate = number_validate,
  check = function(spec, v) return number_check(spec, v, true) end,
  describe = function(spec) return "int" .. bounds_text(spec, " ") end,
}

kinds.float = {
  fields = { min = true, max = true },
  validate = number_validate,
  check = function(spec, v) return number_check(spec, v, false) end,
  describe = function(spec) return "float" .. bounds_text(spec, " ") end,
}

kinds.str = {
  check = function(_, v)
    if type(v) == "string" then return v end
    if type(v) == "number" then return fmt_number(v) end
    return nil, "expected a string"
  end,
  describe = function() return "str" end,
}

kinds.bool = {
  check = function(_, v)
    if type(v) == "boolean" then return v end
    if v == "true" then return true end
    if v == "false" then return false end
    return nil, "expected a boolean"
  end,
  describe = function() return "bool" end,
}

kinds.any = {
  check = function(_, v) return v end,
  describe = function() return "any" end,
}

kinds.dict = {
  check = function(_, v)
    if type(v) ~= "table" then return nil, "expected a dict (table)" end
    return v
  end,
  describe = function() return "dict" end,
}

kinds.list = {
  fields = { of = true },
  validate = function(spec)
    if spec.of ~= nil and not M.is_param(spec.of) then return "of must be a param" end
  end,
  check = function(spec, v)
    if type(v) ~= "table" then return nil, "expected a list" end
    local n, count = 0, 0
    for k in next, v do
      if type(k) ~= "number" or k < 1 or k ~= math.floor(k) then
        return nil, "expected a list, got a table with key " .. show(k), true
      end
      n, count = math.max(n, k), count + 1
    end
    local out = {}
    for i = 1, n do
      if count ~= n and v[i] == nil then
        return nil, "expected a list, got a table without item " .. i, true
      end
      if spec.of then
        local x, why = spec.of:check(v[i])
        if x == nil then return nil, "item " .. i .. ": " .. why, true end
        out[i] = x
      else
        out[i] = v[i]
      end
    end
    return out
  end,
  describe = function(spec)
    return spec.of and ("list of " .. spec.of:describe()) or "list"
  end,
}

local function choices_text(spec)
  local shown = {}
  for i, c in ipairs(spec.choices) do shown[i] = show(c) end
  return "one of " .. table.concat(shown, ", ")
end

kinds.choice = {
  fields = { choices = true, of = true },
  validate = function(spec)
    if spec.of == nil then spec.of = M.str {} end
    if not M.is_param(spec.of) then return "of must be a param" end
    if type(spec.choices) ~= "table" or #spec.choices == 0 then
      return "choices must be a non-empty list"
    end
    local converted = {}
    for i, c in ipairs(spec.choices) do
      local x, why = spec.of:check(c)
      if x == nil then return "choice " .. i .. ": " .. why end
      converted[i] = x
    end
    spec.choices = converted
  end,
  check = function(spec, v)
    local x, why = spec.of:check(v)
    if x == nil then return nil, why, true end
    for _, c in ipairs(spec.choices) do
      if deep_equal(c, x) then return x end
    end
    return nil, "expected " .. choices_text(spec)
  end,
  describe = choices_text,
}

kinds.const = {
  fields = { value = true },
  validate = function(spec)
    if spec.value == nil then return "value is required" end
    if spec.default == nil then spec.default = spec.value end
  end,
  check = function(spec, v)
    if deep_equal(v, spec.value) then return v end
    return nil, "expected the constant " .. show(spec.value)
  end,
  describe = function(spec) return "const " .. show(spec.value) end,
}

local function family_validate(spec)
  if spec.family ~= nil and spec.family ~= 4 and spec.family ~= 6 then
    return "family must be 4, 6 or nil"
  end
end

kinds.ip = {
  fields = { family = true },
  validate = family_validate,
  check = function(spec, v)
    local what = "an " .. family_name(spec.family) .. " address"
    if type(v) ~= "string" then return nil, "expected " .. what end
    local ip, why = M.parse_ip(v)
    if ip and spec.family and ip.family ~= spec.family then
      why = "an IPv" .. ip.family .. " address"
      ip = nil
    end
    if not ip then
      return nil, "expected " .. what .. ", got " .. show(v) .. " (" .. why .. ")", true
    end
    return v
  end,
  describe = function(spec)
    return spec.family and ("ip (IPv" .. spec.family .. ")") or "ip"
  end,
}

kinds.network = {
  fields = { family = true },
  validate = family_validate,
  check = function(spec, v)
    local what = "an " .. family_name(spec.family) .. " network"
    if type(v) ~= "string" then return nil, "expected " .. what end
    local ip, why = M.parse_ip(v)
    if ip and spec.family and ip.family ~= spec.family then
      why, ip = "an IPv" .. ip.family .. " network", nil
    elseif ip and not ip.prefix then
      why, ip = "no prefix length: write address/prefix", nil
    end
    if not ip then
      return nil, "expected " .. what .. ", got " .. show(v) .. " (" .. why .. ")", true
    end
    local net, dirty = {}, false
    for i, byte in ipairs(ip.bytes) do
      local keep = math.min(math.max(ip.prefix - (i - 1) * 8, 0), 8)
      net[i] = byte - byte % (2 ^ (8 - keep))
      dirty = dirty or net[i] ~= byte
    end
    if dirty then
      return nil, "expected " .. what .. " with the host bits zero, got " .. show(v)
        .. " (did you mean " .. M.format_ip(ip.family, net) .. "/" .. ip.prefix .. "?)", true
    end
    return v
  end,
  describe = function(spec)
    return spec.family and ("network (IPv" .. spec.family .. ")") or "network"
  end,
}

kinds.hostname = {
  check = function(_, v)
    if type(v) ~= "string" then return nil, "expected a hostname" end
    local why
    if #v == 0 then
      why = "empty"
    elseif #v > 253 then
      why = "longer than 253 characters"
    else
      for label in (v .. "."):gmatch("([^.]*)%.") do
        if #label == 0 then
          why = "empty label"
        elseif #label > 63 then
          why = "label longer than 63 characters"
        elseif label:find("[^A-Za-z0-9-]") then
          why = "label '" .. escape(label) .. "' has characters other than letters, digits and '-'"
        elseif label:sub(1, 1) == "-" or label:sub(-1) == "-" then
          why = "label '" .. escape(label) .. "' starts or ends with '-'"
        end
        if why then break end
      end
    end
    if why then
      return nil, "expected a hostname, got " .. show(v) .. " (" .. why .. ")", true
    end
    return v
  end,
  describe = function() return "hostname" end,
}

-- ---------------------------------------------------------------- specs

-- Returns the converted value, or nil and a reason ("expected ..., got ...").
function Param:check(value)
  local x, why, full = kinds[self.kind].check(self, value)
  if x == nil then
    if not full then why = why .. ", got " .. show(value) end
    return nil, why
  end
  return x
end

function Param:describe()
  return kinds[self.kind].describe(self)
end

function Param.__tostring(self)
  return "<param " .. self:describe() .. ">"
end

function M.is_param(x)
  return getmetatable(x) == Param
end

local function declare(kind, opts)
  local where = "p." .. kind
  local k = kinds[kind]
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then error(where .. ": expected a table of fields", 3) end
  local spec = setmetatable({ kind = kind }, Param)
  for name, v in next, opts do
    if not (COMMON[name] or (k.fields and k.fields[name])) then
      local known = {}
      for f in next, COMMON do known[#known + 1] = f end
      for f in next, k.fields or {} do known[#known + 1] = f end
      table.sort(known)
      error(string.format("%s: unknown field '%s' (known: %s)", where, tostring(name),
        table.concat(known, ", ")), 3)
    end
    spec[name] = v
  end
  if spec.mandatory ~= nil and type(spec.mandatory) ~= "boolean" then
    error(where .. ": mandatory must be a boolean", 3)
  end
  spec.mandatory = spec.mandatory or false
  if spec.doc ~= nil and type(spec.doc) ~= "string" then
    error(where .. ": doc must be a string", 3)
  end
  local bad = k.validate and k.validate(spec)
  if bad then error(where .. ": " .. bad, 3) end
  if spec.default ~= nil then
    local x, why = spec:check(spec.default)
    if x == nil then error(where .. ": bad default: " .. why, 3) end
    spec.default = x
  end
  return spec
end

for kind in next, kinds do
  M[kind] = function(opts)
    local spec = declare(kind, opts) -- not a tail call: error levels count this frame
    return spec
  end
end

-- Applies specs ({ name = param }) to the given values ({ name = value }).
-- Returns a plain table of resolved values; raises one error listing every
-- problem (one per line) when anything is wrong.
function M.resolve(specs, given)
  if type(specs) ~= "table" then error("resolve: specs must be a table", 2) end
  given = given or {}
  if type(given) ~= "table" then error("resolve: given values must be a table", 2) end
  local names = {}
  for name, spec in next, specs do
    if not M.is_param(spec) then
      error("resolve: spec for '" .. tostring(name) .. "' is not a param", 2)
    end
    names[#names + 1] = name
  end
  table.sort(names)

  local params, errors = {}, {}
  for _, name in ipairs(names) do
    local spec, v = specs[name], given[name]
    if v ~= nil then
      local x, why = spec:check(v)
      if x == nil then
        errors[#errors + 1] = string.format("parameter '%s': %s", name, why)
      else
        params[name] = x
      end
    elseif spec.default ~= nil then
      params[name] = deep_copy(spec.default)
    elseif spec.mandatory then
      errors[#errors + 1] = string.format("parameter '%s' is mandatory (%s) and was not given",
        name, spec:describe())
    end
  end

  local unknown = {}
  for name in next, given do
    if specs[name] == nil then unknown[#unknown + 1] = tostring(name) end
  end
  table.sort(unknown)
  local known = #names > 0 and table.concat(sorted_keys(specs), ", ") or "none"
  for _, name in ipairs(unknown) do
    errors[#errors + 1] = string.format("unknown parameter '%s' (known: %s)", name, known)
  end

  if #errors > 0 then error(table.concat(errors, "\n"), 0) end
  return params
end

return M
