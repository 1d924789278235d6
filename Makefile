# ovsagent build.
#
#   make            build ovsagent, ovsagent-cleanup and the unit tests
#   make SANITIZE=1 the same with AddressSanitizer and UBSan, in build/asan
#   make fuzz       the libFuzzer targets tests/fuzz/fuzz-*.c, with clang,
#                   ASan and UBSan, in build/fuzz (scripts/fuzz runs them)
#   make check      unit and system tests (tests/run-tests)
#
# libopenvswitch is built once by scripts/build-ovs.sh into build/ovs; this
# Makefile only reads it, so rebuilding ovsagent never rebuilds OVS.  The
# fuzz build links its own copy, build/ovs-fuzz (OVS_FLAVOR=fuzz
# scripts/build-ovs.sh), instrumented like the code that calls it.

ifeq ($(FUZZ),1)
OVS_BUILD ?= build/ovs-fuzz
OVS_FLAVOR = fuzz
.DEFAULT_GOAL = fuzz
else
OVS_FLAVOR =
endif
OVS_BUILD ?= build/ovs
OVS_SRC   ?= $(shell cat $(OVS_BUILD)/.ovsagent-stamp 2>/dev/null)

ifeq ($(FUZZ),1)
O ?= build/fuzz
CC = clang
CFLAGS ?= -O1 -g
SAN_FLAGS = -fsanitize=fuzzer-no-link,address,undefined \
            -fno-omit-frame-pointer
FUZZ_LINK_FLAGS = -fsanitize=fuzzer,address,undefined
else ifeq ($(SANITIZE),1)
O ?= build/asan
SAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer \
            -fno-sanitize-recover=undefined
else
O ?= build/out
SAN_FLAGS =
endif

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN     = -std=c11 -Wall -Wextra -Werror -Wno-unused-parameter \
           -Wno-sign-compare -Wno-missing-field-initializers
# OVS headers use the GNU "typeof" keyword, which strict -std=c11 spells
# __typeof__.
CPPFLAGS = -D_GNU_SOURCE -Dtypeof=__typeof__ -Isrc \
           -I$(OVS_BUILD)/include -I$(OVS_SRC)/include \
           -I$(OVS_BUILD)/lib -I$(OVS_SRC)/lib \
           -I$(OVS_BUILD) -I$(OVS_SRC)
LIBS     = $(OVS_BUILD)/lib/.libs/libopenvswitch.a \
           $(OVS_BUILD)/lib/.libs/libopenvswitchavx512.a \
           -lrabbitmq -lssl -lcrypto -lcap-ng -latomic -lpthread -lrt -lm
ALL_CFLAGS = $(WARN) $(CFLAGS) $(SAN_FLAGS) -MMD -MP

# Everything under src/ except the programs' mains goes into one archive.
MAINS    = src/main.c src/cleanup-main.c
LIB_SRCS = $(filter-out $(MAINS),$(wildcard src/*.c src/*/*.c))
LIB_OBJS = $(LIB_SRCS:%.c=$(O)/%.o)
UNIT_SRCS = $(wildcard tests/unit/test-*.c)
UNIT_BINS = $(UNIT_SRCS:tests/unit/%.c=$(O)/tests/%)
# Fuzz targets: tests/fuzz/fuzz-NAME.c -> build/fuzz/fuzz-NAME, each linked
# with fuzz-common and libFuzzer's main.  Only "make fuzz" builds them.
FUZZ_SRCS = $(filter-out tests/fuzz/fuzz-common.c, \
                         $(wildcard tests/fuzz/fuzz-*.c))
FUZZ_BINS = $(FUZZ_SRCS:tests/fuzz/%.c=$(O)/%)
# Test drivers: programs the system tests run (tests/tools/NAME.c ->
# $(O)/tools/NAME), linked like the unit tests.
TOOL_SRCS = $(wildcard tests/tools/*.c)
TOOL_BINS = $(TOOL_SRCS:tests/tools/%.c=$(O)/tools/%)

PROGRAMS = $(O)/ovsagent $(O)/ovsagent-cleanup

all: $(PROGRAMS) $(UNIT_BINS) $(TOOL_BINS)

$(OVS_BUILD)/.ovsagent-stamp:
	OVS_FLAVOR=$(OVS_FLAVOR) scripts/build-ovs.sh

# V=1 shows the full commands.
ifeq ($(V),1)
Q =
else
Q = @
endif

$(O)/%.o: %.c | $(OVS_BUILD)/.ovsagent-stamp
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

$(O)/libovsagent.a: $(LIB_OBJS)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(O)/ovsagent: $(O)/src/main.o $(O)/libovsagent.a
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(SAN_FLAGS) -o $@ $^ $(LIBS)

$(O)/ovsagent-cleanup: $(O)/src/cleanup-main.o $(O)/libovsagent.a
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(SAN_FLAGS) -o $@ $^ $(LIBS)

$(O)/tests/%: $(O)/tests/unit/%.o $(O)/libovsagent.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(SAN_FLAGS) -o $@ $^ $(LIBS)

$(O)/tools/%: $(O)/tests/tools/%.o $(O)/libovsagent.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(SAN_FLAGS) -o $@ $^ $(LIBS)

# The fuzz targets have their own objects and archive in build/fuzz: a
# separate make with FUZZ=1 builds them, so that "make" and
# "make SANITIZE=1" never need clang.
ifeq ($(FUZZ),1)
fuzz: $(FUZZ_BINS)

# Kept, so that a rebuild recompiles only what changed.
.SECONDARY: $(FUZZ_SRCS:%.c=$(O)/%.o) $(O)/tests/fuzz/fuzz-common.o

$(O)/fuzz-%: $(O)/tests/fuzz/fuzz-%.o $(O)/tests/fuzz/fuzz-common.o \
             $(O)/libovsagent.a
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(FUZZ_LINK_FLAGS) -o $@ $^ $(LIBS)

else
fuzz:
	@$(MAKE) --no-print-directory FUZZ=1 fuzz
endif

check: all
	tests/run-tests

clean:
	rm -rf build/out build/asan build/fuzz

.PHONY: all check clean fuzz
-include $(LIB_OBJS:.o=.d) $(O)/src/main.d $(O)/src/cleanup-main.d \
         $(UNIT_SRCS:%.c=$(O)/%.d) $(TOOL_SRCS:%.c=$(O)/%.d) \
         $(FUZZ_SRCS:%.c=$(O)/%.d) $(O)/tests/fuzz/fuzz-common.d
