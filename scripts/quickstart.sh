#!/bin/sh
# The README's first command: install, build, and run recipes/hello_world.lua
# on the embedded default (each host a fresh network namespace).
set -eu
cd "$(dirname "$0")/.."
./scripts/build.sh
exec ./build/lnst run recipes/hello_world.lua "$@"
