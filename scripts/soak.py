#!/usr/bin/python3
# soak.py - the driver of scripts/soak.sh (`make soak`), and its clients.
#
#   soak.py                    the driver: scripts/soak.sh runs it after it
#                              made the lab and attached tcpflags, with LAB,
#                              TMPD, SRV_MAC, SRV_IF and CLI_IF set
#   soak.py client KIND TMPD   a client, in the client namespace: req (a
#                              request every 0.1 s), hold (16 connections
#                              held, one replaced every 0.5 s), odd (odd
#                              flag bytes from a raw socket, 20 a second)
#
# The driver starts the server, the readers (`tcpflags top` in a pseudo-
# terminal, sent a key every 5 s and resized every 30 s; `tcpflags stats
# --watch 1 --json`; `tcpflags exporter`), the clients and the flood
# (build/livegen, 2 s a run, IPv4 and IPv6 in turn), then, once a
# second for SOAK_SECS, makes one random change (random.Random(SOAK_SEED)):
# rule add (the lowest free id), rule del, apply of a generated file (rules
# kept with their ids, rules given a new text under an old id, new rules,
# sometimes a set or a guard line), rule flush, the guard's mode, an allow
# or deny list entry (some with a TTL); and after it reads `stats --json`
# and scrapes the exporter.  What it checks (a violation prints at once,
# and the exit status is 1):
#   counters  every counter of stats --json (packets, malformed, each flag
#             byte's packets and bytes, phases, connection events, drops,
#             the guard's counters) and every counter series of /metrics is
#             at least its value one second before, and never disappears.
#             A rule's counters may restart only where the change of that
#             second made the rule: a `rule add` of its id, or an apply
#             that gave its id a new text or put it there (a rule kept by
#             an apply under the same id and text keeps counting).  The rule
#             set read back must be the one the changes made, ids included.
#             The stats --watch stream is held to the same, its rules'
#             restarts allowed when such a change ran between its lines.
#   gauges    at a quiet point every SOAK_QUIET s (flood, clients and
#             changes paused, two reaper ticks passed, then stats, flows,
#             ss and /metrics read at once within one tick's second, as
#             the pinned tcpf_ctl, which only a tick rewrites, shows): the
#             connections per state and half_open (stats and /metrics)
#             equal a recount of `tcpflags flows --json`; the established
#             ones equal the server's established sockets (ss); stats and
#             /metrics give the same flag counters; the guard's
#             verified_sources (stats and /metrics) equals a recount of the
#             pinned tcpf_gverified table (read here with the bpf syscall),
#             and its list sizes the prefixes `guard IFACE allow|deny list`
#             gives.
#   memory    VmRSS of top, stats --watch and the exporter every
#             SOAK_RSS_EVERY s: the last reading may exceed the first one
#             after the warm-up (the first interval) by SOAK_RSS_BOUND_KB.
#   liveness  the readers run to the end (top draws, stats --watch writes
#             a line at least every 15 s), write nothing on stderr and exit
#             0 when asked to; every command of a change succeeds.
import collections
import ctypes
import faulthandler
import fcntl
import json
import os
import platform
import random
import re
import signal
import socket
import struct
import subprocess
import sys
import termios
import threading
import time

PY = "/usr/bin/python3"
PORT = 8080
SRV4, SRV6 = "198.19.0.2", "2001:2:0:1::2"
CLI4, CLI6 = "198.19.0.1", "2001:2:0:1::1"
SRCS = [("198.19.0.%d" % i, "2001:2:0:1::%d" % i) for i in (10, 11, 12, 13)]
EXPORTER = "127.0.0.1:9742"
FLOOD_SECS = 2                  # one livegen run
WATCH_SILENCE = 15              # stats --watch 1 silent that long: hung
WATCH_SLACK = 3                 # s a watch line may come after its read

# --------------------------------------------------------------- clients


def paused(tmpd, name):
    """Hold while TMPD/pause exists, with TMPD/paused.NAME saying so."""
    if not os.path.exists(os.path.join(tmpd, "pause")):
        return
    mark = os.path.join(tmpd, "paused." + name)
    open(mark, "w").close()
    while os.path.exists(os.path.join(tmpd, "pause")):
        time.sleep(0.05)
    os.unlink(mark)


def stopping(tmpd):
    return os.path.exists(os.path.join(tmpd, "stop"))


def save(tmpd, name, obj):
    path = os.path.join(tmpd, name)
    with open(path + ".new", "w") as f:
        json.dump(obj, f)
    os.rename(path + ".new", path)


def request(fam, src, dst):
    s = socket.socket(fam, socket.SOCK_STREAM)
    try:
        s.settimeout(5)
        s.bind((src, 0))
        s.connect((dst, PORT))
        s.sendall(b"GET / HTTP/1.0\r\nHost: soak\r\n\r\n")
        got = b""
        while True:
            b = s.recv(4096)
            if not b:
                break
            got += b
        return got.startswith(b"HTTP/1.0 200") and got.endswith(b"ok\n")
    except OSError:
        return False
    finally:
        s.close()


def client_req(tmpd):
    """A request every 0.1 s, IPv4 and IPv6 in turn, from four sources
    each; every fifth with curl."""
    ok, failed, ms, i = 0, 0, [], 0
    last = time.monotonic()
    while not stopping(tmpd):
        paused(tmpd, "req")
        six = i % 2
        src = SRCS[(i // 2) % len(SRCS)][six]
        t0 = time.monotonic()
        if i % 5 == 4:
            url = "http://[%s]:%d/" % (SRV6, PORT) if six else \
                  "http://%s:%d/" % (SRV4, PORT)
            r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w",
                                "%{http_code}", "--max-time", "5",
                                "--interface", src, url],
                               capture_output=True, text=True)
            good = r.stdout == "200"
        else:
            good = request(socket.AF_INET6 if six else socket.AF_INET, src,
                           SRV6 if six else SRV4)
        took = time.monotonic() - t0
        if good:
            ok += 1
            ms.append(took * 1000)
        else:
            failed += 1
        i += 1
        if time.monotonic() - last >= 1:
            save(tmpd, "req.json", {"ok": ok, "failed": failed})
            last = time.monotonic()
        time.sleep(max(0.0, 0.1 - took))
    ms.sort()
    pct = (lambda p: ms[min(len(ms) - 1, int(p * len(ms)))] if ms else 0)
    save(tmpd, "req.json", {"ok": ok, "failed": failed, "p50": pct(0.5),
                            "p99": pct(0.99)})


