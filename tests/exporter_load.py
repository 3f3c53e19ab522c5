#!/usr/bin/python3
# exporter_load.py - hold slow clients on `tcpflags exporter` and fire a
# burst of scrapes at it, and time a normal scrape (curl) meanwhile.
#
#   exporter_load.py --port P --pid PID --slow N [--burst M] --body FILE
#                    [--held N2]
#
# 1. N slow clients connect and send half a request, then one more header
#    line every 2 s (a slowloris: never idle long enough to time out).
#    It waits until the exporter holds N2 of them (its socket count, from
#    /proc/PID/fd; N2 defaults to N) or has closed N - N2 (--held below N:
#    past its limit it closes the ones idle longest).
# 2. M scrapes connect at once (GET /metrics, Connection: close), each read
#    to its end.  Once half of them have connected, a normal scrape runs:
#    curl --max-time 1 (the acceptance's deadline), its body to FILE.
# 3. When the burst is over: another normal scrape (FILE.after), then the
#    slow clients go and it waits until the exporter's sockets are back.
# Every wait is for an event, with a generous deadline.  It prints one
# "key value..." line per figure:
#   slow_held, slow_closed (by the exporter), burst_ok, burst_failed,
#   burst_ms p50 p99 max, normal_during CODE SECONDS, normal_after CODE
#   SECONDS, rss_kb before peak after (VmRSS; peak is VmHWM, reset first).
import argparse
import asyncio
import os
import re
import socket
import sys
import time

DEADLINE = 60.0        # generous: for events, never a measure


def sockets(pid):
    n = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            n += os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith("socket:")
        except OSError:
            pass
    return n


async def connect(port):
    # a socket of its own: open_connection("127.0.0.1") would resolve the
    # name in a pool of 6 threads, a queue of its own under a burst
    s = socket.socket()
    s.setblocking(False)
    try:
        await asyncio.get_running_loop().sock_connect(s, ("127.0.0.1", port))
    except OSError:
        s.close()
        raise
    return await asyncio.open_connection(sock=s)


def status_kb(pid, key):
    with open("/proc/%d/status" % pid) as f:
        m = re.search(r"^%s:\s+(\d+) kB" % key, f.read(), re.M)
    return int(m.group(1))


async def until(cond, what):
    end = time.monotonic() + DEADLINE
    while not cond():
        if time.monotonic() > end:
            raise SystemExit("timed out waiting for %s" % what)
        await asyncio.sleep(0.02)


class Load:
    def __init__(self, a):
        self.a = a
        self.slow_closed = 0
        self.stop = asyncio.Event()
        self.tried = 0                  # burst scrapes that connected or failed
        self.half = asyncio.Event()
        self.lat = []
        self.failed = 0

    async def slow(self):
        a = self.a
        try:
            r, w = await connect(a.port)
        except OSError:
            self.slow_closed += 1
            return
        w.write(b"GET /metrics HTTP/1.1\r\nHost: load\r\n")
        try:
            while not self.stop.is_set():
                try:
                    if not await asyncio.wait_for(r.read(1), 2.0):
                        break           # closed by the exporter
                except asyncio.TimeoutError:
                    w.write(b"X-Slow: 1\r\n")
                    await w.drain()
        except OSError:
            pass
        if not self.stop.is_set():
            self.slow_closed += 1
        w.close()

    async def scrape(self):
        start = time.monotonic()
        try:
            r, w = await connect(self.a.port)
        except OSError:
            r = None
        self.tried += 1
        if self.tried * 2 >= self.a.burst:
            self.half.set()
        try:
            if not r:
                raise ConnectionError
            w.write(b"GET /metrics HTTP/1.1\r\nHost: load\r\n"
                    b"Connection: close\r\n\r\n")
            data = await r.read(-1)
            w.close()
        except OSError:
            self.failed += 1
            return
        head, _, body = data.partition(b"\r\n\r\n")
        m = re.search(rb"^content-length: *(\d+)", head, re.M | re.I)
        if (head.startswith(b"HTTP/1.1 200 ") and m and
                int(m.group(1)) == len(body) and b"tcpflags_up{" in body):
            self.lat.append(time.monotonic() - start)
        else:
            self.failed += 1

    async def curl(self, path):
        p = await asyncio.create_subprocess_exec(
            "curl", "-s", "--noproxy", "*", "--max-time", "1", "-o", path,
            "-w", "%{http_code} %{time_total}",
            "http://127.0.0.1:%d/metrics" % self.a.port,
            stdout=asyncio.subprocess.PIPE)
        out, _ = await p.communicate()
        return out.decode() or "000 -"


async def main(a):
    L = Load(a)
    base = sockets(a.pid)
    before = status_kb(a.pid, "VmRSS")
    with open("/proc/%d/clear_refs" % a.pid, "w") as f:
        f.write("5")                    # VmHWM from here on
    slow = [asyncio.ensure_future(L.slow()) for _ in range(a.slow)]
    held = a.held if a.held is not None else a.slow
    await until(lambda: sockets(a.pid) >= base + held and
                L.slow_closed >= a.slow - held, "the slow clients held")
    print("slow_held", sockets(a.pid) - base)
    burst = [asyncio.ensure_future(L.scrape()) for _ in range(a.burst)]
    if a.burst:
        await asyncio.wait_for(L.half.wait(), DEADLINE)
    print("normal_during", await L.curl(a.body))
    if burst:
        await asyncio.wait_for(asyncio.gather(*burst), DEADLINE)
    print("normal_after", await L.curl(a.body + ".after"))
    peak = status_kb(a.pid, "VmHWM")
    closed = L.slow_closed
    L.stop.set()
    await asyncio.wait_for(asyncio.gather(*slow), DEADLINE)
    await until(lambda: sockets(a.pid) <= base, "the exporter's sockets back")
    lat = sorted(L.lat) or [0]
    print("slow_closed", closed)
    print("burst_ok", len(L.lat))
    print("burst_failed", L.failed)
    print("burst_ms %d %d %d" % (1000 * lat[len(lat) // 2],
                                 1000 * lat[len(lat) * 99 // 100],
                                 1000 * lat[-1]))
    print("rss_kb", before, peak, status_kb(a.pid, "VmRSS"))


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--slow", type=int, required=True)
    p.add_argument("--held", type=int)
    p.add_argument("--burst", type=int, default=0)
    p.add_argument("--body", required=True)
    asyncio.run(main(p.parse_args()))
    sys.stdout.flush()
