#!/usr/bin/python3
# httpd.py PORT [BODY]: the labs' HTTP server (the guard's tests and
# scripts/bench-guard.sh).  One socket for IPv4 and IPv6 on PORT, with the
# listen backlog of a real server (1024; python's http.server has 5), a
# thread a connection; GET answers 200 with BODY (default "ok") and a
# newline.  Runs until killed.
import socket
import sys
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler

BODY = ((sys.argv[2] if len(sys.argv) > 2 else "ok") + "\n").encode()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6
    request_queue_size = 1024
    daemon_threads = True

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


Server(("::", int(sys.argv[1])), Handler).serve_forever()
