#!/bin/sh
# Runs every agent of the integration suite's tests that start their agents
# through lnst (LNST_AGENT) under valgrind memcheck, namespace workers
# included, and requires 0 errors and 0 definitely lost bytes:
#   scripts/valgrind-agent.sh [CTEST_REGEX]
# It builds lnst without sanitizers in build-valgrind/ ($VALGRIND_BUILD;
# valgrind and ASan do not mix), points LNST_AGENT at a wrapper that execs
# valgrind on the real agent, runs the tests, and checks one valgrind log
# per agent process in BUILD/valgrind/. Valgrind follows the agent's exec of
# its namespace workers (--trace-children=yes; the agent execs the path
# /proc/self/exe links to, which valgrind reports as the agent itself); the
# programs jobs run are skipped by path or, when traced, their logs are
# left out of the verdict: only logs whose command is lnst-agent count. An
# agent that is SIGKILLed by design (the fault tests) writes no summary:
# such logs are counted and listed, and must show no error before the kill
# either.
set -eu
cd "$(dirname "$0")/.."
# Left out (their agents do not start through LNST_AGENT, or cannot be
# slowed 20 times): podman and vm/enrt (agents inside containers and guests),
# remote_*, restore, security and modules_wire (they start $AGENT
# themselves), faults and faults_load (they assert wall-clock bounds: a
# stopped agent's request times out within 6 s, 1,000 jobs, 10,000 RPC/s),
# modules (a background ping is sent SIGINT 0.3 s after it starts and must
# end within 5 s: under valgrind the module has not started ping by then,
# and ping then runs its full 10 s),
# bad_agent (fake agents), frames and undo (C tests of the bare agent), cli
# and repl (controller only).
tests=${1:-'^integration_(hello|failures|signals|jobs|faults_disk|netns|routes|ethtool|modules_errors|modules_perf|modules_results|devices|devices_vlan|devices_kind_.*)$'}
command -v valgrind >/dev/null || apt-get install -y -qq valgrind >/dev/null
b=${VALGRIND_BUILD:-build-valgrind}
[ -f "$b"/CMakeCache.txt ] || cmake -S . -B "$b" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$b" -j"$(nproc)" >/dev/null
b=$(cd "$b" && pwd)
logs=$b/valgrind
rm -rf "$logs"
mkdir -p "$logs"
# Agents are PID 1 of their PID namespaces: %p alone would not tell their
# logs apart, so each gets a file name of its own (mktemp; %p kept, which
# also names the workers' logs).
# Programs jobs run are not traced: valgrind matches the path they are exec'd
# by against these patterns (a negation, "all but lnst-agent", has no syntax).
# /tmp holds test directories of links to ping and tcpdump, which need their
# file capabilities (valgrind cannot give them: "Permission denied").
# A pattern that would also match the agent itself (a checkout under /tmp
# or /home, as CI's clean clone may be) is left out: then only the
# capability-needing programs are skipped by name there.
skip='*/ping,*/tcpdump'
for pat in /usr/'*' /bin/'*' /sbin/'*' /lib/'*' /lib64/'*' /opt/'*' /etc/'*' /tmp/'*' /var/'*' /run/'*' \
	/root/'*' /home/'*' '*/tests/*' '*/recipes/*' '*/lnst'; do
	# shellcheck disable=SC2254 # $pat is a pattern on purpose
	case "$b/lnst-agent" in $pat) ;; *) skip="$skip,$pat" ;; esac
done
# Absolute paths: some tests give lnst (and so its agents) a PATH of their own.
cat >"$b"/valgrind-agent <<EOF
#!/bin/sh
# LNST_AGENT for scripts/valgrind-agent.sh: the agent under memcheck.
log=\$($(command -v mktemp) $logs/agent.XXXXXX)
exec $(command -v valgrind) --tool=memcheck --error-exitcode=99 --leak-check=full --vgdb=no \\
  --show-leak-kinds=definite --errors-for-leak-kinds=definite \\
  --suppressions=$PWD/scripts/valgrind-agent.supp \\
  --trace-children=yes --child-silent-after-fork=yes \\
  --trace-children-skip='$skip' \\
  --log-file=\$log.%p $b/lnst-agent "\$@"
EOF
chmod +x "$b"/valgrind-agent
rc=0
start=$(date +%s)
# valgrind makes the agent some 20 times slower: the tests get 4x their time
(cd "$b" && LNST_AGENT=$b/valgrind-agent ctest --timeout-multiplier 4 -R "$tests" --output-on-failure) || rc=$?
[ -n "$(ls -A "$logs")" ] || { echo "valgrind-agent.sh: no agent ran under valgrind" >&2; exit 1; }
total=0 complete=0 bad=0 workers=0 others=0
for f in "$logs"/agent.*.*; do
	grep -qE '^==[0-9]+== Command: [^ ]*/lnst-agent( |$)' "$f" || { others=$((others + 1)); continue; }
	total=$((total + 1))
	grep -q -- '--netns-worker=' "$f" && workers=$((workers + 1))
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
echo "valgrind-agent.sh: $total agent processes ($workers namespace workers), $complete with a summary, $((total - complete)) killed before it; $bad with errors or definite leaks; $others logs of other programs ignored; $(($(date +%s) - start)) s"
[ "$bad" = 0 ] || rc=1
exit "$rc"
