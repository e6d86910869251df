# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# maglb build. Everything generated goes to build/.
#   make            build/maglb and the BPF objects
#   make tests      the test binaries
#   make asan-tests the unit suites again, with ASAN and UBSan, in build/asan/
#   make test       the whole suite (tests/run.sh), as root
#   make V=1        show full commands

OUT      := build
CLANG    ?= clang
BPFTOOL  ?= bpftool
CC       ?= cc
ARCH     := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')

CFLAGS   ?= -O2 -g
CFLAGS   += -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Wno-format-truncation -Werror -MMD -MP
INCLUDES := -Iinclude -Iuser -Ibpf -I$(OUT)
LDLIBS   := -lbpf -lelf -lz -lyaml -ljson-c -lcurl -lmicrohttpd -lpthread
# The programs build on UAPI headers (linux-libc-dev) and libbpf's alone, not
# on the build host's kernel. clang -target bpf searches /usr/include but not
# the multiarch directory where Debian keeps asm/ (asm/types.h, included by
# linux/types.h). Source paths in BTF and DWARF are relative to the tree, so
# that the objects are the same wherever it is checked out.
MULTIARCH  := $(shell $(CC) -print-multiarch)
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror -MMD -MP \
	-Iinclude -Ibpf -idirafter /usr/include/$(MULTIARCH) \
	-fdebug-prefix-map=$(CURDIR)=.

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

BPF_PROGS := maglb maglb_tc maglb_trace xdp_pass bench
BPF_OBJS  := $(patsubst %,$(OUT)/%.bpf.o,$(BPF_PROGS))
SKELS     := $(OUT)/maglb.skel.h $(OUT)/maglb_tc.skel.h $(OUT)/maglb_trace.skel.h $(OUT)/bench.skel.h

