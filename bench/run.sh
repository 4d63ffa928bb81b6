#!/usr/bin/env bash
# make bench: build the images and the load generator, then measure
# (bench/bench.py). Options go to bench.py, e.g.
#   bash bench/run.sh --seconds 5 --only rate,size
# or through make's environment: make bench BENCH_SECONDS=5 BENCH_ONLY=rate
# The images are built as VARIANT=bench flavours (own object directories,
# same sources and flags), so a `make` elsewhere cannot change them under
# a running benchmark. The stack-alone figures of `make bench-host` join
# the table when build/bench/host.json exists.
set -u
cd "$(dirname "$0")/.."
mkdir -p build/bench
build() {
	if ! make -s "$@" >build/bench/build.log 2>&1; then
		cat build/bench/build.log
		echo "bench: make $* failed" >&2
		exit 1
	fi
}
build all VARIANT=bench
build all APP=l2reflect VARIANT=bench
build all VARIANT=nocsum-bench CFLAGS_EXTRA=-DCFG_GUEST_CSUM=0
cc -O2 -Wall -Wextra -o build/bench/loadgen bench/loadgen.c || exit 1
# The count from outside (bench/icount_plugin.c), a QEMU plugin
cc -O2 -Wall -Wextra -shared -fPIC -fvisibility=hidden -o build/bench/icount_plugin.so \
	bench/icount_plugin.c || exit 1
# The polling reflector (bench/reflector/): a measuring tool, not the
# firmware; the firmware's compiler and flags, without picolibc and LTO.
${CROSS_COMPILE:-riscv64-unknown-elf-}gcc -std=c11 -march=rv64imac_zicsr_zifencei -mabi=lp64 \
	-mcmodel=medany -O2 -g -ffreestanding -nostdlib -nostartfiles -fno-common \
	-ffunction-sections -fdata-sections -fno-tree-loop-distribute-patterns \
	-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-T bench/reflector/link.ld -Wl,--gc-sections -Wl,--no-warn-rwx-segments \
	-o build/bench/polling-reflector.elf bench/reflector/start.S bench/reflector/reflect.c || exit 1
exec timeout 1200 python3 -u bench/bench.py "$@"
