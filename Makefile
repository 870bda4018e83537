# leakscan - passive network plaintext-leak auditor.
#
#   make            ./leakscan
#   make test       the whole suite (unit, golden, shared captures, e2e, sanitizers)
#   make asan       ./build/asan/leakscan and the unit tests under ASan+UBSan
#   make demo       scan a bundled sample capture
#   make bench      throughput and memory against the libpcap read floor
#   make check-style
#
# Sources are found by wildcard: a new detector is one file in detectors/
# and one line in detectors/registry.c.

PKGS     := libpcap libndpi libcjson libcrypto zlib
VERSION  := 0.1.0
CC       ?= cc
OPT      ?= -O2 -g
CFLAGS   += -std=gnu11 -pthread $(OPT) -Wall -Wextra -MMD -MP -DLEAKSCAN_VERSION='"$(VERSION)"' \
            $(shell pkg-config --cflags $(PKGS))
LDLIBS   += $(shell pkg-config --libs $(PKGS)) -pthread

BUILD    ?= build/rel
SRC      := $(wildcard scanner/*.c detectors/*.c reports/*.c)
LIBSRC   := $(filter-out scanner/main.c,$(SRC))
LIBOBJ   := $(LIBSRC:%.c=$(BUILD)/%.o)
UNITSRC  := $(wildcard tests/unit/test_*.c)
UNITBIN  := $(UNITSRC:tests/unit/%.c=$(BUILD)/tests/%)
TOOLSRC  := $(wildcard tests/tools/*.c)
TOOLBIN  := $(TOOLSRC:tests/tools/%.c=$(BUILD)/tools/%)
FUZZSRC  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZBIN  := $(FUZZSRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)

SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

.PHONY: all test asan demo bench check-style clean unit tools fuzz

all: leakscan

# copy then rename: a running ./leakscan is replaced, not overwritten
leakscan: $(BUILD)/leakscan
	cp $< $@.tmp && mv -f $@.tmp $@

$(BUILD)/leakscan: $(BUILD)/scanner/main.o $(LIBOBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c tests/unit/unit.h $(LIBOBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIBOBJ) $(LDLIBS)

$(BUILD)/tools/%: tests/tools/%.c $(LIBOBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIBOBJ) $(LDLIBS)

$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/onefile.c $(LIBOBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< tests/fuzz/onefile.c $(LIBOBJ) $(LDLIBS)

unit: $(UNITBIN)
tools: $(TOOLBIN)
fuzz: $(FUZZBIN)

# The sanitizer build lives in its own tree so both can coexist.
asan:
	$(MAKE) BUILD=build/asan OPT="-O1 -g $(SAN_FLAGS)" LDFLAGS="$(SAN_FLAGS)" \
	    build/asan/leakscan unit tools fuzz

test: leakscan unit tools fuzz asan
	bash tests/run.sh

demo: leakscan
	bash scripts/demo.sh

bench: leakscan
	bash bench/run.sh

check-style:
	bash scripts/check-style.sh

clean:
	rm -rf build leakscan

-include $(shell find build -name '*.d' 2>/dev/null)
