#!/bin/sh
# The README's second command: install, build, and run the whole test suite.
set -eu
cd "$(dirname "$0")/.."
./scripts/build.sh
cd build
exec ctest --output-on-failure "$@"
