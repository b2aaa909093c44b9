-- luacheck configuration: plain LuaJIT, no globals anywhere.
std = "luajit"
max_line_length = 120
