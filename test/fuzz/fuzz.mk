# Fuzzing with libFuzzer (clang 14). Two targets: net, the stack (fuzz_net.c),
# and fdt, the device tree and boot arguments (fuzz_fdt.c). From the repo root:
#   make -f test/fuzz/fuzz.mk fuzz [TARGET=fdt]   FUZZ_SECONDS=600 session, corpus in
#                                        build/fuzz/corpus (net) or build/fuzz/corpus-fdt
#   make -f test/fuzz/fuzz.mk check      replay both targets' corpus/ + regress/, then a
#                                        run of each, FUZZ_CHECK_SECONDS in all (3/4 net);
#                                        virtio: regress_virtio/ replayed, then a run
#                                        last line "fuzz: N passed, M failed"
#   make -f test/fuzz/fuzz.mk coverage [TARGET=fdt]   line coverage over the corpora (llvm-cov-14)
#   make -f test/fuzz/fuzz.mk corpus     regenerate the seed corpora (make_corpus*.py)
#   make -f test/fuzz/fuzz.mk repro FILE=crash-... [TARGET=fdt]   run one input, show the report
# net fuzzes with two UBSan checks off for speed (FAST below); what it keeps
# is replayed by full_net, the same harness with every check.
# Another configuration of the stack in its own build dir, e.g. small tables:
#   make -f test/fuzz/fuzz.mk fuzz B=build/fuzz-small \
#        FUZZ_CFLAGS="-DCFG_PKT_COUNT=24 -DCFG_ARP_ENTRIES=2 -DCFG_REASS_SLOTS=1 -DCFG_UDP_PCBS=5"

CLANG ?= clang
LLVM_PROFDATA ?= llvm-profdata-14
LLVM_COV ?= llvm-cov-14
FUZZ_SECONDS ?= 600
FUZZ_CHECK_SECONDS ?= 60
FUZZ_FLAGS ?=
FUZZ_CFLAGS ?=
TARGET ?= net
FZ := test/fuzz
Q := $(if $(filter 1,$(V)),,@)
B ?= build/fuzz

CFLAGS := -std=c11 -g -O1 -I. -D_DEFAULT_SOURCE -Wall -Wextra -fno-omit-frame-pointer $(FUZZ_CFLAGS)
SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
# The stack target fuzzes without two UBSan checks: pointer-overflow (on
# every pointer sum) and alignment (on every access through a pointer,
# struct members included). libFuzzer traces each of their compares, and
# they were two fifths of its time. A pointer that leaves its object is
# still caught by ASan where it is used; and full_net, the same harness
# with every check, replays the seeds and regression inputs in check and
# any finding in repro, so an input that misaligns a wide access
# (net/tune.h's u16a/u32a) is still reported once the loop keeps it.
FAST := -fno-sanitize=pointer-overflow,alignment
COV := -fprofile-instr-generate -fcoverage-mapping
# libFuzzer options shared by every run; a hang counts as a bug
RUNOPTS := -timeout=10 -rss_limit_mb=2048 -print_final_stats=1

