# Fuzzing the stack with libFuzzer (clang 14). Run from the repo root:
#   make -f test/fuzz/fuzz.mk fuzz       FUZZ_SECONDS=600 session, corpus in build/fuzz/corpus
#   make -f test/fuzz/fuzz.mk check      replay corpus/ + regress/, then a FUZZ_CHECK_SECONDS run;
#                                        last line "fuzz: N passed, M failed"
#   make -f test/fuzz/fuzz.mk coverage   line coverage of net/ over the corpora (llvm-cov-14)
#   make -f test/fuzz/fuzz.mk corpus     regenerate test/fuzz/corpus/ (make_corpus.py)
#   make -f test/fuzz/fuzz.mk repro FILE=crash-...   run one input, show the report
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
FZ := test/fuzz
Q := $(if $(filter 1,$(V)),,@)
B ?= build/fuzz

NET_SRCS := $(sort $(wildcard net/*.c))
CFLAGS := -std=c11 -g -O1 -I. -D_DEFAULT_SOURCE -Wall -Wextra -fno-omit-frame-pointer $(FUZZ_CFLAGS)
SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
COV := -fprofile-instr-generate -fcoverage-mapping
# libFuzzer options shared by every run: big enough for an 8000-byte
# fragmented datagram, a hang counts as a bug.
RUNOPTS := -max_len=16384 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -dict=$(FZ)/fuzz_net.dict

FUZZER := $(B)/fuzz_net
COVBIN := $(B)/fuzz_net_cov
NET_OBJS := $(patsubst %.c,$(B)/obj/%.o,$(NET_SRCS))
COV_OBJS := $(patsubst %.c,$(B)/cov/%.o,$(NET_SRCS))
SEEDS = $(wildcard $(FZ)/corpus/*)
REGRESS = $(filter-out %.md,$(wildcard $(FZ)/regress/*))

.PHONY: all fuzz check coverage corpus repro
all: $(FUZZER)

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CLANG   $<"
	$(Q)$(CLANG) $(CFLAGS) $(SAN) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(B)/cov/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CLANG   $< (coverage)"
	$(Q)$(CLANG) $(CFLAGS) $(COV) -MMD -MP -c -o $@ $<

$(FUZZER): $(FZ)/fuzz_net.c $(NET_OBJS)
	@mkdir -p $(B)
	@echo "  LD      $@"
	$(Q)$(CLANG) $(CFLAGS) $(SAN) -fsanitize=fuzzer -MMD -MP -o $@ $< $(NET_OBJS)

# libFuzzer's main() replays files; no sanitizers, so the profile is all we measure
$(COVBIN): $(FZ)/fuzz_net.c $(COV_OBJS)
	@mkdir -p $(B)
	@echo "  LD      $@"
	$(Q)$(CLANG) $(CFLAGS) $(COV) -fsanitize=fuzzer -MMD -MP -o $@ $< $(COV_OBJS)

-include $(NET_OBJS:.o=.d) $(COV_OBJS:.o=.d) $(FUZZER).d $(COVBIN).d

fuzz: $(FUZZER)
	@mkdir -p $(B)/corpus $(B)/artifacts
	@cp -n $(FZ)/corpus/* $(B)/corpus/ 2>/dev/null || true
	@echo "fuzzing for $(FUZZ_SECONDS) s; corpus $(B)/corpus, crashes in $(B)/artifacts/"
	@$(FUZZER) $(RUNOPTS) -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=$(B)/artifacts/ \
		$(FUZZ_FLAGS) $(B)/corpus >$(B)/fuzz.log 2>&1; rc=$$?; \
	grep -aE '^#[0-9]+.*(DONE|pulse)' $(B)/fuzz.log | tail -n 1; \
	grep -aE '^(stat::|INFO: Running with|==[0-9]+==ERROR|INVARIANT|SUMMARY|artifact_prefix|Test unit written)' \
		$(B)/fuzz.log; \
	if [ $$rc -ne 0 ]; then echo "fuzz: FAILED (exit $$rc), log $(B)/fuzz.log"; exit 1; fi

check: $(FUZZER)
	@mkdir -p $(B)/artifacts; pass=0; fail=0; \
	if $(FUZZER) $(RUNOPTS) $(SEEDS) $(REGRESS) >$(B)/replay.log 2>&1; then \
		echo "ok   replay of $(words $(SEEDS) $(REGRESS)) corpus/regress inputs"; pass=$$((pass+1)); \
	else \
		echo "FAIL replay (log $(B)/replay.log); inputs that fail:"; fail=$$((fail+1)); \
		for f in $(SEEDS) $(REGRESS); do \
			$(FUZZER) $$f 2>&1 | grep -a -m1 -E 'INVARIANT|ERROR: |runtime error' | sed "s|^|  $$f: |"; \
		done; \
	fi; \
	FUZZ_VERBOSE=1 $(FUZZER) $(SEEDS) $(REGRESS) 2>&1 | grep -a '^  t+' >$(B)/trace.log; \
	FUZZ_VERBOSE=1 FUZZ_DENSE=1 $(FUZZER) $(SEEDS) $(REGRESS) 2>&1 | grep -a '^  t+' >$(B)/trace-dense.log; \
	if cmp -s $(B)/trace.log $(B)/trace-dense.log; then \
		echo "ok   timers skipped when idle: same trace as with every tick"; pass=$$((pass+1)); \
	else \
		echo "FAIL skipping idle ticks changed the trace: diff $(B)/trace.log $(B)/trace-dense.log"; fail=$$((fail+1)); \
	fi; \
	tmp=$$(mktemp -d); cp $(FZ)/corpus/* $$tmp/; \
	art=$(B)/artifacts/check-$$(date +%s)-; \
	if $(FUZZER) $(RUNOPTS) -max_total_time=$(FUZZ_CHECK_SECONDS) -artifact_prefix=$$art \
			$$tmp >$(B)/check.log 2>&1; then \
		echo "ok   $(FUZZ_CHECK_SECONDS) s fuzz run: $$(grep -aE '^stat::number_of_executed_units' $(B)/check.log | sed 's/.*: *//') execs"; \
		pass=$$((pass+1)); \
	else \
		echo "FAIL $(FUZZ_CHECK_SECONDS) s fuzz run: crash input $$(ls $$art* 2>/dev/null | head -n 1) (log $(B)/check.log)"; \
		grep -aE 'INVARIANT|ERROR|SUMMARY|runtime error' $(B)/check.log | head -n 5; fail=$$((fail+1)); \
	fi; \
	rm -rf $$tmp; \
	echo "fuzz: $$pass passed, $$fail failed"; [ $$fail -eq 0 ]

coverage: $(COVBIN)
	@rm -f $(B)/cov-*.profraw
	@LLVM_PROFILE_FILE=$(B)/cov-%p.profraw $(COVBIN) -runs=0 $(FZ)/corpus \
		$(wildcard $(B)/corpus) >$(B)/cov.log 2>&1 || echo "(some input crashed: see $(B)/cov.log)"
	@$(LLVM_PROFDATA) merge -sparse -o $(B)/cov.profdata $(B)/cov-*.profraw
	@$(LLVM_COV) report $(COVBIN) -instr-profile=$(B)/cov.profdata $(NET_SRCS)
	@$(LLVM_COV) show $(COVBIN) -instr-profile=$(B)/cov.profdata -format=html \
		-output-dir=$(B)/cov-html $(NET_SRCS) && echo "annotated source: $(B)/cov-html/index.html"

corpus:
	python3 $(FZ)/make_corpus.py $(FZ)/corpus

repro: $(FUZZER)
	$(FUZZER) $(FILE)
