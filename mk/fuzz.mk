# mk/fuzz.mk: libFuzzer targets (tests/fuzz/fuzz_*.c), included by the top
# Makefile.
#
#   make fuzz                  each target for FUZZ_SECONDS (default 600)
#   make fuzz-ci               each target for 60 s (CI)
#   make fuzz-build            just build build/fuzz/fuzz_*
#   make fuzz FUZZ_TARGETS=fuzz_model FUZZ_SECONDS=30
#
# The library sources are compiled again with clang and
# -fsanitize=fuzzer-no-link,address,undefined into build/fuzz/ (never mixed
# with the gcc objects of build/src). Each run starts from the seed corpus
# tests/fuzz/corpus/<target>/ plus what earlier runs found (kept in
# build/fuzz/corpus/<target>/); a crash, a leak (-detect_leaks=1), a
# timeout (-timeout=10 s per input) or running out of memory
# (-rss_limit_mb=2048) stops the run, leaves the input in
# build/fuzz/artifacts/ and fails the target. scripts/fuzz-run.sh prints
# the executions each target made.

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 600
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_SRCS    := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_TARGETS ?= $(notdir $(FUZZ_SRCS:.c=))
FUZZ_BINS    := $(FUZZ_SRCS:tests/fuzz/%.c=$(FUZZ_DIR)/%)
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE -O1 -g -pthread -fno-omit-frame-pointer \
                -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
                -Wall -Wextra -Wno-unused-parameter -MMD -MP -Isrc -Itests/fuzz -I/usr/include/iniparser \
                -fsanitize-coverage-ignorelist=tests/fuzz/coverage_ignore.txt
FUZZ_LIB_OBJS := $(SRCS:%.c=$(FUZZ_DIR)/%.o)

.PHONY: fuzz fuzz-ci fuzz-build
fuzz-build: $(FUZZ_BINS)

$(FUZZ_DIR)/src/%.o: src/%.c tests/fuzz/coverage_ignore.txt
	@mkdir -p $(dir $@)
	@echo "  FUZZCC $<"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_DIR)/liblivecap.a: $(FUZZ_LIB_OBJS)
	@echo "  AR    $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_util.h $(FUZZ_DIR)/liblivecap.a
	@echo "  FUZZLD $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< \
	    $(FUZZ_DIR)/liblivecap.a $(LDLIBS)

fuzz: $(FUZZ_BINS)
	$(Q)scripts/fuzz-run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-ci: $(FUZZ_BINS)
	$(Q)scripts/fuzz-run.sh 60 $(FUZZ_TARGETS)

-include $(FUZZ_LIB_OBJS:.o=.d)
