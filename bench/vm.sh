#!/bin/bash
# Benchmark of the VM provisioner (run as root from anywhere; builds first
# unless LNST names a built lnst):
#   lnst: from the exec of `lnst run --vm bench/vm_first_line.lua` to the
#         first line of the recipe's test body (guest booted, agents up,
#         fabric built, NICs mapped): that line writes the wall clock;
#   bare: from the exec of qemu-system-x86_64 booting the same kernel and
#         initramfs on the same virtual hardware (accelerator, memory, CPUs,
#         virtio-serial and 9p devices) with the same kernel parameters
#         (but lnst's own lnst_*) to the first line its /init prints
#         (lnst_mode=bare: /init mounts /proc, /sys and /dev, prints it and
#         powers off).
# Alternating, RUNS times each (default 5) after one untimed lnst run (it
# prepares the kernel and the probe cache); ratio of the medians.
# Target: <= 1.3.
set -eu
cd "$(dirname "$0")/.."
if [ -z "${LNST:-}" ]; then
  ./scripts/build.sh
  LNST=./build/lnst
fi
RUNS=${RUNS:-5}
W=$(mktemp -d "${TMPDIR:-/tmp}/lnst-bench-vm.XXXXXX")
trap 'rm -rf "$W"' EXIT
eval "$("$LNST" scripts/vm-kernel.lua auto)" # kernel, initrd, release

# the untimed run, which also tells the accelerator lnst picks
LNST_BENCH_MARK="$W/mark" "$LNST" run -d --vm --vm-dir "$W" bench/vm_first_line.lua > "$W/warm.out" 2>&1 ||
  { cat "$W/warm.out"; exit 1; }
accel=$(sed -n 's/.*qemu started (\(kvm\|tcg\)).*/\1/p' "$W/warm.out")
[ -n "$accel" ] || { cat "$W/warm.out"; echo "bench/vm.sh: which accelerator?" >&2; exit 1; }
if [ "$accel" = kvm ]; then A=(-accel kvm -cpu host); else A=(-accel tcg,tb-size=64); fi
echo "kernel $release ($source), $accel, 512 MiB, 2 CPUs"
echo "one lnst run, step by step (lnst run -d):"
grep "lnst: vm:" "$W/warm.out" | sed 's/^lnst: vm:/  /'

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

lnst_once() {
  rm -f "$W/mark"
  local t0; t0=$(now_ms)
  LNST_BENCH_MARK="$W/mark" "$LNST" run --vm --vm-dir "$W" bench/vm_first_line.lua > "$W/lnst.out" 2>&1 ||
    { cat "$W/lnst.out"; exit 1; }
  awk -v t0="$t0" '{ printf "%d\n", $1 * 1000 - t0 }' "$W/mark"
}

bare_once() {
  mkdir -p "$W/bare"
  local t0; t0=$(now_ms)
  qemu-system-x86_64 -nodefaults -no-user-config -display none -machine pc "${A[@]}" -m 512 -smp 2 -no-reboot \
    -nic none -kernel "$kernel" -initrd "$initrd" -serial stdio \
    -append "console=ttyS0 loglevel=5 panic=-1 oops=panic mitigations=off acpi=noirq lnst_mode=bare" \
    -device virtio-serial-pci,id=ser,max_ports=2 -chardev null,id=ch -device virtserialport,bus=ser.0,chardev=ch,name=x \
    -fsdev local,id=root,path=/,security_model=none,readonly=on,multidevs=remap \
    -device virtio-9p-pci,fsdev=root,mount_tag=hostroot \
    -fsdev local,id=run,path="$W/bare",security_model=none,multidevs=remap \
    -device virtio-9p-pci,fsdev=run,mount_tag=lnstrun < /dev/null 2> /dev/null |
    while IFS= read -r line; do
      case $line in *"bare init reached"*) now_ms; break ;; esac
    done > "$W/bare.t"
  [ -s "$W/bare.t" ] || { echo "bench/vm.sh: the bare guest printed no init line" >&2; exit 1; }
  echo $(( $(cat "$W/bare.t") - t0 ))
}

l=(); b=()
for i in $(seq "$RUNS"); do
  l+=("$(lnst_once)")
  b+=("$(bare_once)")
done
lm=$(printf '%s\n' "${l[@]}" | median)
bm=$(printf '%s\n' "${b[@]}" | median)
echo "lnst run --vm to the first recipe line, $RUNS runs (ms): ${l[*]}"
echo "bare qemu boot to /init, $RUNS runs (ms): ${b[*]}"
echo "median: lnst ${lm} ms, bare ${bm} ms"
awk -v a="$lm" -v b="$bm" 'BEGIN { printf "ratio lnst / bare: %.2f (target <= 1.3)\n", a / b }'
