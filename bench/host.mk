# make bench-host: the stack alone, outside the firmware (see
# bench/host_bench.c and bench/host_run.sh).
#   x86-64 (the build machine): instructions per packet under callgrind,
#     optimised like the firmware (-O2), no sanitizers;
#   RISC-V: the same program built with the firmware's compiler flags,
#     run bare metal in QEMU (-icount shift=0, semihosting), instructions
#     per packet from minstret. Skipped if the cross tools are missing.
#   make -f bench/host.mk            build both, run, print the table
#   make -f bench/host.mk build      build only
# Variables: N (packets in the long run, default 10001), HOSTCC.

HOSTCC ?= cc
CROSS_COMPILE ?= riscv64-unknown-elf-
N ?= 10001
OUT := build/bench/host
RVOUT := build/bench/rv64
NET_SRCS := $(sort $(wildcard net/*.c))
SRCS := $(NET_SRCS) app/echo.c bench/host_bench.c
OBJS := $(patsubst %.c,$(OUT)/obj/%.o,$(SRCS))
RVOBJS := $(patsubst %.c,$(RVOUT)/obj/%.o,$(SRCS))
BIN := $(OUT)/host_bench
RVELF := $(RVOUT)/host_bench.elf
WARN := -Wall -Wextra -Werror -Wshadow -Wno-missing-prototypes
CFLAGS := -std=c11 -O2 -flto -g -I. -D_DEFAULT_SOURCE $(WARN) -fno-omit-frame-pointer
# As the firmware's Makefile: compile with the CSR extension spelled out,
# link with the plain ISA name (multilib selection).
RVCC := $(CROSS_COMPILE)gcc
RVCFLAGS := --specs=picolibc.specs -std=c11 -march=rv64imac_zicsr_zifencei -mabi=lp64 \
	-mcmodel=medany -O2 -flto -g -ffunction-sections -fdata-sections -I. $(WARN)
RVLDFLAGS := -O2 -flto --specs=picolibc.specs --crt0=semihost --oslib=semihost -march=rv64imac \
	-mabi=lp64 -mcmodel=medany -Wl,--gc-sections \
	-Wl,--defsym=__flash=0x80000000 -Wl,--defsym=__flash_size=0x200000 \
	-Wl,--defsym=__ram=0x80200000 -Wl,--defsym=__ram_size=0x1000000
HAVE_RV := $(shell command -v $(RVCC) >/dev/null && command -v qemu-system-riscv64 >/dev/null && echo 1)

.PHONY: run build
run: build
	@N=$(N) RVELF=$(if $(HAVE_RV),$(RVELF)) bash bench/host_run.sh $(BIN)

build: $(BIN) $(if $(HAVE_RV),$(RVELF))

$(OUT)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $<"
	@$(HOSTCC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BIN): $(OBJS)
	@echo "  HOSTLD  $@"
	@$(HOSTCC) $(CFLAGS) -o $@ $(OBJS)

$(RVOUT)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $< (rv64)"
	@$(RVCC) $(RVCFLAGS) -MMD -MP -c -o $@ $<

$(RVELF): $(RVOBJS)
	@echo "  LD      $@"
	@$(RVCC) $(RVLDFLAGS) -o $@ $(RVOBJS)

-include $(OBJS:.o=.d) $(RVOBJS:.o=.d)
