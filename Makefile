# tcpflags - an XDP TCP flag classifier.  Every output goes to build/.
#   make            build build/tcpflags
#   make test       build the tool and the test programs, run every test (root)
#   make bench      build what the benchmarks run, print the budget lines (root)
#   make demo       the lab: two namespaces, real traffic, the stats (root)
#   make verify     every BPF program through the kernel's verifier, built by
#                   each compiler of VERIFY_CCS at -mcpu=v2 and v3 (root)
#   make soak       SOAK_SECS (600) of flood, connections and a rule change a
#                   second, with top, stats --watch and the exporter reading:
#                   counters, gauges and memory checked (root; not in CI)
#   make fuzz       FRAMES=N (0: until Ctrl-C) SEED=S: differential fuzzing
#                   of the parser against tests/fuzzref.c (root)
#   make lint       cppcheck, clang-tidy and shellcheck (scripts/lint.sh)
#   make install    PREFIX=/usr/local DESTDIR= (the binary, man pages,
#                   completion, units, /etc/default/tcpflags, examples)
#   make package    build/tcpflags_VERSION_ARCH.deb (scripts/deb.sh)
#   V=1             show the commands
#   SAN=1           ASan and UBSan, into build/san/ (`make SAN=1 test`)
# scripts/test.sh is the README's test command: it installs what is missing,
# then `make test-progs` and tests/run.sh.
.DELETE_ON_ERROR:
.SECONDARY:
.SECONDEXPANSION:

PREFIX  ?= /usr/local
DESTDIR ?=
# SAN=1: the userspace with AddressSanitizer (leaks too) and UBSan, any
# report fatal, built by clang (SANCC) in a build directory of its own;
# tests/run.sh runs the programs of TCPF_BUILD.  Not gcc: its UBSan is a
# runtime apart from its ASan, and next to ASan it writes its reports to
# stderr whatever log_path says, where run.sh would not see every one.
SANCC   ?= clang
ifeq ($(SAN),1)
BUILD   := build/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	    -fno-sanitize-recover=all
else
BUILD   := build
SANFLAGS :=
endif
CLANG   ?= clang
BPFTOOL ?= bpftool
CC      ?= gcc
ARCH    := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
TRIPLET := $(shell $(CC) -dumpmachine)
ifeq ($(SAN),1)
CC      := $(SANCC)
endif
# what --version prints and the package carries (scripts/version.sh: git
# describe, or 0~dev outside git); `make VERSION=X` sets it
VERSION ?= $(shell scripts/version.sh)

# LAYOUT_TEST=1: the second map layout of include/tcpflags.h, which the
# upgrade test attaches over the first and back (build/layout-test/;
# with SAN=1, build/san/layout-test/)
ifeq ($(LAYOUT_TEST),1)
BUILD   := $(BUILD)/layout-test
LAYOUT  := -DTCPF_LAYOUT_TEST
endif

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# -MMD -MP: every object also writes the headers it read (build/**/*.d)
WARN       := -Wall -Wextra -Werror -Wshadow
DEPFLAGS    = -MMD -MP
BPF_CFLAGS := -O2 -g -target bpf -D__TARGET_ARCH_$(ARCH) $(WARN) $(LAYOUT) \
	      -Iinclude -I/usr/include/$(TRIPLET)
CFLAGS     ?= -O2 -g
CFLAGS     += $(SANFLAGS) $(WARN) $(LAYOUT) -std=gnu11 -Iinclude -Iuser -I$(BUILD) \
	      -DTCPF_VERSION='"$(VERSION)"'
LIBS       := $(shell pkg-config --libs libxdp libbpf 2>/dev/null || \
		echo -lxdp -lbpf) -lelf -lz

# ---- what is built: each list is the only place a file is named

# the BPF objects whose libbpf skeleton userspace includes (every
# bpf/NAME.bpf.c builds as build/NAME.bpf.o)
SKELS    := tcpflags empty livegen
# userspace: the core (loading, pins, maps, rules) and the commands on it
CORE     := log cli privs rules pfxtable policy pins maps counters attached guardstate \
	    snapshot report timefmt egress glist layout migrate lock repair \
	    stale crashpoint
CMDS     := main loader guard stats flows rulecmd exporter exphttp top top_model \
	    top_draw top_input glistcmd health prune completion