def client_hold(tmpd, n=16):
    """n connections held open; every 0.5 s the oldest goes (FIN first,
    RST, or a request the server answers and closes) and a new one
    comes."""
    conns = collections.deque()
    st = collections.Counter()
    k = 0
    while not stopping(tmpd):
        paused(tmpd, "hold")
        while len(conns) < n:
            six = (st["opened"] + st["open_failed"]) % 2
            fam = socket.AF_INET6 if six else socket.AF_INET
            s = socket.socket(fam, socket.SOCK_STREAM)
            try:
                s.settimeout(5)
                s.bind((CLI6 if six else CLI4, 0))
                s.connect((SRV6 if six else SRV4, PORT))
                conns.append(s)
                st["opened"] += 1
            except OSError:
                s.close()
                st["open_failed"] += 1
                break
        time.sleep(0.5)
        if not conns:
            continue
        s = conns.popleft()
        how = ("fin", "rst", "served")[k % 3]
        k += 1
        try:
            if how == "rst":
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             struct.pack("ii", 1, 0))
            elif how == "served":
                s.sendall(b"GET / HTTP/1.0\r\n\r\n")
                while s.recv(4096):
                    pass
            st["closed_" + how] += 1
        except OSError:
            st["close_failed"] += 1
        s.close()
        save(tmpd, "hold.json", dict(st))
    for s in conns:
        s.close()
    save(tmpd, "hold.json", dict(st))


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def client_odd(tmpd):
    """Odd flag bytes to the server from a raw socket, 20 a second: NULL,
    Xmas, SYN|FIN, FIN alone, SYN|RST, a stray ACK, and SYNs to a closed
    port (refused)."""
    kinds = [(0x00, PORT), (0x29, PORT), (0x03, PORT), (0x01, PORT),
             (0x06, PORT), (0x10, PORT), (0x02, 9)]
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    src, dst = socket.inet_aton(CLI4), socket.inet_aton(SRV4)
    rng = random.Random(7)
    i = sent = 0
    while not stopping(tmpd):
        paused(tmpd, "odd")
        flags, dport = kinds[i % len(kinds)]
        tcp = struct.pack("!HHIIBBHHH", 20000 + i % 20000, dport,
                          rng.getrandbits(32),
                          rng.getrandbits(32) if flags & 0x10 else 0,
                          5 << 4, flags, 65535, 0, 0)
        c = csum(src + dst + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
        tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
        # the kernel fills in the total length, id and checksum
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 0, 0, 0, 64, 6, 0, src,
                         dst)
        try:
            s.sendto(ip + tcp, (SRV4, 0))
            sent += 1
        except OSError:
            pass
        i += 1
        if i % 20 == 0:
            save(tmpd, "odd.json", {"sent": sent})
        time.sleep(0.05)
    save(tmpd, "odd.json", {"sent": sent})


# ------------------------------------------------- a bpf map, read here

class PinnedArray:
    """An array map pinned in bpffs, read whole with one batch lookup (the
    bpf syscall through ctypes: a reader that shares nothing with the
    tool)."""
    NR_BPF = {"x86_64": 321, "aarch64": 280}[platform.machine()]
    OBJ_GET, GET_INFO, LOOKUP_BATCH, F_RDONLY = 7, 15, 24, 1 << 3

    def __init__(self, path):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.libc.syscall.restype = ctypes.c_long
        p = ctypes.create_string_buffer(path.encode())
        attr = ctypes.create_string_buffer(128)
        struct.pack_into("=QII", attr, 0, ctypes.addressof(p), 0,
                         self.F_RDONLY)
        self.fd = self.bpf(self.OBJ_GET, attr)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "BPF_OBJ_GET " + path)
        # struct bpf_map_info: type, id, key_size, value_size, max_entries
        info = ctypes.create_string_buffer(80)
        attr = ctypes.create_string_buffer(128)
        struct.pack_into("=IIQ", attr, 0, self.fd, 80, ctypes.addressof(info))
        if self.bpf(self.GET_INFO, attr) < 0:
            raise OSError(ctypes.get_errno(), "BPF_OBJ_GET_INFO_BY_FD " + path)
        self.vsize, self.nelem = struct.unpack_from("=II", info, 12)

    def bpf(self, cmd, attr):
        return self.libc.syscall(ctypes.c_long(self.NR_BPF),
                                 ctypes.c_long(cmd), attr, ctypes.c_uint(128))

    def read(self):
        """Every element's value, as bytes."""
        keys = ctypes.create_string_buffer(4 * self.nelem)
        vals = ctypes.create_string_buffer(self.vsize * self.nelem)
        out = ctypes.create_string_buffer(8)
        attr = ctypes.create_string_buffer(128)
        struct.pack_into("=QQQQII", attr, 0, 0, ctypes.addressof(out),
                         ctypes.addressof(keys), ctypes.addressof(vals),
                         self.nelem, self.fd)
        r = self.bpf(self.LOOKUP_BATCH, attr)
        err = ctypes.get_errno()
        n = struct.unpack_from("=I", attr, 32)[0]
        if r < 0 and err != 2:       # ENOENT: the end, all of it read
            raise OSError(err, "BPF_MAP_LOOKUP_BATCH")
        raw, v = vals.raw, self.vsize
        return [raw[i * v:(i + 1) * v] for i in range(n)]

    def close(self):
        os.close(self.fd)


# ----------------------------------------------------------- the driver

# rules the changes draw from: each matches something of the soak's
# traffic (the flood, the clients, the odd flag bytes, the replies)
POOL = [
    "nullscan drop", "xmas drop", "synfin drop", "finnoack count",
    "invalid drop", "--syn count", "synrst drop",
    "--syn dport 8080 ratelimit 2000/s burst 100 per src/16",
    "--syn dport 8080 ratelimit 500/s burst 50 per global",
    "src 198.18.0.0/16 drop", "src 198.18.0.0/17 count",
    "src 198.18.128.0/17 --syn drop", "src 2001:2:0:ff::/64 drop",
    "ipv6 --syn count", "dport 9 drop", "dport 9 count",
    "phase out_of_state count", "phase retransmit count",
    "state established count", "egress sport 8080 count",
    "ingress egress flags ACK/ALL count",
    "--tcp-flags SYN,ACK SYN src 198.18.0.0/15 ratelimit 1000/s burst 100 "
    "per src/24",
    "dst 198.19.0.2 dport 8080 pass", "src 198.19.0.0/24 pass",
    "ipv4 --syn src 198.18.0.0/15 count",
]
SET_POOL = ["src @flood drop", "src @flood count", "src @flood --syn drop"]
GUARD_LINES = [
    "guard off", "guard cookie port 8080", "guard auth port 8080 ttl 30",
    "guard monitor port 8080", "guard cookie port 8080 deny 198.18.77.0/24",
    "guard auto port 8080 syn-rate 5000 calm-rate 1000 calm 3",
]
GAUGE_STATES = ["syn_sent", "syn_recv", "established", "fin_wait1",
                "fin_wait2", "close_wait", "last_ack", "closing",
                "time_wait"]
