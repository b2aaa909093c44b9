#!/bin/sh
# Runs a fuzz target with libFuzzer (clang) for a time:
#   scripts/fuzz.sh frame|literal [SECONDS]
# New inputs that increase coverage go into tests/fuzz/corpus/TARGET; a crash
# leaves crash-* in build-fuzz/ - add it to the corpus as a regression input.
set -eu
cd "$(dirname "$0")/.."
t=${1:?which target? (frame, literal)}
secs=${2:-60}
command -v clang-14 >/dev/null || apt-get install -y -qq clang-14 libclang-rt-14-dev >/dev/null
pc() { pkg-config "$@" libcjson; }
mkdir -p build-fuzz
clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc/common $(pc --cflags) \
  tests/fuzz/fuzz_"$t".c src/common/frame.c src/common/msg.c src/common/literal.c \
  $(pc --libs) -lm -o build-fuzz/fuzz_"$t"
cd build-fuzz
exec ./fuzz_"$t" -max_total_time="$secs" -max_len=65536 ../tests/fuzz/corpus/"$t"
