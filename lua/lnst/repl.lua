-- lnst.repl: evaluation for the REPL (the terminal side is src/ctl/repl.c).
-- A line is compiled as `return <line>` first so expressions print their
-- value; a chunk that ends early ("<eof>") asks for more lines.
local inspect = require "lnst.inspect"

local M = {}
local buffer = nil

local HELP = [[
Lua with the lnst library loaded as `lnst`.
  c = lnst.controller{}                 a controller (netns hosts by default)
  r = dofile("recipes/hello_world.lua") load a recipe
  run = c:run(r, {count = 3})          run it; the summary is printed
  :help                                 this text
  :quit                                 leave (Ctrl-D does too)
Expressions print their value; incomplete statements continue on the next line.]]

function M.reset() buffer = nil end

function M.eval(line)
  if not buffer then
    local cmd = line:match("^%s*:(%a+)")
    if cmd == "quit" or cmd == "q" or cmd == "exit" then return "quit" end
    if cmd == "help" or cmd == "h" then print(HELP); return "ok" end
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
  local res = { xpcall(fn, debug.traceback) }
  if not res[1] then
    print(res[2])
  elseif #res > 1 then
    print(inspect.values(unpack(res, 2, table.maxn(res))))
  end
  return "ok"
end

-- Exit code of the REPL session.
function M.finish() return 0 end

if _G.lnst == nil then _G.lnst = require "lnst" end

return M
