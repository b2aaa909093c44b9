#!/bin/sh
# Runs a fuzz target with libFuzzer (clang) for a time:
#   scripts/fuzz.sh frame|literal|config|pool|podman|dispatch [SECONDS]
# New inputs that increase coverage go into tests/fuzz/corpus/TARGET; a crash
# leaves crash-* in the build directory (build-fuzz/, or $FUZZ_BUILD) - add it
# to the corpus as a regression input. dispatch needs root: it moves itself
# into network and mount namespaces of its own (tests/fuzz/fuzz_dispatch.c).
set -eu
cd "$(dirname "$0")/.."
t=${1:?which target? (frame, literal, config, pool, podman, dispatch)}
secs=${2:-60}
out=${FUZZ_BUILD:-build-fuzz}
command -v clang-14 >/dev/null || apt-get install -y -qq clang-14 libclang-rt-14-dev >/dev/null
pc() { pkg-config "$@" libcjson; }
common="src/common/frame.c src/common/msg.c src/common/literal.c"
extra= libs=
case $t in
frame|literal) ;;
config) extra=src/common/config.c ;;
pool)
	# pool.rng compiled in, as CMake does (CMakeLists.txt, pool_schema.c)
	mkdir -p "$out"
	{
		printf '#include "pool_schema.h"\nconst unsigned char pool_schema[] = {'
		od -An -v -tx1 pool/pool.rng | sed 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'
		printf ' 0 };\nconst unsigned long pool_schema_len = sizeof(pool_schema) - 1;\n'
	} >"$out"/pool_schema.c
	extra="src/ctl/pool.c $out/pool_schema.c src/common/config.c src/common/tls.c src/common/tcp_connect.c src/common/log.c src/common/loop.c src/common/conn.c"
	libs="-Isrc/ctl $(pkg-config --cflags --libs libxml-2.0) -ldl" ;;
podman)
	extra="src/podman/podman.c src/ctl/lua_json.c"
	libs="-Isrc/podman -Isrc/ctl $(pkg-config --cflags --libs libcurl luajit) -lpthread" ;;
dispatch)
	extra="$(ls src/agent/*.c | grep -v '/main\.c$') src/ctl/lua_json.c src/common/loop.c src/common/conn.c
	       src/common/log.c src/common/tls.c src/common/tcp_connect.c src/common/config.c src/common/sha256.c"
	libs="-Isrc/agent -Isrc/ctl $(pkg-config --cflags --libs libnl-3.0 libnl-route-3.0 libnl-genl-3.0 luajit) -ldl" ;;
*) echo "fuzz.sh: unknown target '$t'" >&2; exit 2 ;;
esac
mkdir -p "$out"
# shellcheck disable=SC2086 # word lists
clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc/common $(pc --cflags) \
  tests/fuzz/fuzz_"$t".c $common $extra $(pc --libs) $libs -lm -o "$out"/fuzz_"$t"
cd "$out"
exec ./fuzz_"$t" -max_total_time="$secs" -max_len=65536 "$OLDPWD"/tests/fuzz/corpus/"$t"
