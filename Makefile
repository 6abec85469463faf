# livecap: plain Makefile (see ../shared/STYLE.md). `make`, `make test`,
# `make deps`, `make SANITIZE=address,undefined test`, `make NPU=1 XRT_ROOT=…`.

CC       ?= cc
OPT      ?= -O2
SANITIZE ?=
BUILD    := build
Q        := @

CFLAGS  := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter \
           $(OPT) -g -MMD -MP -pthread -Isrc -I/usr/include/iniparser
LDLIBS  := -lopenblas -lfftw3f -lsndfile -lsamplerate -lportaudio -lncursesw \
           -liniparser -lz -lm -ldl -lpthread
LDFLAGS := -pthread

ifneq ($(SANITIZE),)
CFLAGS  += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZE)
endif

# Everything under src/ except the entry point is the library the tests link.
SRCS     := $(sort $(wildcard src/*/*.c))
OBJS     := $(SRCS:%.c=$(BUILD)/%.o)
MAIN_OBJ := $(BUILD)/src/main.o
TESTS    := $(sort $(wildcard tests/test_*.c))
TEST_BIN := $(TESTS:tests/%.c=$(BUILD)/tests/%)

# Rebuild everything when the flags change (e.g. switching SANITIZE on/off).
FLAGS_STAMP := $(BUILD)/.flags
FLAGS_NOW   := $(CC) $(CFLAGS) $(LDFLAGS)
$(shell mkdir -p $(BUILD); [ "$$(cat $(FLAGS_STAMP) 2>/dev/null)" = "$(FLAGS_NOW)" ] || echo "$(FLAGS_NOW)" > $(FLAGS_STAMP))

.PHONY: all test deps clean model fuzz soak npu-shim
all: $(BUILD)/livecap

$(BUILD)/livecap: $(MAIN_OBJ) $(BUILD)/liblivecap.a
	@echo "  LINK  $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/liblivecap.a: $(OBJS)
	@echo "  AR    $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC    $<"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/%.c $(BUILD)/liblivecap.a $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC    $<"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/liblivecap.a $(LDLIBS)

# test_events replaces fsync with its own (a slow one, a failing one)
$(BUILD)/tests/test_events: LDFLAGS += -Wl,--wrap=fsync

# One runner for C unit tests (tests/test_*.c) and end-to-end scripts
# (tests/t_*.sh); it ends with "N passed, N failed".
test: $(BUILD)/livecap $(TEST_BIN)
	$(Q)SANITIZE="$(SANITIZE)" tests/run.sh $(TEST_BIN) $(sort $(wildcard tests/t_*.sh))

deps:
	scripts/deps.sh

# Downloads a real model for users with a network (NAME=tiny.en by default).
model:
	scripts/download-model.sh $(or $(NAME),tiny.en)

clean:
	rm -rf $(BUILD)

include $(wildcard mk/*.mk)

-include $(OBJS:.o=.d) $(MAIN_OBJ:.o=.d) $(TEST_BIN:=.d)