# test and bench programs: tests/NAME.c, linked with the core ...
CORE_PROGS := test_bpf test_flow test_user test_rules test_policy \
	      bench bench_policy fuzz inforce
# ... or on their own (their skeleton and frames only)
LONE_PROGS := bench_top livegen verifier
# the programs that build frames with tests/frames.c
FRAME_PROGS := test_bpf test_flow test_policy bench bench_policy bench_top \
	       inforce
# the BPF suites: scenario tables run by tests/harness.c
HARNESS_PROGS := test_bpf test_flow test_policy fuzz
# the suites that read text tables (tests/lines.c)
LINES_PROGS := test_flow test_policy test_rules test_user

# the compilers of `make verify` (scripts/verify.sh; CI runs the first two,
# tests/run.sh); each installs as a command of that name
VERIFY_CCS ?= $(CLANG) clang-16 clang-19

TOOL_LIBS := $(shell pkg-config --libs ncursesw libmicrohttpd 2>/dev/null || \
	       echo -lncursesw -lmicrohttpd)

# what `make test` and `make bench` need besides the tool
TEST_PROGS  := $(addprefix $(BUILD)/,test_bpf test_flow test_user \
	       test_rules test_policy empty.bpf.o livegen verifier fuzz inforce)
BENCH_PROGS := $(addprefix $(BUILD)/,bench bench_policy bench_top livegen \
	       empty.bpf.o xdpdrop.bpf.o floodsink.bpf.o)

# ---- derived
core_objs := $(CORE:%=$(BUILD)/user/%.o)
cmd_objs  := $(CMDS:%=$(BUILD)/user/%.o)
skel_hdrs := $(SKELS:%=$(BUILD)/%.skel.h)
progs     := $(addprefix $(BUILD)/,$(CORE_PROGS) $(LONE_PROGS))

all: $(BUILD)/tcpflags

$(BUILD) $(BUILD)/user $(BUILD)/tests:
	$(Q)mkdir -p $@

$(BUILD)/%.bpf.o: bpf/%.bpf.c | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@

# make verify's objects, build/verify/CC-MCPU/NAME.bpf.o: the compiler and
# -mcpu are the directory's name (CC may hold dashes: clang-16-v3)
vdir  = $(notdir $(@D))
vmcpu = $(lastword $(subst -, ,$(vdir)))
$(BUILD)/verify/%.bpf.o: bpf/$$(notdir $$*).bpf.c
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(patsubst %-$(vmcpu),%,$(vdir)) $(BPF_CFLAGS) -mcpu=$(vmcpu) \
		$(DEPFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

# the skeletons are order-only: the first build makes them before any C
# file that includes one; after that, the .d files name who does
$(BUILD)/user/%.o: user/%.c | $(BUILD)/user $(BUILD)/tcpflags.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/tests/%.o: tests/%.c | $(BUILD)/tests $(skel_hdrs)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests $(DEPFLAGS) -c $< -o $@

# top draws with ncursesw
$(BUILD)/user/top_draw.o $(BUILD)/user/top_input.o: CFLAGS += $(shell pkg-config --cflags ncursesw 2>/dev/null)

# main.o prints the version: rebuilt when it changes (build/version)
$(BUILD)/version: FORCE | $(BUILD)
	$(Q)echo '$(VERSION)' | cmp -s - $@ || echo '$(VERSION)' >$@
$(BUILD)/user/main.o: $(BUILD)/version

$(BUILD)/tcpflags: $(cmd_objs) $(core_objs)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LIBS) $(TOOL_LIBS) -o $@

$(addprefix $(BUILD)/,$(CORE_PROGS)): $(core_objs)
$(addprefix $(BUILD)/,$(FRAME_PROGS)): $(BUILD)/tests/frames.o
$(addprefix $(BUILD)/,$(HARNESS_PROGS)): $(BUILD)/tests/harness.o
$(addprefix $(BUILD)/,$(LINES_PROGS)): $(BUILD)/tests/lines.o
$(BUILD)/fuzz: $(BUILD)/tests/fuzzgen.o $(BUILD)/tests/fuzzref.o
# the reference shares nothing with bpf/ and include/: built without the
# project's include paths, an #include of its headers does not compile
$(BUILD)/tests/fuzzref.o: CFLAGS := $(filter-out -I%,$(CFLAGS))
$(progs): $(BUILD)/%: $(BUILD)/tests/%.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LIBS) -o $@

