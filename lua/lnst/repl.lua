-- lnst.repl: evaluation for the REPL (the terminal side is src/ctl/repl.c).
-- A line is compiled as `return <line>` first so expressions print their
-- value; a chunk that ends early ("<eof>") asks for more lines. Lines that
-- start with ':' are commands. complete() answers tab completion.
local inspect = require "lnst.inspect"
local help = require "lnst.help"

local M = {}
local buffer = nil

function M.reset() buffer = nil end

local function show_help(arg)
  if not arg or arg == "" then print(help.topics.general); return end
  if help.topics[arg] then print(help.topics[arg]); return end
  local fn = loadstring("return " .. arg, "=help")
  local ok, v = false, nil
  if fn then ok, v = pcall(fn) end
  local topic = ok and help.topic_of(v)
  if topic then print(help.topics[topic]) return end
  print("no help for '" .. arg .. "' (topics: host, device, job, r, lnst)")
end

-- :sh HOST CMD: the command's output as it comes; Ctrl-C kills it.
local function shell(arg)
  local hname, cmd = arg:match("^(%S+)%s+(.+)$")
  if not hname then print("usage: :sh HOST COMMAND"); return end
  local hosts = rawget(_G, "hosts")
  local h = type(hosts) == "table" and hosts[hname]
  if not h then print("no host '" .. hname .. "' (hosts come with lnst repl RECIPE or a paused run)"); return end
  local j = h:run(cmd, { stream = true, level = 3, expect = nil,
    on_output = function(_, data) io.stdout:write(data); io.stdout:flush() end })
  if not j.passed then
    print(string.format("[%s]", j.timed_out and "timed out" or j.signal and ("killed by SIG" .. j.signal)
      or ("exit " .. tostring(j.exit_code))))
  end
end

local COMMANDS = {
  quit = "quit", q = "quit", exit = "quit",
  continue = "continue", c = "continue", cont = "continue",
  abort = "abort",
}

function M.eval(line)
  if not buffer then
    local cmd, arg = line:match("^%s*:(%a+)%s*(.-)%s*$")
    if cmd then
      if COMMANDS[cmd] then return COMMANDS[cmd] end
      if cmd == "help" or cmd == "h" then show_help(arg); return "ok" end
      if cmd == "sh" then
        local ok, err = pcall(shell, arg)
        if not ok then print(err) end
        return "ok"
      end
      print("unknown command :" .. cmd .. " (try :help)")
      return "ok"
    end
  end
  local src = buffer and (buffer .. "\n" .. line) or line
  local fn, err = loadstring("return " .. src, "=stdin")
  if not fn then fn, err = loadstring(src, "=stdin") end
  if not fn then
    if err:find("<eof>", 1, true) then buffer = src; return "more" end
    buffer = nil
    print(err)
    return "ok"
  end
  buffer = nil
  -- the traceback ends at the line typed (the REPL's own frames cut off)
  local res = { xpcall(fn, function(e)
    if type(e) ~= "string" then e = "error: " .. inspect(e) end
    return (debug.traceback(e, 2):gsub("\n[^\n]*%[C%]: in function 'xpcall'.*$", ""))
  end) }
  if not res[1] then
    print(res[2])
  elseif table.maxn(res) > 1 then
    print(inspect.values(unpack(res, 2, table.maxn(res))))
  end
  return "ok"
end

-- Names an object offers for completion after '.' (fields) or ':' (methods).
local function names_of(v, methods)
  local out, seen = {}, {}
  local function add(k, val)
    if type(k) ~= "string" or seen[k] or k:sub(1, 1) == "_" then return end
    if methods and type(val) ~= "function" then return end
    seen[k] = true
    out[#out + 1] = k
  end
  local mt = getmetatable(v)
  if mt and mt.__complete then
    for _, k in ipairs(mt.__complete(v, methods)) do add(k, methods and function() end or true) end
  end
  if type(v) == "table" then
    for k, val in pairs(v) do add(k, val) end
    local idx = mt and mt.__index
    if type(idx) == "table" then for k, val in pairs(idx) do add(k, val) end end
  elseif type(v) == "string" then
    for k, val in pairs(string) do add(k, val) end
  end
  table.sort(out)
  return out
end

-- Candidates completing the expression at the end of `line`.
function M.complete(line)
  local expr = line:match("([%a_][%w_%.:]*)$")
  if not expr then return {} end
  local base, sep, prefix = expr:match("^(.*)([%.:])([%w_]*)$")
  local v
  if base then
    local fn = loadstring("return " .. base)
    if not fn then return {} end
    local ok, val = pcall(fn)
    if not ok or val == nil then return {} end
    v = val
  else
    prefix, v, sep = expr, _G, "."
    base = nil
  end
  local out = {}
  for _, k in ipairs(names_of(v, sep == ":")) do
    if k:sub(1, #prefix) == prefix then
      out[#out + 1] = (base and (base .. sep) or "") .. k
    end
  end
  if not base then
    for _, kw in ipairs({ "and", "break", "do", "else", "elseif", "end", "false", "for", "function",
      "if", "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while" }) do
      if kw:sub(1, #prefix) == prefix then out[#out + 1] = kw end
    end
  end
  return out
end

-- Exit code of the REPL session: what the `lnst repl` session's run gives.
function M.finish()
  local f = rawget(_G, "__lnst_repl_finish")
  if f then return f() end
  return 0
end

if rawget(_G, "lnst") == nil then _G.lnst = require "lnst" end
_G.__lnst_interactive = true
return M
