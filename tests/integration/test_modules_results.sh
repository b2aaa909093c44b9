#!/bin/bash
# Machine-readable results of a real run: --format json and junit (to
# stdout and files, also through FORMATTERS), --save and lnst report, which
# renders the saved run the same way; JUnit valid against tests/junit.xsd
# (the Jenkins JUnit schema) with xmllint; exit codes.
. "$(dirname "$0")/lib.sh"
set -e
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
XSD=tests/junit.xsd
leak_begin
# a failing run with an error, a skip and module jobs (recipes/modules_errors.lua)
BIN="$TMP/bin"; mkdir "$BIN"
for t in ping tcpdump; do ln -s "$(command -v $t)" "$BIN/$t"; done
set +e
PATH=$BIN "$LNST" run tests/integration/recipes/modules_errors.lua --no-colour -f human \
  -f "junit:$TMP/run.xml" -f "json:$TMP/run.json" --save "$TMP/saved.json" > "$TMP/human.txt" 2>/dev/null
rc=$?
set -e
[ "$rc" = 1 ] || fail "exit code $rc, expected 1"
xmllint --noout --schema "$XSD" "$TMP/run.xml" || fail "JUnit output is not valid"
grep -q '<testsuite name="ModulesErrors" tests="[0-9]*" failures="6" errors="0" skipped="1"' "$TMP/run.xml" \
  || { cat "$TMP/run.xml" >&2; fail "JUnit counts"; }
grep -q '<failure type="FAIL" message="Job finished: boom(mode=raise) (module boom on host host1 failed: ' "$TMP/run.xml" \
  || fail "JUnit failure message"
grep -q '<skipped message="SKIP IperfClient(server=198.51.100.2): test module iperf_client needs iperf3' "$TMP/run.xml" \
  || fail "JUnit skip"
grep -q '"type":"module"' "$TMP/run.json" || fail "JSON module job"
grep -q '"measurement_type":"ping"' "$TMP/run.json" || fail "JSON ping measurement"
leak_check

# lnst report renders the saved run exactly as the run did
run_lnst 1 report "$TMP/saved.json" --no-colour
[ "$OUT" = "$(cat "$TMP/human.txt")" ] || { diff <(echo "$OUT") "$TMP/human.txt" >&2; fail "report human differs"; }
run_lnst 1 report "$TMP/saved.json" -f json
[ "$OUT" = "$(cat "$TMP/run.json")" ] || fail "report json differs"
"$LNST" report "$TMP/saved.json" -f "junit:$TMP/again.xml" || [ $? = 1 ]
cmp -s "$TMP/run.xml" "$TMP/again.xml" || fail "report junit differs"

# an exception that stops the run: JUnit <error>, JSON exception, exit 2
FORMATTERS=junit run_lnst 2 run tests/integration/recipes/lua_error.lua
echo "$OUT" | sed -n '/^<?xml/,$p' > "$TMP/exc.xml"
xmllint --noout --schema "$XSD" "$TMP/exc.xml" || fail "JUnit with an exception is not valid"
grep -q '<error type="exception" message=' "$TMP/exc.xml" || fail "JUnit error element"
FORMATTERS=JsonRunSummaryFormatter run_lnst 2 run tests/integration/recipes/lua_error.lua
expect_out '"type":"exception"'
# a passing run: everything valid, exit 0
run_lnst 0 run recipes/ping_flood.lua -p count=3 -p interval=0.01 -f "junit:$TMP/pass.xml" --save "$TMP/pass.json"
xmllint --noout --schema "$XSD" "$TMP/pass.xml" || fail "passing JUnit not valid"
run_lnst 0 report "$TMP/pass.json" -f junit
# bad input
run_lnst 2 report "$TMP/missing.json"
expect_out "lnst: report: cannot read the run file: $TMP/missing.json"
echo '{"format":"x"}' > "$TMP/bad.json"
run_lnst 2 report "$TMP/bad.json"
expect_out 'not an lnst run file'
run_lnst 2 run recipes/ping_flood.lua --format yaml
expect_out "lnst: --format: unknown format 'yaml' \(known: baseline, human, json, junit\)"
run_lnst 2 run recipes/ping_flood.lua -p count=1 --save /nonexistent/dir/run.json
expect_out "lnst: --save /nonexistent/dir/run.json: cannot write the run file"
leak_check
echo "1 passed, 0 failed"
