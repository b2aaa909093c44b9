#!/bin/sh
# The README's second command: install, build, and run the whole test suite;
# then build again with AddressSanitizer and UndefinedBehaviorSanitizer
# (-DLNST_SANITIZE=ON, in build-asan/) and run the unit, integration and fuzz
# replay suites under them. Arguments go to both ctest runs. Any sanitizer
# report, from a test binary or from an agent or controller a test started,
# fails the run: the reports are written to build-asan/sanitizer/ (log_path)
# and printed at the end. Last, the agents of a short set of integration
# tests (one run, jobs, namespace workers, routes, a controller SIGKILL) run
# under valgrind memcheck, which must report 0 errors and 0 definitely lost
# bytes (scripts/valgrind-agent.sh; its full set takes 5-13 minutes here).
set -eu
cd "$(dirname "$0")/.."
./scripts/build.sh
rc=0
(cd build && ctest --output-on-failure "$@") || rc=$?

[ -f build-asan/CMakeCache.txt ] ||
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLNST_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$(nproc)" >/dev/null
reports=$PWD/build-asan/sanitizer
rm -rf "$reports"
mkdir -p "$reports"
export ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1:halt_on_error=1"
# Excluded from the sanitizer pass:
# - lua: pure Lua under the system luajit; no C of ours runs.
# - podman: the agents run inside containers built from the binaries, whose
#   images have no sanitizer runtime (libasan/libubsan).
# - vm, enrt: the agent runs in a QEMU guest booted from an initramfs without
#   the sanitizer runtime, and these tests take minutes each even unsanitized.
# - integration_faults_load: it asserts flat memory, which cannot hold under
#   ASan (freed memory waits in its quarantine); it runs in the normal pass.
(cd build-asan && ctest --output-on-failure -L 'unit|integration|fuzz' -LE 'podman|vm|enrt' \
	-E integration_faults_load "$@") || rc=$?
if [ -n "$(ls -A "$reports")" ]; then
	echo "test.sh: sanitizer reports (build-asan/sanitizer):" >&2
	for f in "$reports"/*; do
		echo "==== $f" >&2
		cat "$f" >&2
	done
	rc=1
fi
VALGRIND_BUILD=build ./scripts/valgrind-agent.sh '^integration_(hello|jobs|netns|routes)$' || rc=$?
exit "$rc"
