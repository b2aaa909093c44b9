#!/bin/sh
# Runs a fuzz target with libFuzzer (clang) for a time:
#   scripts/fuzz.sh frame|literal|config|pool|podman|dispatch|params [SECONDS]
# New inputs that increase coverage go into tests/fuzz/corpus/TARGET; a crash
# leaves crash-* in the build directory (build-fuzz/, or $FUZZ_BUILD) - add it
# to the corpus as a regression input. dispatch needs root: it moves itself
# into network and mount namespaces of its own (tests/fuzz/fuzz_dispatch.c).
set -eu
cd "$(dirname "$0")/.."
t=${1:?which target? (frame, literal, config, pool, podman, dispatch, params)}
secs=${2:-60}
out=${FUZZ_BUILD:-build-fuzz}
command -v clang-14 >/dev/null || apt-get install -y -qq clang-14 libclang-rt-14-dev >/dev/null
pc() { pkg-config "$@" libcjson; }
common="src/common/frame.c src/common/msg.c src/common/literal.c"
extra='' libs='' hang=''
# pool.rng compiled in, as CMake does (CMakeLists.txt, pool_schema.c)
pool_schema() {
	mkdir -p "$out"
	{
		printf '#include "pool_schema.h"\nconst unsigned char pool_schema[] = {'
		od -An -v -tx1 pool/pool.rng | sed 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'
		printf ' 0 };\nconst unsigned long pool_schema_len = sizeof(pool_schema) - 1;\n'
	} >"$out"/pool_schema.c
}
# The Lua library as bytecode and the test modules as source, as CMake
# embeds them (CMakeLists.txt, luabc/lua_embedded.c)
lua_embedded() {
	mkdir -p "$out"/luabc "$out"/luasrc
	inc='' table=''
	for src in $(find lua -name '*.lua' | sort); do
		mod=$(echo "$src" | sed -e 's|^lua/||' -e 's|\.lua$||' -e 's|/init$||' | tr / .)
		sym=$(echo "$mod" | tr . _)
		luajit -b -g -n "$mod" "$src" "$out/luabc/$sym.c"
		inc="$inc#include \"$sym.c\"
"
		table="$table  { \"$mod\", luaJIT_BC_$sym, sizeof(luaJIT_BC_$sym) },
"
	done
	for src in lua/lnst/tests/*.lua; do
		base=$(basename "$src" .lua)
		luajit cmake/embed_lua_source.lua "$src" "$out/luasrc/$base.lua"
		luajit -b -n "lnst.modsrc.$base" "$out/luasrc/$base.lua" "$out/luabc/lnst_modsrc_$base.c"
		inc="$inc#include \"lnst_modsrc_$base.c\"
"
		table="$table  { \"lnst.modsrc.$base\", luaJIT_BC_lnst_modsrc_$base, sizeof(luaJIT_BC_lnst_modsrc_$base) },
"
	done
	printf '#include "lua_embedded.h"\n%s\nconst struct lua_embedded lua_embedded_modules[] = {\n%s  { 0, 0, 0 }\n};\n' \
	  "$inc" "$table" >"$out"/luabc/lua_embedded.c
}
case $t in
frame|literal) ;;
config) extra=src/common/config.c ;;
pool)
	pool_schema
	extra="src/ctl/pool.c $out/pool_schema.c src/common/config.c src/common/tls.c src/common/tcp_connect.c src/common/log.c src/common/loop.c src/common/conn.c"
	libs="-Isrc/ctl $(pkg-config --cflags --libs libxml-2.0) -ldl" ;;
podman)
	extra="src/podman/podman.c src/ctl/lua_json.c"
	libs="-Isrc/podman -Isrc/ctl $(pkg-config --cflags --libs libcurl luajit) -lpthread" ;;
dispatch)
	extra="$(ls src/agent/*.c | grep -v '/main\.c$') src/ctl/lua_json.c src/common/loop.c src/common/conn.c
	       src/common/log.c src/common/tls.c src/common/tcp_connect.c src/common/config.c src/common/sha256.c"
	libs="-Isrc/agent -Isrc/ctl $(pkg-config --cflags --libs libnl-3.0 libnl-route-3.0 libnl-genl-3.0 luajit) -ldl" ;;
params)
	# lnst but its main.c, with the Lua library embedded (fuzz_params.c)
	pool_schema
	lua_embedded
	ctl=''
	for f in src/ctl/*.c; do
		case $f in */main.c | */vmguest.c) ;; *) ctl="$ctl $f" ;; esac
	done
	extra="$ctl src/podman/*.c $out/pool_schema.c
	       $out/luabc/lua_embedded.c src/common/loop.c src/common/conn.c src/common/log.c src/common/tls.c
	       src/common/tcp_connect.c src/common/config.c src/common/sha256.c"
	hang=10 # seconds for one input: a hang in the Lua checking is a finding
	# shellcheck disable=SC2089 # the quotes go to the compiler: string macros
	libs="-Isrc/ctl -Isrc/podman -I$out/luabc -DLNST_SOURCE_DIR=\"$PWD\" -DFUZZ_PARAMS_LUA=\"$PWD/tests/fuzz/fuzz_params.lua\"
	      $(pkg-config --cflags --libs luajit libnl-3.0 libnl-route-3.0 libcurl libxml-2.0) -lreadline -ldl -lpthread" ;;
*) echo "fuzz.sh: unknown target '$t'" >&2; exit 2 ;;
esac
mkdir -p "$out"
# shellcheck disable=SC2086,SC2090 # word lists; quotes in $libs are literal
clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc/common $(pc --cflags) \
  tests/fuzz/fuzz_"$t".c $common $extra $(pc --libs) $libs -lm -o "$out"/fuzz_"$t"
cd "$out"
exec ./fuzz_"$t" -max_total_time="$secs" -max_len=65536 ${hang:+-timeout=$hang} "$OLDPWD"/tests/fuzz/corpus/"$t"
