#!/bin/bash
# Generates the recipe status table of docs/enrt.md from real runs: every
# recipes/enrt/*.lua with short parameters (scripts/enrt-short-args.sh)
# on netns hosts, and with --vm too when ENRT_VM=1 (docs/vm.md); with
# ENRT_VM=skipped only the recipes SKIPPED on netns run under --vm (the
# others show "not run" there). Prints markdown: recipe, upstream name, what
# it needs, result per provisioner (PASS/WARNING/SKIPPED with the
# reason/FAIL).
#   LNST=build/lnst scripts/enrt-table.sh > /tmp/table.md
#   ENRT_VM=skipped LNST=build/lnst scripts/enrt-table.sh > /tmp/table.md
set -u
cd "$(dirname "$0")/.."
LNST=${LNST:-build/lnst}
. scripts/enrt-short-args.sh
provs=(netns)
case "${ENRT_VM:-0}" in 1|skipped) provs+=(vm) ;; esac

run_one() { # FILE PROVISIONER -> status text
  local f=$1 prov=$2 name args=() out rc overall
  name=$(basename "$f" .lua)
  enrt_short_args "$f"
  args=("${ENRT_ARGS[@]}")
  [ "$prov" = vm ] && args=(--vm "${args[@]}")
  out=$(timeout 600 "$LNST" run "$f" "${args[@]}" 2>&1); rc=$?
  overall=$(echo "$out" | sed -n 's/^Overall result of this Run: //p')
  case "$rc/$overall" in
    0/SKIPPED) echo "SKIPPED: $(echo "$out" | sed -n 's/^SKIPPED [0-9]*_[A-Za-z]*:\tSKIPPED: //p' | sed 's/; host host2: .*//')" ;;
    0/*) echo "$overall" ;;
    *) echo "FAIL (exit $rc${overall:+, $overall})" ;;
  esac
}

printf '| recipe | upstream | needs |'; for p in "${provs[@]}"; do printf ' %s |' "$p"; done; echo
printf '|---|---|---|'; for _ in "${provs[@]}"; do printf -- '---|'; done; echo
for f in recipes/enrt/*.lua; do
  info=$("$LNST" list recipes "$f")
  upstream=$(echo "$info" | head -1 | awk '{print $1}')
  needs=$(echo "$info" | sed -n 's/^  needs \([a-z_]*\): /\1: /p' | paste -sd ';' | sed 's/;/; /g')
  printf '| %s | %s | %s |' "$(basename "$f" .lua)" "$upstream" "${needs:--}"
  prev=
  for p in "${provs[@]}"; do
    if [ "$p" = vm ] && [ "${ENRT_VM:-0}" = skipped ] && [ "${prev%%:*}" != SKIPPED ]; then
      prev="not run"
    else
      prev=$(run_one "$f" "$p")
    fi
    printf ' %s |' "$prev"
  done
  echo
done
