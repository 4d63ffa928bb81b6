#!/bin/sh
# Install what the build, run and tests need, once, on a Debian machine.
need=""
have() { command -v "$1" >/dev/null 2>&1; }
have riscv64-unknown-elf-gcc || need="$need gcc-riscv64-unknown-elf"
[ -f /usr/lib/picolibc/riscv64-unknown-elf/picolibc.specs ] || need="$need picolibc-riscv64-unknown-elf"
have qemu-system-riscv64 || need="$need qemu-system-misc"
[ -f /usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin ] || need="$need opensbi"
have cc || need="$need gcc"
have clang || need="$need clang"
have python3 || need="$need python3"
have tshark || need="$need tshark"
have ip || need="$need iproute2"
have nc || need="$need netcat-openbsd" # the README's next step after make run
have ping || need="$need iputils-ping"
have arping || need="$need iputils-arping"
# test_dhcp.py's real server; -base: the binary without a system service
[ -x /usr/sbin/dnsmasq ] || have dnsmasq || need="$need dnsmasq-base"
have gnuplot || need="$need gnuplot-nox"
have valgrind || need="$need valgrind"
[ -e /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a ] ||
	need="$need libclang-rt-14-dev"
# HiFive boards: boot.scr (make), the SD card image (make sdcard).
have mkimage || need="$need u-boot-tools"
have sgdisk || need="$need gdisk"
have mcopy || need="$need mtools"
have mkfs.fat || need="$need dosfstools"
# Only the U-Boot test group (test/test_uboot.py) wants it, and it skips
# without it: a failed install of it alone is not fatal.
want=""
[ -f /usr/lib/u-boot/qemu-riscv64_smode/uboot.elf ] || want="u-boot-qemu"
# `make debug` also wants the debugger (`sh test/deps.sh debug`).
[ "${1:-}" = debug ] && ! have gdb-multiarch && need="$need gdb-multiarch"
[ -z "$need$want" ] && exit 0
echo "installing:$need $want"
if [ "$(id -u)" != 0 ]; then
	echo "not root: install these packages yourself:$need $want" >&2
	[ -z "$need" ]
	exit
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null || { [ -z "$need" ] && exit 0; echo "apt-get update failed" >&2; exit 1; }
if [ -n "$need" ]; then
	apt-get install -y -q $need >/dev/null || {
		echo "apt-get install failed" >&2
		exit 1
	}
fi
if [ -n "$want" ]; then
	apt-get install -y -q $want >/dev/null ||
		echo "could not install $want: its tests will be skipped" >&2
fi
exit 0
