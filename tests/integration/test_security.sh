#!/bin/bash
# The claims of docs/security.md that no other test covers: the documented
# dispatch table is exactly the one in src/agent/dispatch.c and the one a
# real agent serves (undocumented methods get ENOSYS); sysctl keys and
# module hashes cannot name paths outside their place; jobs given argv run
# without a shell; code in -p is refused and never run; pool files do not
# expand external entities.
. "$(dirname "$0")/lib.sh"
set -e
AGENT=${AGENT:?set AGENT to the lnst-agent binary}
AGENT_CLIENT=${AGENT_CLIENT:?set AGENT_CLIENT to the agent_client binary}
T=$(mktemp -d /tmp/lnst-security.XXXXXX)
trap 'rm -rf "$T"' EXIT

# 1. the documented table == the source's table, in order
sed -n '/^} methods\[\] = {$/,/^};$/p' src/agent/dispatch.c |
	sed -n 's/^\t{ "\([^"]*\)", [a-z0-9_]* },.*$/\1/p' >"$T/src"
sed -n '/<!-- dispatch-table -->/,/<!-- \/dispatch-table -->/p' docs/security.md |
	sed -n 's/^| `\([^`]*\)` |.*$/\1/p' >"$T/doc"
[ "$(wc -l <"$T/src")" -gt 40 ] || fail "could not read the method table of src/agent/dispatch.c"
diff -u "$T/doc" "$T/src" >&2 || fail "docs/security.md's method list differs from src/agent/dispatch.c (- doc, + source)"

# 2. a real agent, in a network namespace of its own: every documented
# method is known to it, undocumented ones are not; paths are refused.
leak_begin
{
	grep -vx 'bye' "$T/doc" | while read -r m; do echo "{\"method\": \"$m\", \"params\": {}}"; done
	for m in exec shell file.put eval system; do echo "{\"method\": \"$m\", \"params\": {}}"; done
	cat <<'REQ'
{"method": "sysctl.get", "params": {"key": "net/../../etc/passwd"}}
{"method": "sysctl.get", "params": {"key": "../etc/shadow"}}
{"method": "sysctl.set", "params": {"key": "net.ipv4.conf.lo.forwarding/../../../../etc/hostname", "value": "x"}}
{"method": "sysctl.get", "params": {"key": "/etc/passwd"}}
{"method": "module.put", "params": {"sha256": "../../etc/x", "source": "x"}}
{"method": "job.start", "params": {"argv": ["/bin/echo", "$(id); echo pwned", "*"]}}
sleep 0.5
{"method": "bye"}
REQ
} >"$T/requests"
set +e
OUT=$(unshare --net "$AGENT_CLIENT" "$AGENT" -- --name sechost <"$T/requests" 2>&1)
set -e
n=0
while read -r m; do
	n=$((n + 1))
	line=$(echo "$OUT" | grep -F -- "<- {\"id\":$n,")
	[ -n "$line" ] || { echo "$OUT" >&2; fail "no answer to $m (request $n)"; }
	case $m in
	worker.sync | worker.adopt)
		echo "$line" | grep -qF "unknown method '$m'" || fail "$m outside a worker: $line" ;;
	bye) ;;
	*)
		echo "$line" | grep -qF "unknown method" && fail "the agent does not know the documented method $m: $line"
		;;
	esac
done < <(grep -vx 'bye' "$T/doc")
for m in exec shell file.put eval system; do
	n=$((n + 1))
	echo "$OUT" | grep -qF "<- {\"id\":$n,\"error\":{\"code\":\"ENOSYS\",\"message\":\"unknown method '$m'\"}}" ||
		{ echo "$OUT" >&2; fail "the undocumented method $m is not refused with ENOSYS"; }
done
expect_out "\"id\":$((n + 1)),\"error\":\\{\"code\":\"EINVAL\",\"message\":\"sysctl key 'net/../../etc/passwd': empty, '.' or '..' components are not allowed\""
expect_out "\"id\":$((n + 2)),\"error\":\\{\"code\":\"EINVAL\",\"message\":\"sysctl key '../etc/shadow': empty, '.' or '..' components are not allowed\""
expect_out "\"id\":$((n + 3)),\"error\":\\{\"code\":\"EINVAL\""
expect_out "\"id\":$((n + 4)),\"error\":\\{\"code\":\"EINVAL\""
expect_out "\"id\":$((n + 5)),\"error\":\\{\"code\":\"EINVAL\",\"message\":\"parameter 'sha256' is not a SHA-256"
# argv runs without a shell: the bytes come back as they were sent
expect_out '"stdout":"\$\(id\); echo pwned \*\\n"'
echo "$OUT" | grep -q 'uid=0' && fail "the job's argv went through a shell"
leak_check

# 3. code in -p is refused and never runs
run_lnst 2 run recipes/hello_world.lua -p "count=os.execute('touch $T/pwned')"
expect_out "count"
[ ! -e "$T/pwned" ] || fail "-p evaluated code"
run_lnst 2 run recipes/hello_world.lua -p "count=(function() return 1 end)()"
expect_out "count"

# 4. pool files: an external entity is not expanded
mkdir "$T/pool"
cp tests/fuzz/corpus/pool/xxe "$T/pool/m1.xml"
set +e
OUT=$("$LNST" pool check --pool "$T/pool" 2>&1)
set -e
echo "$OUT" | grep -q 'root:' && { echo "$OUT" >&2; fail "the pool parser read /etc/passwd through an entity"; }
expect_out "m1\.xml"
echo "1 passed, 0 failed"
