#!/usr/bin/env bash
# The stack alone, instructions per packet, every frame kind:
#  - x86-64: under callgrind twice, with 1 and with N packets, counting
#    only bench_input (net_input and all below it) and bench_release (the
#    driver's pkt_free): ipp = (Ir(N) - Ir(1)) / (N - 1), set-up cancels;
#  - rv64 (if RVELF is set): the RISC-V build in QEMU with -icount
#    shift=0, minstret read around the same two calls, N packets;
#  - x86-64 native: wall-clock ns per packet (frame copy included).
# Every reply is checked; a wrong one fails the run (speed never does).
# Writes build/bench/host.json. Usage: N=.. RVELF=.. bash bench/host_run.sh BIN
set -u
bin=$1
n=${N:-10001}
rvelf=${RVELF:-}
out=build/bench/host
mkdir -p "$out"
kinds="udp18 udp64 udp512 udp1472 udp18-ok udp64-ok udp512-ok udp1472-ok icmp56 arp"
fail=0

if ! command -v valgrind >/dev/null; then
	echo "valgrind not found: apt-get install valgrind" >&2
	exit 1
fi

# Ir collected inside the toggled functions, for one run of KIND with M packets.
ir() {
	local kind=$1 m=$2 f="$out/callgrind.$1.$2"
	if ! valgrind --tool=callgrind --callgrind-out-file="$f" \
		--toggle-collect=bench_input --toggle-collect=bench_release \
		"$bin" "$kind" "$m" >"$f.log" 2>&1; then
		echo "host_bench $kind $m failed:" >&2
		grep -v '^==' "$f.log" | tail -n 5 >&2
		return 1
	fi
	awk '/^(summary|totals):/ {print $2; exit}' "$f"
}

# "kind value" lines of a `host_bench all` table into the named array.
declare -A ns rv
read_table() {
	local -n arr=$1
	local k c v _
	while read -r k c v _; do
		[ "$k" = kind ] || arr[$k]=$v
	done
}

"$bin" all 200000 >"$out/native.txt" 2>&1 || { fail=1; cat "$out/native.txt" >&2; }
read_table ns <"$out/native.txt"

if [ -n "$rvelf" ]; then
	# picolibc's semihosting start-up passes QEMU's arg= words after a
	# placeholder program name: argv = {name, KIND, N}.
	timeout 300 qemu-system-riscv64 -M virt -m 128M -bios none -nographic -icount shift=0 \
		-kernel "$rvelf" -semihosting-config "enable=on,target=native,arg=all,arg=$n" \
		</dev/null >"$out/rv64.txt" 2>&1 || { fail=1; cat "$out/rv64.txt" >&2; }
	read_table rv <"$out/rv64.txt"
fi

echo
echo "Stack alone, instructions per packet (bench_input + bench_release: net_input"
echo "and everything under it, the echo callback, and the pkt_free of the sent frame)."
echo "x86-64: callgrind, (Ir($n) - Ir(1)) / $((n - 1)); $(${HOSTCC:-cc} --version | head -n 1), -O2."
[ -n "$rvelf" ] && echo "rv64: the firmware's compiler and flags, QEMU -icount shift=0, minstret, $n packets."
printf '%-11s %6s %10s %10s %10s\n' kind frame x86/pkt rv64/pkt "x86 ns/pkt"
json="{\"n\": $n, \"x86_compiler\": \"$(${HOSTCC:-cc} --version | head -n 1)\", \"kinds\": {"
sep=""
for k in $kinds; do
	a=$(ir "$k" 1) && b=$(ir "$k" "$n") || { fail=1; continue; }
	ipp=$(awk -v a="$a" -v b="$b" -v n="$n" 'BEGIN {printf "%.1f", (b - a) / (n - 1)}')
	case $k in
	udp*) p=${k#udp}; p=${p%-ok}; frame=$((p + 42)); [ $frame -lt 60 ] && frame=60 ;;
	icmp56) frame=98 ;;
	arp) frame=60 ;;
	esac
	printf '%-11s %6s %10s %10s %10s\n' "$k" "$frame" "$ipp" "${rv[$k]:--}" "${ns[$k]:--}"
	json+="$sep\"$k\": {\"frame_bytes\": $frame, \"x86_ir_1\": $a, \"x86_ir_n\": $b,"
	json+=" \"x86_instr_per_pkt\": $ipp, \"rv64_instr_per_pkt\": ${rv[$k]:-null},"
	json+=" \"x86_ns_per_pkt\": ${ns[$k]:-null}}"
	sep=", "
done
json+="}}"
echo "$json" >build/bench/host.json
echo "udpN: UDP echo with N payload bytes, checksum verified in software; udpN-ok: the frame"
echo "arrives flagged checksum-verified (virtio DATA_VALID); icmp56: ping with 56 data bytes;"
echo "arp: request for our address. x86 ns/pkt: native, 200000 packets, frame copy included."
echo "wrote build/bench/host.json"
exit $fail
