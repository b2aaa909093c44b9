-- Build helper (CMakeLists.txt): writes a Lua chunk that returns the text of
-- a source file, so the controller can embed the agent-side test modules as
-- source (it ships source to agents by hash; see lua/lnst/modules.lua).
--   luajit cmake/embed_lua_source.lua IN.lua OUT.lua
local input, output = arg[1], arg[2]
local f = assert(io.open(input, "rb"))
local text = f:read("*a")
f:close()
local o = assert(io.open(output, "wb"))
o:write("return ", string.format("%q", text), "\n")
o:close()
