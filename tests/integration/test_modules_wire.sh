#!/bin/bash
# The agent's side of test modules on the wire (agent_client speaks the
# protocol to a real lnst-agent): module.missing, module.put with the hash
# checked by libcrypto, job.start of a cached module and its report in
# job.finished, and the errors for bad input.
. "$(dirname "$0")/lib.sh"
set -e
AGENT=${AGENT:?set AGENT to the lnst-agent binary}
AGENT_CLIENT=${AGENT_CLIENT:?set AGENT_CLIENT to the agent_client binary}
SRC='return { run = function(p, api) api.notice({ step = 1 }); return { twice = p.n * 2, host = api.host }, p.n > 0 end }'
SHA=$(printf '%s' "$SRC" | sha256sum | cut -d' ' -f1)
OTHER=$(printf 'x' | sha256sum | cut -d' ' -f1)
leak_begin
set +e
# in a fresh network namespace of its own (unshare), gone when it exits
OUT=$(unshare --net "$AGENT_CLIENT" "$AGENT" -- --name wirehost <<REQ 2>&1
{"method": "module.missing", "params": {"sha256s": ["$SHA", "$OTHER"]}}
{"method": "module.missing", "params": {"sha256s": ["ABC"]}}
{"method": "module.put", "params": {"sha256": "$OTHER", "source": "$SRC"}}
{"method": "job.start", "params": {"module": {"name": "wire", "sha256": "$SHA", "params": {"n": 2}}}}
{"method": "module.put", "params": {"sha256": "$SHA", "source": "$SRC"}}
{"method": "module.missing", "params": {"sha256s": ["$SHA", "$OTHER"]}}
{"method": "job.start", "params": {"module": {"name": "wire", "sha256": "$SHA", "file": "wire.lua", "params": {"n": 21}}}}
sleep 0.5
{"method": "job.start", "params": {"module": {"name": "wire", "sha256": "$SHA", "params": {"n": 2}}, "cwd": "/"}}
{"method": "job.start", "params": {"module": {"name": "wire", "sha256": "$SHA", "deps": [{"name": "dep", "sha256": "$OTHER"}]}}}
{"method": "job.start", "params": {"module": {"name": "w i r e", "sha256": "$SHA"}}}
{"method": "job.start", "params": {"module": {"name": "wire", "sha256": "$SHA", "params": {"n": "x"}}}}
sleep 0.5
REQ
)
set -e
expect() { echo "$OUT" | grep -qF -- "$1" || { echo "$OUT" >&2; fail "output lacks: $1"; }; }
expect "{\"id\":1,\"result\":{\"missing\":[\"$SHA\",\"$OTHER\"]}}"
expect '"message":"sha256s item 1 is not a SHA-256 in lowercase hex (64 characters)"'
expect "\"message\":\"module.put: the source's SHA-256 is $SHA, not the $OTHER announced\""
expect "\"message\":\"module wire (sha256 $SHA) is not cached on this agent: send it with module.put first\""
expect '{"id":5,"result":{}}'
expect "{\"id\":6,\"result\":{\"missing\":[\"$OTHER\"]}}"
expect '"event":"job.notice","job":{"id":1},"notice":{"step":1}}'
expect '"twice":42'
expect '"host":"wirehost"'
expect '},"passed":true,"rusage":{"user":'
expect "\"message\":\"unknown parameter 'cwd' (known: module timeout stream)\""
expect "\"message\":\"dependency dep (sha256 $OTHER) is not cached on this agent: send it with module.put first\""
expect "\"message\":\"module name 'w i r e' is not a valid name\""
expect '"error":{"message":"wire:1: attempt to perform arithmetic on field '"'"'n'"'"' (a string value)","traceback":"\twire:1: in function'
expect '"host":"wirehost","module":"wire"}'
leak_check
echo "1 passed, 0 failed"
