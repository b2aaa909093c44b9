#!/bin/bash
# The command line: --help everywhere, scripts that run recipes themselves,
# the REPL (expressions, multi-line input, errors, :quit) and -i.
. "$(dirname "$0")/lib.sh"
set -e
leak_begin
run_lnst 0 --help
expect_out 'lnst run \[options\] RECIPE.lua'
run_lnst 0 run --help
expect_out '-p, --param NAME=VALUE'
# --help everywhere: usage on stdout, exit 0
for sub in "repl" "pool" "pool list" "pool check" "report" "list" "list recipes" "image" "image build" "cleanup"; do
  # shellcheck disable=SC2086
  run_lnst 0 $sub --help
  expect_out '^usage: lnst '"${sub%% *}"
done
OUT=$("${LNST%/*}/lnst-agent" --help 2>&1) || fail "lnst-agent --help failed"
expect_out '^usage: lnst-agent'
run_lnst 2 --no-such-option
run_lnst 2 run
expect_out 'which recipe'

run_lnst 0 tests/integration/script_run.lua a1 a2
expect_out 'overall:	PASS	args:	a1	a2'
leak_check

OUT=$(printf 'return 1 + 1\nt = {\n  x = 5 }\nreturn t.x * 2\nerror("boom")\nreturn lnst.param.int{default=3}\n:help\n:quit\nreturn "not reached"\n' | "$LNST" 2>&1)
expect_out '^2$'
expect_out '^10$'
expect_out 'boom'
echo "$OUT" | grep -q 'lnst/repl\.lua' && fail "a traceback shows the REPL's own frames: $OUT"
expect_out 'int'
expect_out ':quit'
echo "$OUT" | grep -q 'not reached' && fail "input after :quit was evaluated"

OUT=$(printf 'return type(run), run:overall()\n' | "$LNST" -i tests/integration/script_run.lua 2>&1)
expect_out '"table"	"PASS"|table	PASS'
leak_check
echo "1 passed, 0 failed"
