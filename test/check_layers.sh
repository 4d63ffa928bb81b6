#!/usr/bin/env bash
# The layers (../shared/DESIGN.md), checked on the include graph the
# compiler sees and on the symbols the objects use:
#   net/      includes nothing from drivers/ or app/
#   drivers/  includes nothing from app/, and uses no symbol app/ defines;
#             of net/, a driver includes only the buffer pool and the
#             checksum helpers (port.c, which connects NIC and stack, also
#             netif.h)
# Ends with "layers: N passed, M failed".
set -u
cd "$(dirname "$0")/.."
CC=${CROSS_COMPILE:-riscv64-unknown-elf-}gcc
FLAGS="--specs=picolibc.specs -march=rv64imac_zicsr_zifencei -mabi=lp64 -mcmodel=medany -I. -DMODE_S=0"
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() { # name, offending lines (empty = pass)
	if [ -z "$2" ]; then
		echo "ok   layers/$1"
		pass=$((pass + 1))
	else
		echo "FAIL layers/$1:"
		echo "$2" | head -n 10 | sed 's/^/  /'
		fail=$((fail + 1))
	fi
}

# Every header a file pulls in, directly or not, as repo paths.
deps() { $CC $FLAGS -MM -MT x "$1" | tr -d '\\' | tr ' ' '\n' | grep -E '^(net|drivers|app)/' | grep -v "^$1$"; }

bad=""
for f in net/*.c; do
	d=$(deps "$f" | grep -E '^(drivers|app)/')
	[ -n "$d" ] && bad+="$f -> $(echo $d)"$'\n'
done
check "net includes neither drivers nor app" "$bad"

bad=""
for f in drivers/*.c; do
	d=$(deps "$f" | grep -E '^app/')
	[ -n "$d" ] && bad+="$f -> $(echo $d)"$'\n'
	allowed='^net/(pkt|config|csum|tune)\.h$'
	[ "$f" = drivers/port.c ] && allowed='^net/(pkt|config|csum|tune|netif)\.h$'
	d=$(deps "$f" | grep -E '^net/' | grep -vE "$allowed")
	[ -n "$d" ] && bad+="$f -> $(echo $d)"$'\n'
done
check "drivers include no app and only the pool, checksum and netif of net" "$bad"

# Symbols: compiled without LTO so nm sees real symbol tables.
for f in drivers/*.c app/*.c; do
	$CC $FLAGS -O1 -fno-lto -c -o "$tmp/$(echo "$f" | tr / _).o" "$f" 2>"$tmp/err" ||
		{ cat "$tmp/err"; fail=$((fail + 1)); }
done
${CROSS_COMPILE:-riscv64-unknown-elf-}nm -g --defined-only "$tmp"/app_*.o | awk 'NF == 3 { print $3 }' | sort -u >"$tmp/app_defs"
${CROSS_COMPILE:-riscv64-unknown-elf-}nm -u "$tmp"/drivers_*.o | awk '{ print $NF }' | sort -u >"$tmp/drv_undef"
check "drivers use no symbol app defines" "$(comm -12 "$tmp/app_defs" "$tmp/drv_undef")"

echo "layers: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