test-progs: $(BUILD)/tcpflags $(TEST_PROGS) layout-test

layout-test:
	$(Q)$(MAKE) --no-print-directory LAYOUT_TEST=1 $(BUILD)/layout-test/tcpflags

bench-progs: $(BUILD)/tcpflags $(BENCH_PROGS)

test: test-progs
	$(Q)TCPF_BUILD=$(BUILD) tests/run.sh

lint:
	$(Q)scripts/lint.sh

# every bench runs, so a failed budget hides no other figure; the exit
# status is 1 when any budget failed
BENCHES := $(BUILD)/bench $(BUILD)/bench_policy scripts/bench-live.sh \
	   scripts/bench-guard.sh scripts/bench-top.sh scripts/bench-exporter.sh

bench: bench-progs
	$(Q)st=0; for b in $(BENCHES); do $$b || st=1; done; exit $$st

verify: $(BUILD)/verifier
	$(Q)TCPF_BUILD=$(BUILD) scripts/verify.sh $(VERIFY_CCS)

# the frames saved from disagreements are replayed first, and new ones
# saved beside them
FRAMES ?= 1000000
fuzz: $(BUILD)/fuzz
	$(Q)$(BUILD)/fuzz --frames $(FRAMES) $(if $(SEED),--seed $(SEED)) \
		--regress tests/regress/fuzz

demo: all
	$(Q)scripts/lab.sh

soak: $(BUILD)/tcpflags $(BUILD)/livegen $(BUILD)/floodsink.bpf.o
	$(Q)scripts/soak.sh

# what `make install` puts where: the binary, the man pages beside it in
# user/ (user/*.5, user/*.8), the bash completion (when the binary has
# `completion bash`), the systemd units (their binary's path made
# PREFIX's), /etc/default/tcpflags and the example rules (never over a
# file there), the Prometheus rules and dashboard (scripts/prometheus/)
SBINDIR  ?= $(PREFIX)/sbin
MANDIR   ?= $(PREFIX)/share/man
DATADIR  ?= $(PREFIX)/share/tcpflags
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
UNITDIR  ?= $(if $(filter /usr,$(PREFIX)),/lib,$(PREFIX)/lib)/systemd/system
SYSCONFDIR ?= /etc
install: $(BUILD)/tcpflags
	install -D -m 0755 $(BUILD)/tcpflags $(DESTDIR)$(SBINDIR)/tcpflags
	$(Q)for m in $(wildcard user/*.5 user/*.8); do \
		install -D -m 0644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m#user/} || exit 1; done
	$(Q)if $(BUILD)/tcpflags completion bash >$(BUILD)/completion.bash 2>/dev/null; then \
		install -D -m 0644 $(BUILD)/completion.bash $(DESTDIR)$(BASHCOMPDIR)/tcpflags; fi
	$(Q)for u in scripts/systemd/*.service; do \
		mkdir -p $(DESTDIR)$(UNITDIR) && \
		sed 's|/usr/sbin/tcpflags|$(SBINDIR)/tcpflags|g' $$u \
			>$(DESTDIR)$(UNITDIR)/$${u##*/} || exit 1; done
	$(Q)[ -e $(DESTDIR)$(SYSCONFDIR)/default/tcpflags ] || install -D -m 0644 \
		scripts/tcpflags.default $(DESTDIR)$(SYSCONFDIR)/default/tcpflags
	$(Q)[ -e $(DESTDIR)$(SYSCONFDIR)/tcpflags/tcpflags.rules.example ] || install -D -m 0644 \
		scripts/tcpflags.rules.example $(DESTDIR)$(SYSCONFDIR)/tcpflags/tcpflags.rules.example
	$(Q)for f in $(wildcard scripts/prometheus/*); do \
		install -D -m 0644 $$f $(DESTDIR)$(DATADIR)/prometheus/$${f##*/} || exit 1; done

# build/tcpflags_VERSION_ARCH.deb (scripts/deb.sh: a DESTDIR install,
# dpkg-shlibdeps, dpkg-deb, lintian)
package:
	$(Q)scripts/deb.sh

clean:
	rm -rf $(BUILD)

FORCE:

.PHONY: FORCE all test-progs bench-progs test lint bench verify fuzz demo soak install package clean layout-test

-include $(wildcard $(BUILD)/*.d $(BUILD)/user/*.d $(BUILD)/tests/*.d \
	   $(BUILD)/verify/*/*.d)
