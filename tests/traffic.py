#!/usr/bin/python3
# traffic.py - the traffic of tests/integration/80-upgrade.sh, each kind
# running until the file STOP exists, then printing what it did as JSON:
#   echo PORT                         a line echo server (until killed)
#   hold HOST PORT N STOP             N connections held open, a line each
#                                     every 20 ms, each echo checked
#   conns HOST PORT STOP              one HTTP GET per new connection,
#                                     10 ms apart
#   synfin IFACE SRC DST DPORT PEERMAC RATE STOP
#                                     Ethernet frames of TCP SYN|FIN, RATE/s
#   sniff IFACE DPORT STOP            count TCP frames the stack receives
#                                     (after XDP), and the SYN|FIN to DPORT
import json
import os
import socket
import struct
import sys
import threading
import time


def stopped(path):
    return os.path.exists(path)


def echo(port):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", port))
    srv.listen(64)

    def serve(c):
        f = c.makefile("rwb", buffering=0)
        for line in f:
            f.write(line)

    while True:
        c, _ = srv.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


def hold(host, port, n, stop):
    socks = [socket.create_connection((host, port), timeout=10) for _ in range(n)]
    files = [s.makefile("rwb", buffering=0) for s in socks]
    sent = [0] * n
    errors = 0
    ready = stop + ".held"
    open(ready, "w").close()
    while not stopped(stop):
        for i, f in enumerate(files):
            msg = b"%d %d\n" % (i, sent[i])
            try:
                f.write(msg)
                if f.readline() != msg:
                    errors += 1
            except OSError:
                errors += 1
            sent[i] += 1
        time.sleep(0.02)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    print(json.dumps({"ports": ports, "sent": sent, "errors": errors}))


def conns(host, port, stop):
    ok = failed = 0
    while not stopped(stop):
        try:
            with socket.create_connection((host, port), timeout=10) as s:
                s.sendall(b"GET / HTTP/1.0\r\n\r\n")
                data = b""
                while True:
                    b = s.recv(4096)
                    if not b:
                        break
                    data += b
            if data.startswith(b"HTTP/1.0 200"):
                ok += 1
            else:
                failed += 1
        except OSError:
            failed += 1
        time.sleep(0.01)
    print(json.dumps({"ok": ok, "failed": failed}))


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def synfin(iface, src, dst, dport, peer, rate, stop):
    src = socket.inet_aton(src)
    dst = socket.inet_aton(dst)
    tcp = struct.pack("!HHIIBBHHH", 40000, dport, 1, 0, 5 << 4, 0x03,
                      1024, 0, 0)
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64, 6,
                     0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    own = s.getsockname()[4]
    frame = bytes.fromhex(peer.replace(":", "")) + own + b"\x08\x00" + ip + tcp
    sent = 0
    start = time.monotonic()
    while not stopped(stop):
        s.send(frame)
        sent += 1
        ahead = start + sent / rate - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
    print(json.dumps({"sent": sent}))


def sniff(iface, dport, stop):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
    s.bind((iface, 0))
    s.settimeout(0.2)
    tcp = synfins = 0
    open(stop + ".sniffing", "w").close()
    while not stopped(stop):
        try:
            f, addr = s.recvfrom(2048)
        except socket.timeout:
            continue
        if addr[2] == socket.PACKET_OUTGOING or len(f) < 34 or f[23] != 6:
            continue
        ihl = (f[14] & 15) * 4
        t = 14 + ihl
        if len(f) < t + 14:
            continue
        tcp += 1
        if struct.unpack("!H", f[t + 2:t + 4])[0] == dport and \
                f[t + 13] & 0x03 == 0x03:
            synfins += 1
    print(json.dumps({"tcp": tcp, "synfin": synfins}))


def main():
    a = sys.argv[1:]
    if a[0] == "echo":
        echo(int(a[1]))
    elif a[0] == "hold":
        hold(a[1], int(a[2]), int(a[3]), a[4])
    elif a[0] == "conns":
        conns(a[1], int(a[2]), a[3])
    elif a[0] == "synfin":
        synfin(a[1], a[2], a[3], int(a[4]), a[5], float(a[6]), a[7])
    elif a[0] == "sniff":
        sniff(a[1], int(a[2]), a[3])


main()
