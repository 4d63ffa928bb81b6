#!/usr/bin/env bash
# The whole suite: build every image, run host unit tests (ASan+UBSan),
# the fuzz corpus replay, then the QEMU integration tests. Ends with the
# line "N passed, M failed" and a non-zero exit if anything failed.
set -u
cd "$(dirname "$0")/.."
total_pass=0
total_fail=0
log=build/test-logs
mkdir -p "$log"

# Adds the counts from a group's "name: N passed, M failed" line; a group
# that died without one counts as one failure.
tally() {
	local name=$1 file=$2 rc=$3
	local line
	line=$(grep -E '^[A-Za-z0-9_/.-]+: [0-9]+ passed, [0-9]+ failed' "$file" | tail -n 1)
	if [ -z "$line" ]; then
		echo "FAIL $name: no result line (exit $rc)"
		total_fail=$((total_fail + 1))
		return
	fi
	local p f
	p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed.*/\1/')
	f=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed.*/\2/')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL $name: exit $rc"
		f=1
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
}

echo "== build"
build() {
	if ! make -s "$@" >"$log/build.txt" 2>&1; then
		cat "$log/build.txt"
		echo "FAIL build: make $*"
		total_fail=$((total_fail + 1))
		return 1
	fi
}
build all
build all MODE=s
build all APP=l2reflect
build all MODE=s APP=l2reflect
build all APP=telemetry
build all MODE=s APP=telemetry
build all VARIANT=fault CFLAGS_EXTRA=-DFAULT_TEST
build all MODE=s VARIANT=fault CFLAGS_EXTRA=-DFAULT_TEST
build all VARIANT=nocsum CFLAGS_EXTRA=-DCFG_GUEST_CSUM=0
build all VARIANT=gem-desc64 CFLAGS_EXTRA=-DCFG_GEM_DESC64=1
build all VARIANT=gem-txcsum CFLAGS_EXTRA=-DCFG_GEM_TX_CSUM=1
build all VARIANT=opts 'CFLAGS_EXTRA=-DRVNET_OPTS=\"test/fixtures/opts.h\"'

echo "== unit tests (host, ASan + UBSan)"
# A test that does not build fails here, by name; no stale binary from an
# earlier build runs in its place.
for src in test/unit/test_*.c; do
	n=$(basename "$src" .c)
	rm -f "build/host/$n"
	if ! make -s "build/host/$n" >"$log/build-$n.txt" 2>&1; then
		grep -E 'error|Error' "$log/build-$n.txt" | head -n 10
		echo "FAIL $n: does not build (log $log/build-$n.txt)"
		total_fail=$((total_fail + 1))
	fi
done
for t in build/host/test_*; do
	[ -x "$t" ] || continue
	n=$(basename "$t")
	"$t" >"$log/$n.txt" 2>&1
	rc=$?
	grep -E '^(  FAIL|not ok|=+ERROR|.*runtime error)' "$log/$n.txt" | head -n 20
	tally "$n" "$log/$n.txt" "$rc"
	tail -n 1 "$log/$n.txt"
done
if ! ls build/host/test_* >/dev/null 2>&1; then
	echo "FAIL unit: no unit test binaries were built"
	total_fail=$((total_fail + 1))
fi

echo "== layers and build-time options"
bash test/check_layers.sh >"$log/layers.txt" 2>&1
rc=$?
grep -E '^(ok|FAIL|  )' "$log/layers.txt"
tally layers "$log/layers.txt" "$rc"
python3 test/check_config.py >"$log/config.txt" 2>&1
rc=$?
grep -E '^(ok|FAIL)' "$log/config.txt"
tally config "$log/config.txt" "$rc"

echo "== HiFive images: boot image header, SD card"
python3 test/test_sdcard.py >"$log/sdcard.txt" 2>&1
rc=$?
grep -E '^(ok|FAIL|SKIP)' "$log/sdcard.txt"
tally sdcard "$log/sdcard.txt" "$rc"

if [ -f test/fuzz/fuzz.mk ]; then
	echo "== fuzz corpus replay and short run"
	make -s -f test/fuzz/fuzz.mk check >"$log/fuzz.txt" 2>&1
	rc=$?
	tail -n 3 "$log/fuzz.txt"
	tally fuzz "$log/fuzz.txt" "$rc"
fi

echo "== QEMU integration tests"
bash test/qemu_run.sh >"$log/qemu.txt" 2>&1
rc=$?
cat "$log/qemu.txt" | grep -E '^(ok|FAIL|SKIP|[a-z0-9_-]+: [0-9]+ passed)'
tally qemu "$log/qemu.txt" "$rc"

echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
