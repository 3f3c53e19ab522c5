# tcpflags - an XDP TCP flag classifier.  Every output goes to build/.
#   make            build build/tcpflags (and the test and bench programs)
#   make test       install what is missing, build, run every test (root)
#   make bench      the benchmark table and budget lines (root)
#   make demo       the lab: two namespaces, real traffic, the stats (root)
#   make install    PREFIX=/usr/local DESTDIR=
#   V=1             show the commands
.DELETE_ON_ERROR:
.SECONDARY:

PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   := build
CLANG   ?= clang
BPFTOOL ?= bpftool
CC      ?= gcc
ARCH    := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
TRIPLET := $(shell $(CC) -dumpmachine)
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

WARN      := -Wall -Wextra -Werror -Wshadow
BPF_CFLAGS := -O2 -g -target bpf -D__TARGET_ARCH_$(ARCH) $(WARN) \
	      -Iinclude -I/usr/include/$(TRIPLET)
CFLAGS    ?= -O2 -g
CFLAGS    += $(WARN) -std=gnu11 -Iinclude -Iuser -I$(BUILD) \
	     -DTCPF_VERSION='"$(VERSION)"'
LIBS      := $(shell pkg-config --libs libxdp libbpf 2>/dev/null || echo -lxdp -lbpf) -lelf -lz

BPF_PROGS := tcpflags empty
SKELS     := $(patsubst %,$(BUILD)/%.skel.h,$(BPF_PROGS))
CORE_SRCS := user/log.c user/cli.c user/rules.c user/pfxtable.c user/policy.c user/pins.c user/counters.c user/attached.c user/snapshot.c user/timefmt.c
CMD_SRCS  := user/loader.c user/egress.c user/stats.c user/flows.c user/rulecmd.c user/exporter.c user/top.c
CORE_OBJS := $(patsubst user/%.c,$(BUILD)/user/%.o,$(CORE_SRCS))
CMD_OBJS  := $(patsubst user/%.c,$(BUILD)/user/%.o,$(CMD_SRCS))
TEST_BINS := $(BUILD)/test_bpf $(BUILD)/test_flow $(BUILD)/test_user \
	     $(BUILD)/test_rules $(BUILD)/test_policy \
	     $(BUILD)/bench $(BUILD)/bench_policy $(BUILD)/livegen \
	     $(BUILD)/bench_top

all: $(BUILD)/tcpflags $(TEST_BINS) $(BUILD)/xdpdrop.bpf.o

$(BUILD) $(BUILD)/user $(BUILD)/tests:
	$(Q)mkdir -p $@

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.bpf.h) include/tcpflags.h | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

$(BUILD)/user/%.o: user/%.c $(wildcard user/*.h) include/tcpflags.h $(SKELS) | $(BUILD)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/tests/%.o: tests/%.c $(wildcard tests/*.h) $(wildcard user/*.h) include/tcpflags.h $(SKELS) | $(BUILD)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests -c $< -o $@

# top: the dashboard draws with ncursesw
$(BUILD)/tcpflags: LIBS += $(shell pkg-config --libs ncursesw 2>/dev/null || echo -lncursesw)
$(BUILD)/user/top.o: CFLAGS += $(shell pkg-config --cflags ncursesw 2>/dev/null)
$(BUILD)/tcpflags: $(BUILD)/user/main.o $(CMD_OBJS) $(CORE_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LIBS) $(shell pkg-config --libs libmicrohttpd) -o $@

$(BUILD)/test_bpf: $(BUILD)/tests/test_bpf.o $(BUILD)/tests/frames.o $(BUILD)/tests/harness.o $(CORE_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LIBS) -o $@

$(BUILD)/test_flow: $(BUILD)/tests/test_flow.o $(BUILD)/tests/frames.o $(BUILD)/tests/harness.o $(CORE_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LIBS) -o $@

$(BUILD)/test_user: $(BUILD)/tests/test_user.o $(CORE_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LIBS) -o $@

$(BUILD)/test_rules: $(BUILD)/tests/test_rules.o $(CORE_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LIBS) -o $@

$(BUILD)/test_policy: $(BUILD)/tests/test_policy.o $(BUILD)/tests/frames.o $(BUILD)/tests/harness.o $(CORE_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LIBS) -o $@

$(BUILD)/bench: $(BUILD)/tests/bench.o $(BUILD)/tests/frames.o $(CORE_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LIBS) -o $@

$(BUILD)/bench_policy: $(BUILD)/tests/bench_policy.o $(BUILD)/tests/frames.o $(CORE_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LIBS) -o $@

# fills counters and the flow table for scripts/bench-top.sh
$(BUILD)/bench_top: $(BUILD)/tests/bench_top.o $(BUILD)/tests/frames.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LIBS) -o $@

# the flood generator of scripts/bench-live.sh: needs only its own skeleton
$(BUILD)/tests/livegen.o: tests/livegen.c tests/csum.h $(BUILD)/livegen.skel.h | $(BUILD)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests -c $< -o $@

$(BUILD)/livegen: $(BUILD)/tests/livegen.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LIBS) -o $@

test: all
	$(Q)tests/run.sh

bench: all
	$(Q)$(BUILD)/bench
	$(Q)$(BUILD)/bench_policy
	$(Q)scripts/bench-live.sh
	$(Q)scripts/bench-top.sh
	$(Q)scripts/bench-exporter.sh

demo: all
	$(Q)scripts/lab.sh

install: $(BUILD)/tcpflags
	install -D -m 0755 $(BUILD)/tcpflags $(DESTDIR)$(PREFIX)/sbin/tcpflags

clean:
	rm -rf $(BUILD)

.PHONY: all test bench demo install clean