# Userspace, by stage (docs/architecture.md#where-is-x-decided). Each folder
# of user/ is a static library, lowest first: a stage may call only those
# before it. The link order enforces it, and scripts/check_layers.py
# (`make check`) checks every include and every symbol.
LAYERS      := common model input datapath reconcile agent cli
LAYER_LIBS  := $(patsubst %,$(OUT)/user/lib%.a,$(LAYERS))
# The link order: highest first, so each library's undefined symbols are
# found in those after it.
LINK_LIBS   := $(shell echo $(LAYER_LIBS) | tr ' ' '\n' | tac)
layer_objs   = $(patsubst user/%.c,$(OUT)/user/%.o,$(filter-out user/cli/main.c,$(wildcard user/$(1)/*.c)))
USER_OBJS   := $(foreach l,$(LAYERS),$(call layer_objs,$(l)))
# What the tests and benches link: everything below the CLI.
LIB_LIBS    := $(filter-out $(OUT)/user/libcli.a,$(LINK_LIBS))

TESTS     := test_maglev test_syncookie test_config test_gateway test_http test_cli test_plan test_status test_pkt
# Without root and without BPF: what `make check` runs.
UNIT_TESTS := test_maglev test_syncookie test_config test_gateway test_http test_cli test_plan test_status
TEST_BINS := $(patsubst %,$(OUT)/tests/%,$(TESTS))
# The packet tests: every tests/pkt/*.c, one binary (main.c runs what the
# others register), on the shared harness (tests/lib/harness.c).
PKT_OBJS  := $(patsubst tests/pkt/%.c,$(OUT)/tests/pkt/%.o,$(wildcard tests/pkt/*.c))
HARNESS   := $(OUT)/tests/lib/harness.o

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all tests asan-tests test check check-layers demo bench kernels verifier-stats clean

all: $(OUT)/maglb $(BPF_OBJS)

tests: all $(TEST_BINS) $(OUT)/tests/fuzz_http

test:
	./tests/run.sh

# The unit suites and the layer check: no root, no BPF, no kernel BTF.
check: check-layers $(patsubst %,$(OUT)/tests/%,$(UNIT_TESTS))
	@for t in $(UNIT_TESTS); do $(OUT)/tests/$$t || exit 1; done

check-layers: $(LAYER_LIBS)
	@python3 scripts/check_layers.py $(OUT)/user $(LAYERS)

# The unit suites once more with AddressSanitizer and UBSan, each object
# rebuilt into build/asan/ (the normal build is left as it is): the config
# parsers read hostile input, and an overflow there must fail a test
# rather than pass unseen. A UBSan report stops the program (no recover),
# so it fails the suite like ASAN's. Not nonnull-attribute: glibc declares
# memcpy's and qsort's pointers nonnull even for a length of 0, and an
# empty list here is often NULL with a count of 0, which is harmless.
ASAN_OUT   := $(OUT)/asan
ASAN_FLAGS := -fsanitize=address,undefined -fno-sanitize=nonnull-attribute \
	      -fno-sanitize-recover=all -fno-omit-frame-pointer
ASAN_TESTS := $(UNIT_TESTS)
ASAN_OBJS  := $(patsubst $(OUT)/%,$(ASAN_OUT)/%,$(foreach l,$(filter-out cli,$(LAYERS)),$(call layer_objs,$(l))))

asan-tests: $(patsubst %,$(ASAN_OUT)/tests/%,$(ASAN_TESTS))

$(ASAN_OUT)/user/%.o: user/%.c $(SKELS)
	$(call msg,CC-ASAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(ASAN_FLAGS) $(INCLUDES) -c $< -o $@

$(ASAN_OUT)/tests/%.o: tests/unit/%.c $(SKELS)
	$(call msg,CC-ASAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(ASAN_FLAGS) $(INCLUDES) -Itests/lib -c $< -o $@

$(ASAN_OUT)/tests/%: $(ASAN_OUT)/tests/%.o $(ASAN_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(ASAN_FLAGS) $^ $(LDLIBS) -o $@

demo:
	./scripts/demo.sh

BENCH_BINS := $(OUT)/bench/bench_pkt $(OUT)/bench/bench_maglev $(OUT)/bench/bench_control \
	      $(OUT)/bench/connrate $(OUT)/bench/bench_replay \
	      $(OUT)/bench/jitlines

bench: all $(BENCH_BINS)
	./scripts/bench/run.sh

# The kernel matrix: each pinned Debian kernel under qemu (scripts/qemu/),
# also the last stages of `make test`. KERNELS=6.1 runs one.
kernels: tests $(OUT)/qemu/verifier_stats
	./scripts/qemu/matrix.sh $(KERNELS)

# What this machine's verifier says about each program.
verifier-stats: $(OUT)/qemu/verifier_stats $(OUT)/maglb.bpf.o $(OUT)/maglb_tc.bpf.o
	$(OUT)/qemu/verifier_stats $(OUT)/maglb.bpf.o $(OUT)/maglb_tc.bpf.o

$(OUT)/qemu:
	$(Q)mkdir -p $@

$(OUT)/qemu/verifier_stats: scripts/qemu/verifier_stats.c | $(OUT)/qemu
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $< -lbpf

$(OUT)/bench:
	$(Q)mkdir -p $@

$(OUT)/bench/%.o: scripts/bench/%.c $(SKELS) | $(OUT)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) -Itests/lib -c $< -o $@

$(OUT)/bench/%: $(OUT)/bench/%.o $(LIB_LIBS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(filter %.o,$^) $(LIB_LIBS) $(LDLIBS) -lm -o $@

$(OUT)/bench/bench_pkt $(OUT)/bench/bench_maglev $(OUT)/bench/bench_control: $(HARNESS)

$(OUT) $(OUT)/tests $(OUT)/tests/pkt $(OUT)/tests/lib:
	$(Q)mkdir -p $@

$(OUT)/%.bpf.o: bpf/%.bpf.c | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# demote() clears flags with a 32-bit atomic fetch-and (BPF ISA v3).
$(OUT)/maglb_trace.bpf.o: BPF_CFLAGS += -mcpu=v3

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(OUT)/user/%.o: user/%.c $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) -c $< -o $@

define layer_lib
$(OUT)/user/lib$(1).a: $(call layer_objs,$(1))
	$$(call msg,AR,$$@)
	$$(Q)rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach l,$(LAYERS),$(eval $(call layer_lib,$(l))))

# `maglb --version`: the commit it was built from.
MAGLB_VERSION := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
$(OUT)/user/cli/main.o: CFLAGS += -DMAGLB_VERSION='"$(MAGLB_VERSION)"'

$(OUT)/maglb: $(OUT)/user/cli/main.o $(LAYER_LIBS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $< $(LINK_LIBS) $(LDLIBS) -o $@

$(OUT)/tests/%.o: tests/unit/%.c $(SKELS) | $(OUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) -Itests/lib -c $< -o $@

$(OUT)/tests/pkt/%.o: tests/pkt/%.c $(SKELS) | $(OUT)/tests/pkt
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) -Itests/lib -c $< -o $@

$(OUT)/tests/lib/%.o: tests/lib/%.c $(SKELS) | $(OUT)/tests/lib
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) -Itests/lib -c $< -o $@

$(OUT)/tests/test_pkt: $(PKT_OBJS) $(HARNESS) $(LIB_LIBS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(filter %.o,$^) $(LIB_LIBS) $(LDLIBS) -o $@

$(OUT)/tests/%: $(OUT)/tests/%.o $(LIB_LIBS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(filter %.o,$^) $(LIB_LIBS) $(LDLIBS) -o $@

# libFuzzer target: the datapath's request parser against a reference.
$(OUT)/tests/fuzz_http: tests/fuzz/fuzz_http.c bpf/lib/http.h tests/lib/http_ref.h | $(OUT)/tests
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Ibpf -Itests/lib $< -o $@

clean:
	rm -rf $(OUT)

-include $(wildcard $(OUT)/*.d $(OUT)/user/*/*.d $(OUT)/tests/*.d $(OUT)/tests/pkt/*.d \
	$(OUT)/tests/lib/*.d $(OUT)/bench/*.d $(ASAN_OUT)/user/*/*.d $(ASAN_OUT)/tests/*.d)