TOP_KEYS = ["\t", "1", "2", "3", "4", "s", "r", "\x1b[B", "\x1b[6~",
            "\x1b[A", "\x1b[H"]


def env_int(name, default):
    return int(os.environ.get(name) or default)


def stats_counters(j):
    """The counters of one stats --json object, by name; the rules' apart
    (id -> (text, packets, bytes))."""
    c = {}
    for k, v in j["packets"].items():
        c["packets." + k] = v
    for k, v in j["malformed"].items():
        c["malformed." + k] = v
    for f in j["flags"]:
        c["flags.%d.packets" % f["bits"]] = f["packets"]
        c["flags.%d.bytes" % f["bits"]] = f["bytes"]
    for k, v in j.get("phases", {}).items():
        c["phases." + k] = v
    for k, v in j.get("connections", {}).items():
        if k != "half_open":
            c["connections." + k] = v
    for k, v in j["drops"].items():
        c["drops." + k] = v
    for k, v in j.get("guard", {}).get("counters", {}).items():
        c["guard." + k] = v
    rules = {r["id"]: (r["text"], r["packets"], r["bytes"])
             for r in j["rules"]}
    return c, rules


def stats_gauges(j):
    g = {"states." + s: j["states"][s] for s in GAUGE_STATES}
    g["half_open"] = j["connections"]["half_open"]
    g["verified"] = j["guard"]["verified_sources"]
    g["allow"] = j["guard"]["lists"]["allow"]
    g["deny"] = j["guard"]["lists"]["deny"]
    return g


