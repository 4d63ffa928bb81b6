# rvnet: bare-metal RISC-V firmware with its own UDP/IPv4 stack.
#   make              build/firmware.elf (M-mode, echo app)
#   make MODE=s       build/firmware-s.elf (S-mode OpenSBI payload)
#   make APP=l2reflect  L2 reflector (driver test / rate ceiling)
#   make APP=telemetry  periodic reports to a collector, queries answered
#   make run | debug | size | test | bench | fuzz
# Variables: CROSS_COMPILE, MODE (m|s), APP (echo|l2reflect|telemetry: app/app_$(APP).c),
# VARIANT (a name for an extra build flavour), CFLAGS_EXTRA (e.g. -DCFG_MTU=576,
# or -DRVNET_OPTS='"myopts.h"' for a header of overrides), V=1 (show commands).

CROSS_COMPILE ?= riscv64-unknown-elf-
MODE ?= m
APP ?= echo
VARIANT ?=
CFLAGS_EXTRA ?=
HOSTCC ?= cc
CLANG ?= clang

ifeq ($(V),1)
Q :=
else
Q := @
endif

# ---- output names: every flavour has its own objects and image ----
SUFFIX := $(if $(filter s,$(MODE)),-s)$(if $(filter-out echo,$(APP)),-$(APP))$(if $(VARIANT),-$(VARIANT))
NAME := firmware$(SUFFIX)
OBJDIR := build/obj/$(NAME)
ELF := build/$(NAME).elf
BIN := build/$(NAME).bin

ifeq ($(MODE),s)
RAM_BASE := 0x80200000
MODE_DEF := -DMODE_S=1
else ifeq ($(MODE),m)
RAM_BASE := 0x80000000
MODE_DEF := -DMODE_S=0
else
$(error MODE must be m or s)
endif

CC := $(CROSS_COMPILE)gcc
OBJCOPY := $(CROSS_COMPILE)objcopy
SIZE := $(CROSS_COMPILE)size

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
# Multilib selection needs the plain ISA name when linking; compiling needs
# the CSR extension spelled out (GCC 12). Link-time optimisation lets the
# per-packet path inline across files; printf is picolibc's integer-only one.
CFLAGS := --specs=picolibc.specs -std=c11 -march=rv64imac_zicsr_zifencei -mabi=lp64 \
	-mcmodel=medany -O2 -flto -g -ffreestanding -fno-common -ffunction-sections \
	-fdata-sections -DPICOLIBC_INTEGER_PRINTF_SCANF $(WARN) $(MODE_DEF) -I. -MMD -MP $(CFLAGS_EXTRA) \
	'-DCFG_NOINIT=__attribute__((section(".noinit")))'
LDFLAGS := -flto -flto-partition=one -O2 $(WARN) -DPICOLIBC_INTEGER_PRINTF_SCANF --specs=picolibc.specs -march=rv64imac -mabi=lp64 -nostartfiles \
	-T linker.ld -Wl,--defsym=__ram_base=$(RAM_BASE) -Wl,--gc-sections -Wl,--no-warn-rwx-segments -Wl,-Map=$(OBJDIR)/map.txt

DRV_SRCS := drivers/board.c drivers/fdt.c drivers/uart.c drivers/plic.c drivers/timer.c drivers/nic_csum.c \
	drivers/trap.c drivers/nic.c drivers/port.c drivers/virtio_net.c drivers/virtio_mmio.c \
	drivers/virtio_pci.c drivers/pci.c drivers/gem.c drivers/virtio_rng.c
