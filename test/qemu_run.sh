#!/usr/bin/env bash
# Integration tests: boot the real firmware images in QEMU and talk to
# them (console, hostfwd, tap devices in test-made network namespaces).
# Run `make test` (which builds the images first) or this script directly
# after `make all MODE=s APP=l2reflect ...`.
#
# The groups run once per NIC (RVNET_NIC, see test/guest.py), each NIC a
# lane; two lanes run side by side (the machine has two cores), the
# groups inside a lane one after another. The main configuration
# (virtio-mmio) runs every group with its exhaustive sweeps; the other
# NICs run the groups that depend on the NIC. uboot (always sifive_u
# and its GEM, U-Boot booting the S-mode image) runs once, in the first.
#   bash test/qemu_run.sh                      every lane
#   bash test/qemu_run.sh virtio-mmio:boot,tap one lane, some groups
set -u
cd "$(dirname "$0")"
LANES_DEFAULT="virtio-mmio:boot,hostfwd,l2,tap,hostile,dhcp,udp,uboot gem:hostfwd,l2,tap,hostile,udp
	virtio-pci:hostfwd,l2,tap,hostile,udp"
for extra in ${RVNET_EXTRA_LANES:-}; do LANES_DEFAULT="$LANES_DEFAULT $extra"; done
lanes=${*:-$LANES_DEFAULT}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# One lane: its groups in order; prints each group's lines as it ends.
lane() {
	local nic=${1%%:*} groups=${1#*:} g f log
	for g in ${groups//,/ }; do
		f="test_$g.py"
		[ -f "$f" ] || { echo "FAIL $nic/$g: no $f"; continue; }
		log="$out/$nic-$g.log"
		RVNET_NIC=$nic timeout 1800 python3 -u "$f" >"$log" 2>&1
		echo "rc=$?" >>"$log"
		sed "s#^\(ok  \|FAIL\|SKIP\)#\1 [$nic]#" "$log"
	done
}

running=0
for l in $lanes; do
	lane "$l" &
	running=$((running + 1))
	if [ "$running" -ge 2 ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait

pass=0
fail=0
for log in "$out"/*.log; do
	[ -f "$log" ] || continue
	name=$(basename "$log" .log)
	line=$(grep -E '^[a-z0-9_-]+: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	if [ -z "$line" ]; then
		echo "FAIL $name: group ended without a result ($(tail -n 1 "$log"))"
		fail=$((fail + 1))
		continue
	fi
	p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
	m=$(echo "$line" | sed -E 's/.*passed, ([0-9]+) failed.*/\1/')
	pass=$((pass + p))
	fail=$((fail + m))
done
echo "qemu: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
