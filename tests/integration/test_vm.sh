#!/bin/bash
# lnst run --vm: recipes run on namespace hosts inside a qemu guest booted
# with Debian's stock kernel (fetched into the cache when missing): results
# and exit codes as on netns hosts; a user's own bzImage with its module
# tree; a guest that panics, hangs or does not boot ends the run with a
# clear error in bounded time; SIGINT tears down, SIGKILL of the controller
# takes qemu with it, lnst cleanup ends what crashed runs left. Nothing
# leaks (vm_lib.sh). Label: vm.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vm_lib.sh"
set -e
R=tests/integration/recipes
V="--vm --vm-dir $VMDIR"
leak_begin

# the recipes of recipes/, as on netns hosts (with -d: the boot's steps)
run_lnst 0 run -d $V recipes/hello_world.lua -p count=2
expect_out 'host "host1" uses "vm host host1 \(agent pid [0-9]+ in guest lnst-vm-[0-9]+-1: kernel [^ ]+, (kvm|tcg), 512 MiB, 2 CPUs; console log '"$VMDIR"'/lnst-vm-[0-9]+-1/console.log\)"'
expect_out 'PASS .*Job finished: ping -c 2 .* 198\.51\.100\.2 \(exit code 0\)'
expect_out 'PASS .*Job finished: ping -c 2 .* 198\.51\.100\.1 \(exit code 0\)'
expect_out 'Overall result of this Run: PASS'
expect_out 'lnst: vm: +[0-9.]+ s guest boot, kernel uptime at each step \(s\): init [0-9.]+ drivers [0-9.]+ root [0-9.]+ setup [0-9.]+( \(drivers of every link kind loaded\))? ready [0-9.]+$'
# lnst-vminit loaded the initramfs's modules (bridge and veth among them)
# without a complaint
console=$(echo "$OUT" | sed -n 's/.*console log \([^)]*\)).*/\1/p' | head -1)
[ -s "$console" ] || fail "no console log at '$console'"
if grep 'lnst-vm: init:' "$console"; then fail "lnst-vminit complained in $console"; fi
vm_leak_check
run_lnst 0 run $V recipes/ping_flood.lua -p count=30 -p interval=0.02
expect_out 'PASS .*ping rate 100% >= 50% \(30 of 30 replies\)'
vm_leak_check
run_lnst 1 run $V $R/fails_check.lua
expect_out 'FAIL .*198\.51\.100\.77 answers'
expect_out 'Overall result of this Run: FAIL'
vm_leak_check

# a kernel of one's own: the bzImage and module tree of the cached package
eval "$("$LNST" scripts/vm-kernel.lua auto)"
run_lnst 0 run $V --kernel "$image" --modules "$modules" recipes/hello_world.lua -p count=1
expect_out "kernel $release"
expect_out 'Overall result of this Run: PASS'
vm_leak_check
head -c 8192 /dev/zero > "$VMDIR/zeros"
run_lnst 2 run $V --kernel "$VMDIR/zeros" recipes/hello_world.lua
expect_out "kernel $VMDIR/zeros: neither an x86 bzImage nor an ELF vmlinux"
rm "$VMDIR/zeros"
run_lnst 2 run --kernel auto recipes/hello_world.lua
expect_out 'go with --vm'

# a guest agent that dies while the recipe waits on another host: the wait
# ends at once (the agents' connections are critical, as on netns hosts)
start=$(date +%s)
run_lnst 2 run $V $R/vm/agent_dies.lua
expect_out 'host h1: agent connection lost'
[ $(( $(date +%s) - start )) -le 25 ] || fail "a dead guest agent ended the run only after $(( $(date +%s) - start )) s"
vm_leak_check

# a guest that panics: the error says so and where the console log is
start=$(date +%s)
run_lnst 2 run $V $R/vm/panic.lua
expect_out 'the guest kernel panicked \(Kernel panic - not syncing: sysrq triggered crash\); console log: '"$VMDIR"
[ $(( $(date +%s) - start )) -le 60 ] || fail "the panic took more than 60 s to end the run"
grep -q "Kernel panic - not syncing" "$VMDIR"/lnst-vm-*/console.log || fail "no panic in the console logs"
vm_leak_check

# a guest that hangs (qemu stopped): no heartbeat for vm_hang_timeout
start=$(date +%s)
run_lnst 2 tests/integration/vm_run.lua $R/vm/hang.lua vm_hang_timeout=5 "vm_dir='$VMDIR'"
expect_out 'the guest stopped answering: nothing from it for 5 s'
[ $(( $(date +%s) - start )) -le 60 ] || fail "the hang took more than 60 s to end the run"
vm_leak_check

# a guest that does not come up in time (TCG cannot boot in 0.5 s)
run_lnst 2 tests/integration/vm_run.lua recipes/hello_world.lua vm_boot_timeout=0.5 vm_accel=tcg "vm_dir='$VMDIR'"
expect_out 'did not come up within 0.5 s \(tcg'
vm_leak_check

# SIGINT while the guest boots: torn down, exit 2
set +e
OUT=$(timeout --preserve-status -s INT 1.5 "$LNST" run $V recipes/hello_world.lua 2>&1)
code=$?
set -e
[ "$code" = 2 ] || { echo "$OUT" >&2; fail "SIGINT while booting: exit $code, expected 2"; }
expect_out 'interrupted by SIGINT'
vm_leak_check

# SIGINT in the test body: torn down, exit 2
"$LNST" run -d $V $R/long_job.lua > "$VMDIR/out" 2>&1 &
pid=$!
wait_for "$VMDIR/out" 120 "NICs mapped"
sleep 1
kill -s INT $pid
set +e; wait $pid; code=$?; set -e
[ "$code" = 2 ] || { cat "$VMDIR/out"; fail "SIGINT: exit $code, expected 2"; }
grep -q "interrupted by SIGINT" "$VMDIR/out" || { cat "$VMDIR/out"; fail "no interruption message"; }
rm -f "$VMDIR/out"
vm_leak_check

# SIGKILL of the controller: qemu dies with it; its registry entry stays
# for lnst cleanup
"$LNST" run -d $V $R/long_job.lua > "$VMDIR/out" 2>&1 &
pid=$!
wait_for "$VMDIR/out" 120 "NICs mapped"
kill -s KILL $pid
set +e; wait $pid; set -e
rm -f "$VMDIR/out"
vm_procs_check
[ -f /run/lnst/vm/lnst-vm-$pid-1.pid ] || fail "no registry entry of the killed run"
OUT=$("$LNST" cleanup 2>&1 || true)
expect_out "removed guest registry entry lnst-vm-$pid-1 \(not running\)"
# a guest still running whose controller is gone: lnst cleanup ends it
name=lnst-vm-0-$$
qemu-system-x86_64 -name "$name,process=$name" -machine none -display none -nodefaults -S &
qpid=$!
mkdir -p /run/lnst/vm
echo "$qpid 999999999 1 $name" > /run/lnst/vm/$name.pid
OUT=$("$LNST" cleanup -n 2>&1 || true)
expect_out "would remove guest $name \(qemu pid $qpid, controller pid 999999999 gone\)"
kill -0 $qpid || fail "cleanup -n ended the guest"
OUT=$("$LNST" cleanup 2>&1 || true)
expect_out "removed guest $name \(qemu pid $qpid"
set +e; wait $qpid; code=$?; set -e
[ "$code" = 137 ] || fail "the leftover guest was not killed (wait status $code)"
vm_leak_check
echo "1 passed, 0 failed"
