#!/bin/sh
# Runs every agent of a representative part of the integration suite under
# valgrind memcheck and requires 0 errors and 0 definitely lost bytes:
#   scripts/valgrind-agent.sh [CTEST_REGEX]
# It builds lnst without sanitizers in build-valgrind/ (valgrind and ASan do
# not mix), points LNST_AGENT at a wrapper that execs valgrind on the real
# agent (the programs jobs run are not traced), runs the tests, and checks one
# valgrind log per agent process in build-valgrind/valgrind/. An agent that
# is SIGKILLed by design (the fault tests) writes no summary: such logs are
# counted and listed, and must show no error before the kill either.
set -eu
cd "$(dirname "$0")/.."
# Not in the default set: tests whose recipes add namespaces (netns,
# devices, modules): the agent starts a namespace worker with
# execv("/proc/self/exe"), which under valgrind is valgrind's own tool
# binary ("mmap(0x58000000) failed in UME"), so the worker dies.
tests=${1:-'^integration_(hello|failures|signals|jobs|routes|ethtool)$'}
command -v valgrind >/dev/null || apt-get install -y -qq valgrind >/dev/null
b=build-valgrind
[ -f $b/CMakeCache.txt ] || cmake -S . -B $b -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build $b -j"$(nproc)" >/dev/null
logs=$PWD/$b/valgrind
rm -rf "$logs"
mkdir -p "$logs"
# Agents are PID 1 of their PID namespaces: %p alone would not tell their
# logs apart, so each gets a file name of its own (mktemp; %p kept).
cat >$b/valgrind-agent <<EOF
#!/bin/sh
# LNST_AGENT for scripts/valgrind-agent.sh: the agent under memcheck.
log=\$(mktemp $logs/agent.XXXXXX)
exec valgrind --tool=memcheck --error-exitcode=99 --leak-check=full --vgdb=no \\
  --show-leak-kinds=definite --errors-for-leak-kinds=definite \\
  --suppressions=$PWD/scripts/valgrind-agent.supp \\
  --trace-children=no --child-silent-after-fork=yes \\
  --log-file=\$log.%p $PWD/$b/lnst-agent "\$@"
EOF
chmod +x $b/valgrind-agent
rc=0
# valgrind makes the agent some 20 times slower: the tests get 4x their time
(cd $b && LNST_AGENT=$PWD/valgrind-agent ctest --timeout-multiplier 4 -R "$tests" --output-on-failure) || rc=$?
[ -n "$(ls -A "$logs")" ] || { echo "valgrind-agent.sh: no agent ran under valgrind" >&2; exit 1; }
total=0 complete=0 bad=0
for f in "$logs"/agent.*.*; do
	total=$((total + 1))
	if grep -q 'ERROR SUMMARY:' "$f"; then
		complete=$((complete + 1))
		grep -q 'ERROR SUMMARY: 0 errors' "$f" || { bad=$((bad + 1)); echo "==== $f" >&2; cat "$f" >&2; continue; }
		grep -q 'definitely lost: [1-9]' "$f" && { bad=$((bad + 1)); echo "==== $f" >&2; cat "$f" >&2; continue; }
	elif grep -qE '^==[0-9]+== (Invalid|Conditional|Syscall param|Mismatched|Source and destination)' "$f"; then
		bad=$((bad + 1))
		echo "==== $f (killed before its summary)" >&2
		cat "$f" >&2
	fi
done
echo "valgrind-agent.sh: $total agent processes, $complete with a summary, $((total - complete)) killed before it; $bad with errors or definite leaks"
[ "$bad" = 0 ] || rc=1
exit "$rc"