LINE = re.compile(r'^([a-z_]+)(\{.*\})? (\S+)$')
LABEL = re.compile(r'([a-z_]+)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """{(name, labels): value} and {name: type} of a /metrics text."""
    types, vals = {}, {}
    for ln in text.splitlines():
        if ln.startswith("# TYPE "):
            _, _, name, typ = ln.split()
            types[name] = typ
        elif ln and not ln.startswith("#"):
            m = LINE.match(ln)
            if not m:
                raise ValueError("bad /metrics line: " + ln)
            vals[(m.group(1), m.group(2) or "")] = float(m.group(3))
    return vals, types


def labels(s):
    return dict(LABEL.findall(s))


class Soak:
    def __init__(self):
        self.lab = os.environ["LAB"]
        self.tmpd = os.environ["TMPD"]
        self.ifname = os.environ["SRV_IF"]
        self.cli_if = os.environ["CLI_IF"]
        self.mac = os.environ["SRV_MAC"]
        self.tcpf = os.path.join(self.tmpd, "tcpflags")
        self.secs = env_int("SOAK_SECS", 600)
        self.seed = env_int("SOAK_SEED", 1)
        self.rate = env_int("SOAK_RATE", 20000)
        self.quiet_every = env_int("SOAK_QUIET", 60)
        self.rss_every = env_int("SOAK_RSS_EVERY", 60)
        self.rss_bound = env_int("SOAK_RSS_BOUND_KB", 512)
        self.rng = random.Random(self.seed)
        self.t = 0
        self.lock = threading.Lock()
        self.violations = collections.Counter()
        self.procs = {}
        self.model = {}               # the rule set in force: id -> text
        self.events = []              # (t0, t1, ids a change made fresh)
        self.changes = collections.Counter()
        self.failed_changes = 0
        self.n = collections.Counter()  # figures
        self.restarts = 0
        self.quiet_rows = []
        self.rss = {}                 # reader -> [(t, kB)]
        self.flood_on = threading.Event()
        self.flood_lock = threading.Lock()    # held while livegen runs
        self.stop = threading.Event()
        self.flood_sent = 0
        self.flood_time = 0.0
        self.slowest = {}
        self.top_bytes = 0
        self.top_tail = b""
        self.top_seen_if = False
        self.watch_last = time.monotonic()
        self.watch_max_gap = 0.0

    # ---- plumbing

    def violation(self, kind, text):
        with self.lock:
            self.violations[kind] += 1
            if self.violations[kind] <= 20:
                print("soak: VIOLATION t=%d %s: %s" % (self.t, kind, text),
                      flush=True)

    def ns(self, side, *cmd):
        return ["nsenter", "--net=/run/netns/%s-%s" % (self.lab, side)] + \
               [str(c) for c in cmd]

    def tf(self, *args):
        t0 = time.monotonic()
        r = subprocess.run(self.ns("srv", self.tcpf, *args),
                           capture_output=True, text=True, timeout=60)
        self.took(" ".join(map(str, args[:2 if args[0] in ("rule", "guard")
                                             else 1])), t0)
        return r.returncode, r.stdout, r.stderr

    def took(self, what, t0):
        """The slowest run of each kind of command, for the report."""
        d = time.monotonic() - t0
        with self.lock:
            if d > self.slowest.get(what, 0):
                self.slowest[what] = d

    def tf_json(self, *args):
        rc, out, err = self.tf(*args)
        if rc:
            raise RuntimeError("tcpflags %s: exit %d: %s" %
                               (" ".join(args), rc, err.strip()))
        return json.loads(out)

    def scrape(self):
        t0 = time.monotonic()
        r = subprocess.run(self.ns("srv", "curl", "-sf", "--max-time", "10",
                                   "http://%s/metrics" % EXPORTER),
                           capture_output=True, text=True, timeout=30)
        self.took("scrape", t0)
        if r.returncode:
            raise RuntimeError("scrape: curl exit %d" % r.returncode)
        return parse_metrics(r.stdout)

    def spawn(self, name, cmd, **kw):
        self.procs[name] = subprocess.Popen(cmd, **kw)
        return self.procs[name]

    # ---- the processes

    def start(self):
        logs = lambda n: open(os.path.join(self.tmpd, n + ".err"), "w")
        self.spawn("httpd", self.ns("srv", PY,
                                    os.path.join(self.tmpd, "httpd.py"), PORT),
                   stdout=subprocess.DEVNULL, stderr=logs("httpd"))
        deadline = time.monotonic() + 10
        probe = "import socket; socket.create_connection(('%s', %d), 1)" \
            ".close()" % (SRV4, PORT)
        while subprocess.run(self.ns("cli", PY, "-c", probe),
                             stderr=subprocess.DEVNULL).returncode:
            if time.monotonic() > deadline:
                raise RuntimeError("the server does not answer")
            time.sleep(0.1)
        st = self.tf_json("status", "--json")
        pin = [a["pin_dir"] for a in st["attachments"]
               if a["interface"] == self.ifname][0]
        self.nsdir = os.path.dirname(pin)
        self.spawn("exporter", self.ns("srv", self.tcpf, "exporter",
                                       "--listen", EXPORTER, self.ifname),
                   stdout=subprocess.DEVNULL, stderr=logs("exporter"))
        self.spawn("watch", self.ns("srv", self.tcpf, "stats", self.ifname,
                                    "--json", "--watch", 1),
                   stdout=subprocess.PIPE, stderr=logs("watch"))
        threading.Thread(target=self.watch_reader, daemon=True).start()
        self.start_top()
        for kind in ("req", "hold", "odd"):
            self.spawn(kind, self.ns("cli", PY,
                                     os.path.join(self.tmpd, "soak.py"),
                                     "client", kind, self.tmpd),
                       stderr=logs(kind))
        threading.Thread(target=self.flood, daemon=True).start()
        self.flood_on.set()
        deadline = time.monotonic() + 10
        while True:
            try:
                self.scrape()
                break
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def start_top(self):
        master, slave = os.openpty()
        self.top_size = (50, 160)
        fcntl.ioctl(slave, termios.TIOCSWINSZ,
                    struct.pack("HHHH", *self.top_size, 0, 0))
        env = dict(os.environ, TERM="xterm")
        self.spawn("top", self.ns("srv", self.tcpf, "top", self.ifname),
                   stdin=slave, stdout=slave, stderr=slave, env=env,
                   start_new_session=True)
        os.close(slave)
        self.top_fd = master
        threading.Thread(target=self.top_reader, daemon=True).start()

    def top_reader(self):
        while True:
            try:
                b = os.read(self.top_fd, 65536)
            except OSError:
                return
            if not b:
                return
            with self.lock:
                self.top_bytes += len(b)
                tail = self.top_tail + b
                if self.ifname.encode() in tail:
                    self.top_seen_if = True
                self.top_tail = tail[-64:]

    def top_poke(self):
        """A key every 5 s (views, sort, scroll), a new size every 30 s."""
        if self.t % 30 == 0:
            self.top_size = (40, 120) if self.top_size == (50, 160) \
                else (50, 160)
            fcntl.ioctl(self.top_fd, termios.TIOCSWINSZ,
                        struct.pack("HHHH", *self.top_size, 0, 0))
            os.kill(self.procs["top"].pid, signal.SIGWINCH)
        elif self.t % 5 == 0:
            os.write(self.top_fd, self.rng.choice(TOP_KEYS).encode())

    def flood(self):
        """build/livegen at SOAK_RATE, IPv4 and IPv6 in
        turn, FLOOD_SECS a run, while flood_on is set (pause() waits for
        the run under way: it holds flood_lock)."""
        six = False
        while not self.stop.is_set():
            self.flood_on.wait(0.2)
            with self.flood_lock:
                if self.flood_on.is_set() and not self.stop.is_set():
                    self.flood_second(six)
                    six = not six

    def flood_second(self, six):
        cmd = [os.path.join(self.tmpd, "livegen"), self.cli_if,
               FLOOD_SECS * self.rate, "--dst-mac", self.mac, "--dport", PORT,
               "--rate", self.rate, "--for", FLOOD_SECS]
        cmd += ["--ipv6", "--dst", SRV6] if six else ["--dst", SRV4]
        t0 = time.monotonic()
        r = subprocess.run(self.ns("cli", *cmd), capture_output=True,
                           text=True)
        self.flood_time += time.monotonic() - t0
        m = re.search(r"sent=(\d+)", r.stdout)
        if r.returncode or not m:
            self.violation("flood", "livegen: exit %d %s" %
                           (r.returncode, r.stderr.strip()))
            time.sleep(1)
        else:
            self.flood_sent += int(m.group(1))

    def watch_reader(self):
        """stats --watch's lines: the counters never go back (a rule's only
        where a change between the lines made it)."""
        prev = None
        arrivals = collections.deque([time.monotonic()] * 2, maxlen=2)
        for ln in self.procs["watch"].stdout:
            now = time.monotonic()
            with self.lock:
                self.watch_max_gap = max(self.watch_max_gap,
                                         now - self.watch_last)
                self.watch_last = now
                events = list(self.events)
            try:
                cur = stats_counters(json.loads(ln))
            except (ValueError, KeyError) as e:
                self.violation("watch", "a line that does not parse: %s" % e)
                continue
            self.n["watch_lines"] += 1
            if prev:
                since = arrivals[-1] - WATCH_SLACK
                fresh = set()
                for t0, t1, ids in events:
                    if t1 >= since and t0 <= now:
                        fresh |= ids
                self.compare("stats --watch", prev, cur, fresh, "watch")
            prev = cur
            arrivals.append(now)

    # ---- counters

    def compare(self, what, prev, cur, fresh, tally):
        """cur's counters against prev's; fresh: the rule ids made anew
        in between."""
        (pc, pr), (cc, cr) = prev, cur
        for k, v in pc.items():
            if k not in cc:
                self.violation("counter", "%s: %s gone (was %d)" %
                               (what, k, v))
            elif cc[k] < v:
                self.violation("counter", "%s: %s went back %d -> %d" %
                               (what, k, v, cc[k]))
        self.n[tally + "_compared"] += len(pc)
        for rid, (text, pk, by) in cr.items():
            if rid in fresh:
                if rid in pr and tally == "stats" and pk < pr[rid][1]:
                    self.restarts += 1
                continue
            if rid not in pr or pr[rid][0] != text:
                if tally == "stats":
                    self.violation("rules", "%s: rule %d '%s' came "
                                   "without a change that made it" %
                                   (what, rid, text))
                continue
            self.n[tally + "_compared"] += 2
            if pk < pr[rid][1] or by < pr[rid][2]:
                self.violation("counter", "%s: rule %d '%s' went back "
                               "%d/%d -> %d/%d" % (what, rid, text,
                                                   pr[rid][1], pr[rid][2],
                                                   pk, by))

    def compare_metrics(self, prev, cur, fresh):
        (pv, _), (cv, ct) = prev, cur
        for key, v in cv.items():
            name, lab = key
            if ct.get(name) != "counter":
                continue
            if name in ("tcpflags_rule_hits_total",
                        "tcpflags_rule_bytes_total") and \
               int(labels(lab)["rule"]) in fresh:
                continue
            if key in pv:
                self.n["metrics_compared"] += 1
                if v < pv[key]:
                    self.violation("counter", "/metrics: %s%s went back "
                                   "%d -> %d" % (name, lab, pv[key], v))
        gone_ok = ("tcpflags_rule_hits_total", "tcpflags_rule_bytes_total")
        for key, v in pv.items():
            if key not in cv and key[0] not in gone_ok and \
               cur[1].get(key[0]) == "counter":
                self.violation("counter", "/metrics: %s%s gone (was %d)" %
                               (key[0], key[1], v))
        for key, v in cv.items():
            if key[0] in ("tcpflags_up", "tcpflags_rules_valid") and v != 1:
                self.violation("exporter", "%s%s = %g" % (key[0], key[1], v))
            if key[0] == "tcpflags_scrape_errors_total" and v:
                self.violation("exporter", "%s%s = %g" % (key[0], key[1], v))

    # ---- the changes

    def free_id(self, used, reserved=()):
        i = 1
        while i in used or i in reserved:
            i += 1
        return i

    def pool_text(self, with_set=False):
        text = self.rng.choice(POOL + (SET_POOL if with_set else []))
        if self.rng.random() < 0.25:
            text = "--priority %d %s" % (self.rng.randint(0, 3), text)
        return text

    def change(self):
        """One random change; returns the rule ids it made anew."""
        kinds = [("add", 28), ("del", 22), ("apply", 14), ("flush", 3),
                 ("guard", 15), ("list", 18)]
        kind = self.rng.choices([k for k, _ in kinds],
                                [w for _, w in kinds])[0]
        if kind == "del" and not self.model:
            kind = "add"
        if kind == "add" and len(self.model) >= 24:
            kind = "del"
        self.changes[kind] += 1
        fresh = set()
        if kind == "add":
            text = self.pool_text()
            want = self.free_id(self.model)
            rc, out, err = self.tf("rule", "add", self.ifname, *text.split())
            m = re.search(r"rule (\d+) added", out + err)
            if rc or not m:
                return self.change_failed(kind, rc, err)
            got = int(m.group(1))
            if got != want:
                self.violation("rules", "rule add '%s' took id %d, the "
                               "lowest free is %d" % (text, got, want))
            self.model[got] = text
            fresh = {got}
        elif kind == "del":
            rid = self.rng.choice(sorted(self.model))
            rc, out, err = self.tf("rule", "del", self.ifname, rid)
            if rc:
                return self.change_failed(kind, rc, err)
            del self.model[rid]
        elif kind == "flush":
            rc, out, err = self.tf("rule", "flush", self.ifname)
            if rc:
                return self.change_failed(kind, rc, err)
            self.model = {}
        elif kind == "apply":
            fresh = self.apply()
        elif kind == "guard":
            mode = self.rng.choice(["off", "monitor", "cookie", "auth",
                                    "auto", "ratelimit"])
            args = ["guard", self.ifname, mode]
            if mode != "off":
                args += ["--port", PORT]
            if mode == "auto":
                args += ["--syn-rate", 5000, "--calm-rate", 1000, "--calm", 3]
            if mode in ("cookie", "auth") and self.rng.random() < 0.3:
                args += ["--ttl", self.rng.choice([20, 60, 3600])]
            rc, out, err = self.tf(*args)
            if rc:
                return self.change_failed(kind, rc, err)
        elif kind == "list":
            self.list_change()
        return fresh

    def change_failed(self, kind, rc, err):
        self.failed_changes += 1
        self.violation("change", "%s: exit %d: %s" % (kind, rc, err.strip()))
        self.resync()
        return set()

    def resync(self):
        j = self.tf_json("rule", "list", self.ifname, "--json")
        self.model = {r["id"]: r["text"] for r in j["rules"]}

    def apply(self):
        """A generated rules file: some rules kept (their id and text),
        maybe one id given a new text, new rules, maybe a set, a guard
        line, a default line."""
        lines, new, reserved = [], {}, set()
        with_set = self.rng.random() < 0.3
        if with_set:
            lines.append("set flood 198.18.0.0/16 2001:2:0:ff::/64")
        if self.rng.random() < 0.5:
            lines.append("default pass")
        if self.rng.random() < 0.3:
            lines.append(self.rng.choice(GUARD_LINES))
        rules = []
        for rid in sorted(self.model):
            if self.rng.random() < 0.5:
                text = self.model[rid]
                if "@flood" in text and not with_set:
                    continue
                rules.append((rid, text))
        if self.model and self.rng.random() < 0.5:
            rid = self.rng.choice(sorted(self.model))
            if rid not in dict(rules):
                rules.append((rid, self.pool_text(with_set)))
        for _ in range(self.rng.randint(0, 4)):
            rules.append((None, self.pool_text(with_set)))
        self.rng.shuffle(rules)
        reserved = {rid for rid, _ in rules if rid}
        for rid, text in rules:
            if rid is None:
                rid = self.free_id(new, reserved)
                lines.append(text)
            else:
                lines.append("rule %d %s" % (rid, text))
            new[rid] = text
        path = os.path.join(self.tmpd, "apply.rules")
        with open(path, "w") as f:
            f.write("# soak t=%d\n" % self.t + "\n".join(lines) + "\n")
        rc, out, err = self.tf("apply", self.ifname, path)
        if rc:
            self.change_failed("apply", rc, err + " (file: %s)" %
                               "; ".join(lines))
            return set()
        fresh = {rid for rid, text in new.items()
                 if self.model.get(rid) != text}
        self.model = new
        return fresh

    def list_change(self):
        which = self.rng.choice(["deny", "deny", "allow"])
        listed = self.tf_json("guard", self.ifname, which, "list", "--json")
        # not one about to expire: del would find it gone
        have = [p["prefix"] for p in listed["prefixes"]
                if p["expires_in"] is None or p["expires_in"] > 5]
        op = self.rng.choice(["add", "add", "del", "flush"])
        if op != "add" and not have:
            op = "add"
        if op == "add":
            if which == "deny":
                pfx = self.rng.choice([
                    "198.18.%d.0/24" % self.rng.randrange(256),
                    "2001:2:0:ff:%x::/80" % self.rng.randrange(65536)])
            else:
                pfx = self.rng.choice(SRCS)[self.rng.randrange(2)]
            args = [which, "add", pfx]
            if self.rng.random() < 0.4:
                args += ["--ttl", self.rng.randint(3, 40)]
        elif op == "del":
            args = [which, "del", self.rng.choice(have)]
        else:
            args = [which, "flush"]
        self.changes["list_" + op] += 1
        rc, out, err = self.tf("guard", self.ifname, *args)
        if rc:
            self.change_failed("guard " + " ".join(map(str, args)), rc, err)

    # ---- the gauges

    def verified_recount(self):
        m = PinnedArray(os.path.join(self.nsdir, "tcpf_gverified"))
        try:
            if m.vsize != 24:
                raise RuntimeError("tcpf_gverified: a value of %d bytes, "
                                   "not the 24 this reads" % m.vsize)
            rows = m.read()
        finally:
            m.close()
        # the guard's clock: CLOCK_MONOTONIC (the reaper's), in seconds
        now = int(time.clock_gettime(time.CLOCK_MONOTONIC))
        n = near = 0
        for v in rows:
            until, fam = struct.unpack_from("=II", v, 16)
            if not fam:
                continue
            ahead = (until - now) & 0xffffffff
            ahead = ahead - (1 << 32) if ahead >= 1 << 31 else ahead
            n += ahead > 0
            near += -2 <= ahead <= 2
        return n, near

    def pause(self):
        self.flood_on.clear()
        with self.flood_lock:       # the run under way ends
            pass
        open(os.path.join(self.tmpd, "pause"), "w").close()
        deadline = time.monotonic() + 20
        while True:
            marks = [k for k in ("req", "hold", "odd") if
                     os.path.exists(os.path.join(self.tmpd, "paused." + k))]
            if len(marks) == 3:
                return
            if time.monotonic() > deadline:
                raise RuntimeError("the load did not pause (paused: %s)" %
                                   marks)
            time.sleep(0.05)

    def resume(self):
        os.unlink(os.path.join(self.tmpd, "pause"))
        self.flood_on.set()

    def agreed(self, what, read, keys):
        """read() between two stats reads, again until the two agree on
        the gauges of keys (a reaper tick or an expiry fell between them)
        and read() says it is clean: (s1, s2, read()'s result, reads)."""
        for attempt in range(1, 31):
            s1 = self.tf_json("stats", self.ifname, "--json")
            got, clean = read()
            s2 = self.tf_json("stats", self.ifname, "--json")
            g1, g2 = stats_gauges(s1), stats_gauges(s2)
            if clean and all(g1[k] == g2[k] for k in keys):
                return s1, s2, got, attempt
            time.sleep(0.2)
        self.violation("gauge", "%s: no two reads of stats agreed in 30" %
                       what)
        return s1, s2, got, attempt

    def one_tick(self):
        """stats, flows, ss and a scrape at once, right after a reaper
        tick, again until no tick fell among them: the reaper's tick
        rewrites tcpf_ctl (the clock, the gauges, its count), and quiet,
        nothing else does; so all of them saw the table of one tick."""
        ctl = PinnedArray(os.path.join(self.nsdir, "tcpf_ctl"))
        try:
            for attempt in range(1, 31):
                was = ctl.read()
                deadline = time.monotonic() + 3
                while ctl.read() == was and time.monotonic() < deadline:
                    time.sleep(0.005)
                was = ctl.read()
                cmds = {
                    "s1": self.ns("srv", self.tcpf, "stats", self.ifname,
                                  "--json"),
                    "flows": self.ns("srv", self.tcpf, "flows", self.ifname,
                                     "--json"),
                    "ss": self.ns("srv", "ss", "-Htn", "state", "established",
                                  "( sport = :%d )" % PORT),
                    "mv": self.ns("srv", "curl", "-sf", "--max-time", "10",
                                  "http://%s/metrics" % EXPORTER),
                }
                procs = {k: subprocess.Popen(c, stdout=subprocess.PIPE,
                                             text=True)
                         for k, c in cmds.items()}
                out = {k: p.communicate()[0] for k, p in procs.items()}
                s2 = self.tf_json("stats", self.ifname, "--json")
                if ctl.read() == was:
                    break
            else:
                self.violation("gauge", "30 times a reaper tick fell among "
                               "the reads of a quiet point")
        finally:
            ctl.close()
        for k, p in procs.items():
            if p.returncode:
                raise RuntimeError("%s: exit %d" % (" ".join(cmds[k]),
                                                    p.returncode))
        return (json.loads(out["s1"]), s2, json.loads(out["flows"]),
                out["ss"], parse_metrics(out["mv"])[0], attempt)

    def check_gauge(self, what, got, want):
        self.n["gauges_checked"] += 1
        if got != want:
            self.violation("gauge", "%s = %s, recount %s" % (what, got, want))

    def quiet_point(self):
        """The load paused: the gauges against a recount.  Quiet, the flow
        table changes only at the reaper's tick (expiry), after which it
        holds exactly what the tick counted; so the connections per state
        read within one tick's second (one_tick) are what the gauges
        say.  The guard's gauges are counted when they are read: a
        recount between two stats reads that agree, with no entry at its
        expiry, sees what they say."""
        t0 = time.monotonic()
        self.pause()
        time.sleep(2.5)                  # two ticks of the reaper

        s1, s2, flows, ss, mv, reads = self.one_tick()
        recount = collections.Counter(f["state"] for f in flows["flows"])
        if flows["shown"] != len(flows["flows"]) or \
           flows["matched"] != flows["shown"]:
            self.violation("gauge", "flows: shown %d, matched %d, listed %d"
                           % (flows["shown"], flows["matched"],
                              len(flows["flows"])))
        g = stats_gauges(s1)
        for st in GAUGE_STATES:
            self.check_gauge("stats " + st, g["states." + st], recount[st])
            self.check_gauge("stats read again " + st,
                             s2["states"][st], recount[st])
            self.check_gauge("/metrics connections " + st, mv.get(
                ("tcpflags_connections", '{iface="%s",state="%s"}' %
                 (self.ifname, st))), recount[st])
        self.check_gauge("stats half_open", g["half_open"],
                         recount["syn_sent"] + recount["syn_recv"])
        ours = ["%s:%d" % (SRV4, PORT), "[%s]:%d" % (SRV6, PORT)]
        est = sum(1 for f in flows["flows"] if f["state"] == "established"
                  and f["server"] in ours)
        sockets = len(ss.splitlines())
        self.check_gauge("established to the server (the server's sockets)",
                         est, sockets)
        self.agree(s1, s2, mv)

        def read_guard():
            ver, near = self.verified_recount()
            lists = {w: len(self.tf_json("guard", self.ifname, w, "list",
                                         "--json")["prefixes"])
                     for w in ("allow", "deny")}
            return (ver, lists, self.scrape()[0]), not near
        _, s2, (ver, lists, mv), greads = self.agreed(
            "guard", read_guard, ["verified", "allow", "deny"])
        g2 = stats_gauges(s2)
        self.check_gauge("stats verified_sources", g2["verified"], ver)
        self.check_gauge("/metrics verified_sources", mv.get(
            ("tcpflags_guard_verified_sources", '{iface="%s"}' %
             self.ifname)), ver)
        for w in ("allow", "deny"):
            self.check_gauge("stats lists " + w, g2[w], lists[w])
            self.check_gauge("/metrics list_prefixes " + w, mv.get(
                ("tcpflags_guard_list_prefixes", '{iface="%s",list="%s"}' %
                 (self.ifname, w))), lists[w])
        g.update({k: g2[k] for k in ("verified", "allow", "deny")})
        self.quiet_rows.append((self.t, g, len(flows["flows"]), sockets,
                                "%d+%d" % (reads, greads)))
        self.resume()
        return time.monotonic() - t0

    def agree(self, s1, s2, mv):
        """Quiet, nothing arrives: stats and /metrics give the same flag
        counters (when two stats reads around the scrape agree)."""
        if s1["flags"] != s2["flags"]:
            self.n["agree_skipped"] += 1
            return
        fam = collections.Counter()
        for (name, lab), v in mv.items():
            if name == "tcpflags_segments_total":
                fam[labels(lab)["flags"]] += v
        st = {f["name"]: f["packets"] for f in s2["flags"]}
        self.n["agree_checked"] += 1
        if st != dict(fam):
            diff = {k: (st.get(k), fam.get(k)) for k in set(st) | set(fam)
                    if st.get(k) != fam.get(k)}
            self.violation("agree", "stats and /metrics differ at a quiet "
                           "point: %s" % diff)

    # ---- memory

    def rss_sample(self):
        for name in ("top", "watch", "exporter"):
            p = self.procs[name]
            try:
                with open("/proc/%d/status" % p.pid) as f:
                    kb = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
            except (OSError, AttributeError):
                kb = -1
            self.rss.setdefault(name, []).append((self.t, kb))
        with self.lock:
            self.rss.setdefault("top output", []).append((self.t,
                                                          self.top_bytes))

    # ---- the run

    def readers_alive(self):
        for name in ("top", "watch", "exporter", "httpd", "req", "hold",
                     "odd"):
            rc = self.procs[name].poll()
            if rc is not None and not getattr(self.procs[name], "reported",
                                              False):
                self.procs[name].reported = True
                self.violation("liveness", "%s exited %d" % (name, rc))
        with self.lock:
            gap = time.monotonic() - self.watch_last
        if gap > WATCH_SILENCE:
            self.violation("liveness", "stats --watch silent for %.1f s" %
                           gap)

    def run(self):
        print("soak: %d s, seed %d, flood %d frames/s, a quiet point every "
              "%d s, memory every %d s" % (self.secs, self.seed, self.rate,
                                           self.quiet_every, self.rss_every),
              flush=True)
        self.began = time.monotonic()
        self.lag = 0.0
        self.start()
        prev_s = stats_counters(self.tf_json("stats", self.ifname, "--json"))
        prev_m = self.scrape()
        self.rss_sample()
        start = time.monotonic()
        last_top = 0
        pending = set()
        while self.t < self.secs:
            self.t += 1
            delay = start + self.t - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self.lag = max(self.lag, -delay)
            t0 = time.monotonic()
            fresh = self.change()
            pending |= fresh    # until a read compares them
            t1 = time.monotonic()
            with self.lock:
                self.events.append((t0, t1, fresh))
                self.events = [e for e in self.events if e[1] > t1 - 30]
            try:
                cur_s = stats_counters(self.tf_json("stats", self.ifname,
                                                    "--json"))
                cur_m = self.scrape()
            except (RuntimeError, ValueError, KeyError,
                    subprocess.TimeoutExpired) as e:
                self.violation("read", str(e))
                continue
            self.n["stats_samples"] += 1
            got = {rid: text for rid, (text, _, _) in cur_s[1].items()}
            if got != self.model:
                self.violation("rules", "the rule set read back %s, the "
                               "changes made %s" % (got, self.model))
                self.model = got
            self.compare("stats --json", prev_s, cur_s, pending, "stats")
            self.n["scrapes"] += 1
            self.compare_metrics(prev_m, cur_m, pending)
            pending = set()
            prev_s, prev_m = cur_s, cur_m
            self.readers_alive()
            self.top_poke()
            with self.lock:
                if self.t % self.rss_every == 0 and \
                   self.top_bytes == last_top:
                    self.violation("liveness", "top drew nothing for %d s"
                                   % self.rss_every)
                if self.t % self.rss_every == 0:
                    last_top = self.top_bytes
            if self.t % self.rss_every == 0:
                self.rss_sample()
            if self.t % self.quiet_every == 0 or self.t == self.secs:
                start += self.quiet_point()
                # the next second's counters against these
                prev_s = stats_counters(self.tf_json("stats", self.ifname,
                                                     "--json"))
                prev_m = self.scrape()
        if self.t % self.rss_every:
            self.rss_sample()
        self.finish()
        self.report()
        return 1 if sum(self.violations.values()) else 0

    def finish(self):
        """The load stops; the readers are asked to quit and must exit 0."""
        open(os.path.join(self.tmpd, "stop"), "w").close()
        self.stop.set()
        with self.flood_lock:
            pass
        self.exits = {}
        os.write(self.top_fd, b"q")
        for name, sig in (("top", None), ("watch", signal.SIGINT),
                          ("exporter", signal.SIGTERM), ("req", None),
                          ("hold", None), ("odd", None)):
            p = self.procs[name]
            if sig:
                p.send_signal(sig)
            try:
                self.exits[name] = p.wait(15)
            except subprocess.TimeoutExpired:
                self.exits[name] = "hung"
                p.kill()
                p.wait()
            if name in ("top", "watch", "exporter") and self.exits[name] != 0:
                self.violation("liveness", "%s exited %s when asked to quit"
                               % (name, self.exits[name]))
        self.procs["httpd"].terminate()
        self.procs["httpd"].wait()
        if not self.top_seen_if:
            self.violation("liveness", "top never showed %s" % self.ifname)
        for name in ("exporter", "watch", "top"):
            path = os.path.join(self.tmpd, name + ".err")
            if os.path.exists(path) and os.path.getsize(path):
                with open(path) as f:
                    self.violation("liveness", "%s wrote on stderr: %s" %
                                   (name, f.read(300).strip()))

    def load(self, name):
        try:
            with open(os.path.join(self.tmpd, name)) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def report(self):
        req, hold, odd = (self.load(n) for n in ("req.json", "hold.json",
                                                  "odd.json"))
        row = lambda a, b: print("%-40s %s" % (a, b))
        print()
        print("soak: %d s of load, seed %d; %.0f s in all with the quiet "
              "points" % (self.secs, self.seed, time.monotonic() - self.began))
        print()
        row("what", "figure")
        row("changes (one a second)", "%d: %s; failed %d" % (
            sum(v for k, v in self.changes.items() if "_" not in k),
            ", ".join("%s %d" % kv for kv in sorted(self.changes.items())
                      if "_" not in kv[0]), self.failed_changes))
        row("  list changes", ", ".join(
            "%s %d" % (k[5:], v) for k, v in sorted(self.changes.items())
            if k.startswith("list_")))
        row("  longest a second's work ran late", "%.2f s" % self.lag)
        row("  slowest command of each kind", ", ".join(
            "%s %.2f s" % kv for kv in sorted(self.slowest.items(),
                                              key=lambda kv: -kv[1])))
        row("flood: spoofed SYNs sent", "%d in %.0f s of flood (%.0f/s; "
            "--rate %d)" % (self.flood_sent, self.flood_time,
                            self.flood_sent / max(self.flood_time, 1),
                            self.rate))
        row("real requests ok / failed", "%s / %s (p50 %.1f ms, p99 %.1f ms)"
            % (req.get("ok"), req.get("failed"), req.get("p50", 0),
               req.get("p99", 0)))
        row("held connections opened", "%s (closed: fin %s, rst %s, "
            "served %s; failed opens %s)" % (
                hold.get("opened"), hold.get("closed_fin"),
                hold.get("closed_rst"), hold.get("closed_served"),
                hold.get("open_failed", 0)))
        row("odd flag segments sent", odd.get("sent"))
        row("stats --json samples / comparisons", "%d / %d" %
            (self.n["stats_samples"], self.n["stats_compared"]))
        row("  rule counters restarted", "%d (each where its rule was "
            "made anew that second)" % self.restarts)
        row("/metrics scrapes / comparisons", "%d / %d" %
            (self.n["scrapes"], self.n["metrics_compared"]))
        row("stats --watch lines / comparisons", "%d / %d (longest gap "
            "%.1f s)" % (self.n["watch_lines"], self.n["watch_compared"],
                         self.watch_max_gap))
        row("quiet points / gauges checked", "%d / %d" %
            (len(self.quiet_rows), self.n["gauges_checked"]))
        row("  stats and /metrics agreed", "%d of %d quiet points "
            "(the rest: traffic between the reads)" % (
                self.n["agree_checked"],
                self.n["agree_checked"] + self.n["agree_skipped"]))
        row("top output", "%d bytes, %d keys and resizes, exit %s" % (
            self.top_bytes, self.secs // 5, self.exits.get("top")))
        row("readers' exits (watch, exporter)", "%s, %s" % (
            self.exits.get("watch"), self.exits.get("exporter")))
        print()
        print("quiet points: the gauges (each equal to its recount)")
        print("%6s %8s %8s %8s %9s %6s %8s %6s %6s %8s %6s" % (
            "t", "syn_recv", "syn_sent", "estab", "time_wait", "other",
            "flows", "verif", "lists", "sockets", "reads"))
        for t, g, nflows, sockets, reads in self.quiet_rows:
            other = sum(g["states." + s] for s in GAUGE_STATES
                        if s not in ("syn_recv", "syn_sent", "established",
                                     "time_wait"))
            print("%6d %8d %8d %8d %9d %6d %8d %6d %6s %8d %6s" % (
                t, g["states.syn_recv"], g["states.syn_sent"],
                g["states.established"], g["states.time_wait"], other,
                nflows, g["verified"], "%d/%d" % (g["allow"], g["deny"]),
                sockets, reads))
        print()
        print("memory (VmRSS, KiB): the first reading after the warm-up "
              "(t >= %d s) against the last" % self.rss_every)
        print("%-10s %8s %8s %8s %8s  %s" % ("process", "first", "last",
                                           "growth", "bound", "verdict"))
        for name in ("top", "watch", "exporter"):
            s = self.rss.get(name, [])
            after = [kb for t, kb in s if t >= self.rss_every] or \
                [kb for _, kb in s]
            first, last = after[0], after[-1]
            ok = first > 0 and last > 0 and last - first <= self.rss_bound
            if not ok:
                self.violation("memory", "%s: %d -> %d KiB" %
                               (name, first, last))
            print("%-10s %8d %8d %+8d %8d  %s" % (
                name, first, last, last - first, self.rss_bound,
                "ok" if ok else "OVER"))
        for name in ("top", "watch", "exporter"):
            print("  %s at t=%s: %s" % (
                name, ",".join(str(t) for t, _ in self.rss[name]),
                " ".join(str(kb) for _, kb in self.rss[name])))
        print()
        total = sum(self.violations.values())
        print("soak: %d violations%s" % (total, (": " + ", ".join(
            "%s %d" % kv for kv in sorted(self.violations.items())))
            if total else ""))


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "client":
        {"req": client_req, "hold": client_hold,
         "odd": client_odd}[sys.argv[2]](sys.argv[3])
        return 0
    faulthandler.register(signal.SIGUSR1)   # kill -USR1: where it is
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    soak = Soak()
    try:
        return soak.run()
    finally:
        open(os.path.join(soak.tmpd, "stop"), "w").close()
        soak.stop.set()
        for p in soak.procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()


if __name__ == "__main__":
    sys.exit(main())