# Per target: sources under test, seeds, regression inputs, options
# (net: big enough for an 8000-byte fragmented datagram).
# The stack and the services the firmware ships, unchanged.
SRCS_net := $(sort $(wildcard net/*.c)) app/echo.c
SRCS_fdt := drivers/fdt.c app/bootargs.c
SEEDDIR_net := $(FZ)/corpus
SEEDDIR_fdt := $(FZ)/corpus_fdt
SEEDS_net = $(wildcard $(SEEDDIR_net)/*)
SEEDS_fdt = $(wildcard $(SEEDDIR_fdt)/*)
REGRESS_net = $(filter-out %.md,$(wildcard $(FZ)/regress/*))
REGRESS_fdt =
OPTS_net := -max_len=16384 -dict=$(FZ)/fuzz_net.dict
OPTS_fdt := -max_len=16384 -dict=$(FZ)/fuzz_fdt.dict
CORPUS_net := $(B)/corpus
CORPUS_fdt := $(B)/corpus-fdt
objs = $(patsubst %.c,$(B)/$2/%.o,$(SRCS_$1))

ifeq ($(filter $(TARGET),net fdt),)
$(error TARGET=$(TARGET): net or fdt)
endif
FUZZER := $(B)/fuzz_$(TARGET)
# what runs an input under every check
REPLAY_net := $(B)/full_net
REPLAY_fdt := $(B)/fuzz_fdt

.PHONY: all fuzz check coverage corpus repro
all: $(B)/fuzz_net $(B)/fuzz_fdt

$(B)/obj/%.o: %.c $(FZ)/fuzz.mk
	@mkdir -p $(dir $@)
	@echo "  CLANG   $<"
	$(Q)$(CLANG) $(CFLAGS) $(SAN) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(B)/cov/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CLANG   $< (coverage)"
	$(Q)$(CLANG) $(CFLAGS) $(COV) -MMD -MP -c -o $@ $<

$(B)/full/%.o: %.c $(FZ)/fuzz.mk
	@mkdir -p $(dir $@)
	@echo "  CLANG   $< (every check)"
	$(Q)$(CLANG) $(CFLAGS) $(SAN) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

# code whose coverage is no signal, only cost (see the file)
$(call objs,net,obj): $(FZ)/fuzz_net.nocov
$(call objs,net,obj): SAN += $(FAST) -fsanitize-coverage-ignorelist=$(FZ)/fuzz_net.nocov

$(B)/fuzz_net: SAN += $(FAST)
$(B)/fuzz_net: $(call objs,net,obj)
$(B)/full_net: $(FZ)/fuzz_net.c $(call objs,net,full)
	@echo "  LD      $@"
	$(Q)$(CLANG) $(CFLAGS) $(SAN) -fsanitize=fuzzer -MMD -MP -o $@ $< $(filter %.o,$^)
$(B)/fuzz_fdt: $(call objs,fdt,obj)
$(B)/fuzz_%: $(FZ)/fuzz_%.c
	@mkdir -p $(B)
	@echo "  LD      $@"
	$(Q)$(CLANG) $(CFLAGS) $(SAN) -fsanitize=fuzzer -MMD -MP -o $@ $< $(filter %.o,$^)

# libFuzzer's main() replays files; no sanitizers, so the profile is all we measure
$(B)/cov_net: $(call objs,net,cov)
$(B)/cov_fdt: $(call objs,fdt,cov)
$(B)/cov_%: $(FZ)/fuzz_%.c
	@mkdir -p $(B)
	@echo "  LD      $@"
	$(Q)$(CLANG) $(CFLAGS) $(COV) -fsanitize=fuzzer -MMD -MP -o $@ $< $(filter %.o,$^)

-include $(wildcard $(B)/obj/*/*.d $(B)/cov/*/*.d $(B)/full/*/*.d $(B)/*.d)

fuzz: $(FUZZER) $(REPLAY_$(TARGET))
	@mkdir -p $(CORPUS_$(TARGET)) $(B)/artifacts
	@cp -n $(SEEDS_$(TARGET)) $(CORPUS_$(TARGET))/ 2>/dev/null || true
	@echo "fuzzing $(TARGET) for $(FUZZ_SECONDS) s; corpus $(CORPUS_$(TARGET)), crashes in $(B)/artifacts/"
	@$(FUZZER) $(RUNOPTS) $(OPTS_$(TARGET)) -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=$(B)/artifacts/ \
		$(FUZZ_FLAGS) $(CORPUS_$(TARGET)) >$(B)/fuzz-$(TARGET).log 2>&1; rc=$$?; \
	grep -aE '^#[0-9]+.*(DONE|pulse)' $(B)/fuzz-$(TARGET).log | tail -n 1; \
	grep -aE '^(stat::|INFO: Running with|==[0-9]+==ERROR|INVARIANT|SUMMARY|artifact_prefix|Test unit written)' \
		$(B)/fuzz-$(TARGET).log; \
	if [ $$rc -ne 0 ]; then echo "fuzz: FAILED (exit $$rc), log $(B)/fuzz-$(TARGET).log"; exit 1; fi
	@if $(REPLAY_$(TARGET)) $(RUNOPTS) $(OPTS_$(TARGET)) -runs=0 $(CORPUS_$(TARGET)) \
			>$(B)/fuzz-$(TARGET)-replay.log 2>&1; then \
		echo "corpus replayed under every check: $$(ls $(CORPUS_$(TARGET)) | wc -l) inputs, no finding"; \
	else echo "fuzz: the corpus FAILS under every check: $(B)/fuzz-$(TARGET)-replay.log"; exit 1; fi

# Shell for check, counting into $pass and $fail. $(call replay,T): every
# seed and regression input of target T once, under every check.
define replay
if $(REPLAY_$1) $(RUNOPTS) $(OPTS_$1) $(SEEDS_$1) $(REGRESS_$1) >$(B)/replay-$1.log 2>&1; then \
	echo "ok   $1: replay of $(words $(SEEDS_$1) $(REGRESS_$1)) corpus/regress inputs"; pass=$$((pass+1)); \
else \
	echo "FAIL $1: replay (log $(B)/replay-$1.log); inputs that fail:"; fail=$$((fail+1)); \
	for f in $(SEEDS_$1) $(REGRESS_$1); do \
		$(REPLAY_$1) $$f 2>&1 | grep -a -m1 -E 'INVARIANT|ERROR: |runtime error' | sed "s|^|  $$f: |"; \
	done; \
fi;
endef

# $(call short_run,T,SECONDS): fuzz T from a copy of its seeds
define short_run
tmp=$$(mktemp -d); cp $(SEEDS_$1) $$tmp/; art=$(B)/artifacts/check-$1-$$(date +%s)-; \
if $(B)/fuzz_$1 $(RUNOPTS) $(OPTS_$1) -max_total_time=$2 -artifact_prefix=$$art \
		$$tmp >$(B)/check-$1.log 2>&1; then \
	echo "ok   $1: $2 s fuzz run: $$(grep -aE '^stat::number_of_executed_units' $(B)/check-$1.log | sed 's/.*: *//') execs"; \
	pass=$$((pass+1)); \
else \
	echo "FAIL $1: $2 s fuzz run: crash input $$(ls $$art* 2>/dev/null | head -n 1) (log $(B)/check-$1.log)"; \
	grep -aE 'INVARIANT|ERROR|SUMMARY|runtime error' $(B)/check-$1.log | head -n 5; fail=$$((fail+1)); \
fi; \
rm -rf $$tmp;
endef

# The fdt parser is small and saturates in seconds: the stack gets 3/4.
check: $(B)/fuzz_net $(B)/full_net $(B)/fuzz_fdt
	@mkdir -p $(B)/artifacts; pass=0; fail=0; \
	$(call replay,net) \
	FUZZ_VERBOSE=1 $(B)/fuzz_net $(SEEDS_net) $(REGRESS_net) 2>&1 | grep -a '^  t+' >$(B)/trace.log; \
	FUZZ_VERBOSE=1 FUZZ_DENSE=1 $(B)/fuzz_net $(SEEDS_net) $(REGRESS_net) 2>&1 | grep -a '^  t+' >$(B)/trace-dense.log; \
	if cmp -s $(B)/trace.log $(B)/trace-dense.log; then \
		echo "ok   net: timers skipped when idle: same trace as with every tick"; pass=$$((pass+1)); \
	else \
		echo "FAIL net: skipping idle ticks changed the trace: diff $(B)/trace.log $(B)/trace-dense.log"; \
		fail=$$((fail+1)); \
	fi; \
	$(call replay,fdt) \
	s=$(FUZZ_CHECK_SECONDS); net_s=$$((s * 3 / 4 > 0 ? s * 3 / 4 : 1)); fdt_s=$$((s > net_s ? s - net_s : 1)); \
	$(call short_run,net,$$net_s) \
	$(call short_run,fdt,$$fdt_s) \
	$(CHECK_VIRTIO) \
	echo "fuzz: $$pass passed, $$fail failed"; [ $$fail -eq 0 ]

coverage: $(B)/cov_$(TARGET)
	@rm -f $(B)/cov-*.profraw
	@LLVM_PROFILE_FILE=$(B)/cov-%p.profraw $(B)/cov_$(TARGET) -runs=0 $(SEEDDIR_$(TARGET)) \
		$(wildcard $(CORPUS_$(TARGET))) >$(B)/cov.log 2>&1 || echo "(some input crashed: see $(B)/cov.log)"
	@$(LLVM_PROFDATA) merge -sparse -o $(B)/cov.profdata $(B)/cov-*.profraw
	@$(LLVM_COV) report $(B)/cov_$(TARGET) -instr-profile=$(B)/cov.profdata $(SRCS_$(TARGET))
	@$(LLVM_COV) show $(B)/cov_$(TARGET) -instr-profile=$(B)/cov.profdata -format=html \
		-output-dir=$(B)/cov-html-$(TARGET) $(SRCS_$(TARGET)) && \
		echo "annotated source: $(B)/cov-html-$(TARGET)/index.html"

corpus:
	python3 $(FZ)/make_corpus.py $(SEEDDIR_net)
	python3 $(FZ)/make_corpus_fdt.py $(SEEDDIR_fdt)

repro: $(REPLAY_$(TARGET))
	$(REPLAY_$(TARGET)) $(FILE)

# ---- fuzz_virtio: the virtio-net driver against a hostile device ----
# The driver, unchanged, built with its MMIO turned into calls to the
# device model of the unit tests (test/unit/virtio_model.h); each input
# byte picks the device's next move. check runs it as well.
#   make -f test/fuzz/fuzz.mk fuzz-virtio    FUZZ_SECONDS session, corpus in $(B)/virtio-corpus
VFUZZER := $(B)/fuzz_virtio
VFUZZ_DRV := $(B)/obj/drivers/virtio_net.model.o $(B)/obj/drivers/virtio_mmio.model.o \
	$(B)/obj/drivers/nic_csum.model.o
VFUZZ_OBJS := $(VFUZZ_DRV) $(B)/obj/net/pkt.o $(B)/obj/net/csum.o
VRUNOPTS := -max_len=256 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
FUZZ_VIRTIO_CHECK_SECONDS ?= 20

$(B)/obj/drivers/%.model.o: drivers/%.c
	@mkdir -p $(dir $@)
	@echo "  CLANG   $< (device model)"
	$(Q)$(CLANG) $(CFLAGS) $(SAN) -fsanitize=fuzzer-no-link -DRVNET_HOST_MMIO \
		-Dprintf=vnet_host_printf -DVNET_RESET_SPINS=1000 -DVNET_CTRL_WAIT_MS=10 -MMD -MP -c -o $@ $<

$(VFUZZER): $(FZ)/fuzz_virtio.c $(VFUZZ_OBJS)
	@mkdir -p $(B)
	@echo "  LD      $@"
	$(Q)$(CLANG) $(CFLAGS) $(SAN) -fsanitize=fuzzer -MMD -MP -o $@ $< $(VFUZZ_OBJS)

-include $(VFUZZ_DRV:.o=.d) $(VFUZZER).d

.PHONY: fuzz-virtio
fuzz-virtio: $(VFUZZER)
	@mkdir -p $(B)/virtio-corpus $(B)/artifacts
	@echo "fuzzing the virtio driver for $(FUZZ_SECONDS) s; corpus $(B)/virtio-corpus, crashes in $(B)/artifacts/"
	@$(VFUZZER) $(VRUNOPTS) -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=$(B)/artifacts/virtio- \
		$(FUZZ_FLAGS) $(B)/virtio-corpus >$(B)/fuzz-virtio.log 2>&1; rc=$$?; \
	grep -aE '^#[0-9]+.*(DONE|pulse)' $(B)/fuzz-virtio.log | tail -n 1; \
	grep -aE '^(stat::|==[0-9]+==ERROR|  VIOLATION|SUMMARY|Test unit written)' $(B)/fuzz-virtio.log; \
	if [ $$rc -ne 0 ]; then echo "fuzz: FAILED (exit $$rc), log $(B)/fuzz-virtio.log"; exit 1; fi

# check's part: the regression inputs replayed (with none, libFuzzer would
# fuzz instead), then a short run from an empty corpus, counted with the rest
VREGRESS = $(filter-out %.md,$(wildcard $(FZ)/regress_virtio/*))
check: $(VFUZZER)
CHECK_VIRTIO = $(if $(VREGRESS),if $(VFUZZER) $(VRUNOPTS) $(VREGRESS) >$(B)/replay-virtio.log 2>&1; then \
		echo "ok   virtio: replay of $(words $(VREGRESS)) regress inputs"; pass=$$((pass+1)); \
	else \
		echo "FAIL virtio: replay (log $(B)/replay-virtio.log); inputs that fail:"; fail=$$((fail+1)); \
		for f in $(VREGRESS); do \
			$(VFUZZER) $$f 2>&1 | grep -a -m1 -E 'VIOLATION|ERROR: |runtime error' | sed "s|^|  $$f: |"; \
		done; \
	fi;) \
	vart=$(B)/artifacts/check-virtio-$$(date +%s)-; \
	if $(VFUZZER) $(VRUNOPTS) -max_total_time=$(FUZZ_VIRTIO_CHECK_SECONDS) -artifact_prefix=$$vart \
			>$(B)/check-virtio.log 2>&1; then \
		echo "ok   $(FUZZ_VIRTIO_CHECK_SECONDS) s virtio fuzz run: $$(grep -aE '^stat::number_of_executed_units' $(B)/check-virtio.log | sed 's/.*: *//') execs"; \
		pass=$$((pass+1)); \
	else \
		echo "FAIL $(FUZZ_VIRTIO_CHECK_SECONDS) s virtio fuzz run: crash input $$(ls $$vart* 2>/dev/null | head -n 1) (log $(B)/check-virtio.log)"; \
		grep -aE 'VIOLATION|ERROR|SUMMARY|runtime error' $(B)/check-virtio.log | head -n 5; fail=$$((fail+1)); \
	fi;
