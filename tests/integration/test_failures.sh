#!/bin/bash
# Failed checks exit 1, Lua errors and bad parameters exit 2 with file:line
# or the parameter named, and nothing is left behind in any case.
. "$(dirname "$0")/lib.sh"
set -e
R=tests/integration/recipes
leak_begin

run_lnst 1 run $R/fails_check.lua
expect_out 'FAIL .*198\.51\.100\.77 answers'
expect_out 'Overall result of this Run: FAIL'
leak_check

run_lnst 2 run $R/lua_error.lua
expect_out 'lua_error\.lua:9: attempt to index'
expect_out 'lua_error\.lua:9: in function'
expect_out 'Overall result of this Run: FAIL'
leak_check

run_lnst 2 run $R/syntax_error.lua
expect_out 'syntax_error\.lua:4:'
leak_check

run_lnst 2 run $R/device_errors.lua
expect_out 'device_errors\.lua:9: host h1, device eth0: ip_add 198\.51\.100\.1/24 failed: .*(EEXIST)'
leak_check

run_lnst 2 run recipes/hello_world.lua -p count=0 -p cnt=3
expect_out "parameter 'count': expected an integer >= 1, got 0"
expect_out "unknown parameter 'cnt'"
# parameters are checked before anything is provisioned: with an agent that
# cannot start, only the parameter is reported
LNST_AGENT=/bin/false run_lnst 2 run recipes/hello_world.lua -p count=0
expect_out "^lnst: recipes/hello_world\.lua: parameter 'count': expected an integer >= 1, got 0$"
echo "$OUT" | grep -qiE 'agent|summary|cleanup' && fail "bad parameters provisioned hosts: $OUT"
run_lnst 2 run recipes/hello_world.lua -p count=abc
expect_out "parameter 'count'"
run_lnst 2 run recipes/hello_world.lua -p 'count=__import__("os").system("id")'
expect_out "count"
run_lnst 2 run recipes/does_not_exist.lua
expect_out 'does_not_exist\.lua'
leak_check
echo "1 passed, 0 failed"