PLAT_SRCS := $(DRV_SRCS) app/console.c app/bootargs.c app/main.c
NET_SRCS := $(sort $(wildcard net/*.c))
# The application (app/app_$(APP).c) and the services it may use.
SVC_SRCS := app/echo.c app/telemetry.c
ifeq ($(wildcard app/app_$(APP).c),)
$(error APP=$(APP): no app/app_$(APP).c)
endif
APP_SRCS := app/app_$(APP).c $(SVC_SRCS)
SRCS := boot/start.S $(PLAT_SRCS) $(APP_SRCS) $(NET_SRCS)
OBJS := $(patsubst %,$(OBJDIR)/%.o,$(SRCS))

.PHONY: all run debug size test unit bench bench-host fuzz clean deps
all: $(ELF) $(BIN)

$(ELF): $(OBJS) linker.ld $(FLAGS_STAMP)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $(OBJS)

$(BIN): $(ELF)
	$(Q)$(OBJCOPY) -O binary $< $@

# Objects depend on the flags they were built with: changing CFLAGS_EXTRA
# (or this file's flags) rebuilds them.
FLAGS_STAMP := $(OBJDIR)/flags.txt
FLAGS_TEXT := $(CFLAGS) | $(LDFLAGS)
ifneq ($(file <$(FLAGS_STAMP)),$(FLAGS_TEXT))
$(shell mkdir -p $(OBJDIR))
$(file >$(FLAGS_STAMP),$(FLAGS_TEXT))
endif

$(OBJDIR)/%.c.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(OBJDIR)/%.S.o: %.S $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

-include $(OBJS:.o=.d)

# ---- HiFive boards: the U-Boot image, its boot script, an SD card image ----
# Every S-mode .bin is a U-Boot `booti` image (the Image header opens
# boot/start.S). The default flavour's `make`, in either MODE, also builds
# build/firmware-s.bin and build/boot.scr (from boards/hifive/boot.cmd).
# `make sdcard SPL=u-boot-spl.bin ITB=u-boot.itb` writes build/sdcard.img
# with the S-mode image of the flavour asked for (APP=, VARIANT=).
S_BIN := build/firmware-s$(if $(filter-out echo,$(APP)),-$(APP))$(if $(VARIANT),-$(VARIANT)).bin
BOOT_SCR := build/boot.scr
SDCARD := build/sdcard.img
MKIMAGE ?= mkimage
.PHONY: sdcard FORCE

ifeq ($(APP)$(VARIANT),echo)
all: $(S_BIN) $(BOOT_SCR)
endif
ifneq ($(MODE),s)
# Another flavour, with its own objects and flags stamp: its own make.
$(S_BIN): FORCE
	$(Q)$(MAKE) --no-print-directory MODE=s bin
endif
FORCE:
# The sub-make's goal; a recipe of its own keeps it quiet when up to date.
.PHONY: bin
bin: $(BIN) ; @:

# The commit time of boot.cmd, so the script image is the same every build.
$(BOOT_SCR): boards/hifive/boot.cmd
	@mkdir -p $(dir $@)
	@echo "  MKIMAGE $@"
	$(Q)command -v $(MKIMAGE) >/dev/null || { echo "$(MKIMAGE) not found: install u-boot-tools (make deps)" >&2; exit 1; }
	$(Q)SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct -- $< 2>/dev/null) \
		$(MKIMAGE) -A riscv -O linux -T script -C none -n "rvnet boot script" -d $< $@ >/dev/null

sdcard: $(S_BIN) $(BOOT_SCR)
	$(Q)[ -n "$(SPL)" ] && [ -n "$(ITB)" ] || \
		{ echo "usage: make sdcard SPL=path/u-boot-spl.bin ITB=path/u-boot.itb" >&2; exit 1; }
	$(Q)sh boards/hifive/mksdcard.sh $(SDCARD) $(SPL) $(ITB) $(S_BIN) $(BOOT_SCR)

# ---- QEMU ----
QEMU ?= qemu-system-riscv64
QEMU_NET := -netdev user,id=n0,hostfwd=udp:127.0.0.1:5555-:7 -device virtio-net-device,netdev=n0
ifeq ($(MODE),s)
QEMU_BOOT := -bios default -kernel $(ELF)
else
QEMU_BOOT := -bios none -kernel $(ELF)
endif
QEMU_CMD := $(QEMU) -M virt -m 128M -nographic $(QEMU_BOOT) $(QEMU_NET) $(QEMU_EXTRA)

run: deps $(ELF)
	$(QEMU_CMD)

debug: deps $(ELF)
	$(Q)sh test/deps.sh debug
	@echo "In another terminal:"
	@echo "  gdb-multiarch $(ELF) -ex 'target remote :1234'"
	$(QEMU_CMD) -s -S

size: $(ELF)
	$(Q)$(SIZE) -A $(ELF) | grep -E '^(\.text|\.rodata|\.data|\.sdata|\.bss|\.sbss|\.stack|Total)'
	$(Q)$(SIZE) $(ELF)

# ---- host build of the portable parts (unit tests, fuzzing, bench) ----
HOSTDIR ?= build/host
HOST_SRCS := $(NET_SRCS) $(SVC_SRCS) drivers/fdt.c app/bootargs.c
HOST_CFLAGS := -std=c11 -g -O1 $(WARN) -Wno-missing-prototypes -I. -D_DEFAULT_SOURCE \
	-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer $(CFLAGS_EXTRA)
HOST_OBJS := $(patsubst %.c,$(HOSTDIR)/%.o,$(HOST_SRCS))
UNIT_SRCS := $(sort $(wildcard test/unit/test_*.c))
UNIT_BINS := $(patsubst test/unit/%.c,$(HOSTDIR)/%,$(UNIT_SRCS))

$(HOSTDIR)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $<"
	$(Q)$(HOSTCC) $(HOST_CFLAGS) -MMD -MP -c -o $@ $<

$(HOSTDIR)/test_%: test/unit/test_%.c $(HOST_OBJS)
	@echo "  HOSTLD  $@"
	$(Q)$(HOSTCC) $(HOST_CFLAGS) -MMD -MP -o $@ $< $(HOST_OBJS)

# Driver tests build the driver itself for the host, its MMIO turned into
# calls to the test's model of the device (RVNET_HOST_MMIO, drivers/riscv.h).
$(HOSTDIR)/test_pci: test/unit/test_pci.c drivers/pci.c $(HOST_OBJS)
	@echo "  HOSTLD  $@"
	$(Q)$(HOSTCC) $(HOST_CFLAGS) -DRVNET_HOST_MMIO -MMD -MP -o $@ $< drivers/pci.c $(HOST_OBJS)

# The virtio-net driver against a model of a hostile device
# (test/unit/virtio_model.h); the driver's console lines go to the model.
VNET_HOST_OBJ := $(HOSTDIR)/drivers/virtio_net.host.o $(HOSTDIR)/drivers/virtio_mmio.host.o \
	$(HOSTDIR)/drivers/nic_csum.host.o
$(HOSTDIR)/drivers/%.host.o: drivers/%.c
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $< (device model)"
	$(Q)$(HOSTCC) $(HOST_CFLAGS) -DRVNET_HOST_MMIO -Dprintf=vnet_host_printf -MMD -MP -c -o $@ $<
$(HOSTDIR)/test_virtio: test/unit/test_virtio.c $(VNET_HOST_OBJ) $(HOST_OBJS)
	@echo "  HOSTLD  $@"
	$(Q)$(HOSTCC) $(HOST_CFLAGS) -MMD -MP -o $@ $< $(VNET_HOST_OBJ) $(HOST_OBJS)
-include $(VNET_HOST_OBJ:.o=.d)

$(HOSTDIR)/test_gem: test/unit/test_gem.c test/unit/gem_model.h drivers/gem.c drivers/nic_csum.c $(HOST_OBJS)
	@echo "  HOSTLD  $@"
	$(Q)$(HOSTCC) $(HOST_CFLAGS) -DRVNET_HOST_MMIO -MMD -MP -o $@ $< drivers/gem.c drivers/nic_csum.c $(HOST_OBJS)

# keep the objects: as prerequisites of a pattern rule they would be intermediate
.SECONDARY: $(HOST_OBJS)
-include $(HOST_OBJS:.o=.d) $(UNIT_BINS:=.d)

unit: $(UNIT_BINS)
	$(Q)fail=0; for t in $(UNIT_BINS); do $$t || fail=1; done; exit $$fail

# ---- the whole suite: installs what is missing, then host + QEMU tests ----
deps:
	$(Q)sh test/deps.sh

test: deps
	$(Q)bash test/run_all.sh

bench: deps
	$(Q)bash bench/run.sh

bench-host:
	$(Q)$(MAKE) -s -f bench/host.mk

fuzz: deps
	$(Q)$(MAKE) -s -f test/fuzz/fuzz.mk fuzz FUZZ_SECONDS=$(or $(FUZZ_SECONDS),600)

clean:
	rm -rf build
