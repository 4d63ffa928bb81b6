#!/usr/bin/env bash
# Integration tests: boot the real firmware images in QEMU and talk to
# them (console, hostfwd, tap devices in test-made network namespaces).
# Run `make test` (which builds the images first) or this script directly
# after `make all MODE=s APP=l2reflect ...`. Groups: boot hostfwd l2 tap
# hostile; pass names to run a subset.
set -u
cd "$(dirname "$0")"
groups=${*:-"boot hostfwd l2 tap hostile"}
pass=0
fail=0
for g in $groups; do
	f="test_$g.py"
	[ -f "$f" ] || continue
	out=$(mktemp)
	timeout 1800 python3 -u "$f" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '^[a-z0-9_-]+: [0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
	rm -f "$out"
	if [ -z "$line" ]; then
		echo "FAIL $g: group ended without a result (exit $rc)"
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
