#!/usr/bin/python3
"""An HTTP origin for hcproxy's reverse-direction tests (CoAP client -> hcproxy -> HTTP).

Usage: http-origin.py RECORD_FILE [CERT_PEM KEY_PEM] [--reset-reused]
Binds 127.0.0.1 on a port the kernel picks and prints "ready PORT"; with a certificate and key it
speaks HTTPS. With --reset-reused every connection carries one answer: it stays open after it,
kept alive as far as the client can tell, and is reset (RST) when the next request arrives on it:
a server closing an idle connection just as the client reuses it (RFC 9112 s9.3.1), every time;
the request line that arrived on it goes to RECORD_FILE.all as "reset METHOD TARGET".
tinyproxy 1.11 closes each client connection after one answer without "Connection: close", and a
client that reuses it before the close arrives meets the same reset. The last request is written to
RECORD_FILE (method, target, headers, body in hex), so a test can compare what arrived, and every
request line is appended to RECORD_FILE.all, so a test can count what reached the origin.

  GET /hello            200 text/plain "hello from http"
  * /echo               the request body back with its Content-Type (200); DELETE: 204
  GET /status/N         status N with the body "status N"
  GET /slow?ms=N        200 "slow" after N ms (a thread per request keeps the others going)
  GET /bytes?n=N        N bytes (i % 256), application/octet-stream
  POST /created         201 with Location: /items/42
  POST /sha256          200 with the hex SHA-256 of the body (for large uploads)
  GET /etag             ETag "0a1b"; with If-None-Match: "0a1b", 304
  GET /cache            Cache-Control: max-age=30
  * /redirect?code=N&to=URL   status N (307 unless given) with Location: URL
  * /hops/N               308 to /hops/N-1 (a relative Location); /hops/0: 200 "METHOD BODY"
  POST /                RFC 8613 Appendix C: with OSCORE: CRQ and the C.4 ciphertext, 200 +
                        OSCORE: AA + application/oscore + the C.7 ciphertext; else 400
"""
import hashlib
import socket
import ssl
import struct
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

C4_CIPHERTEXT = bytes.fromhex("612f1092f1776f1c1668b3825e")
C7_CIPHERTEXT = bytes.fromhex("dbaad1e9a7e7b2a813d3c31524378303cdafae119106")
RECORD = sys.argv[1]
RESET_REUSED = "--reset-reused" in sys.argv[2:]
TLS_FILES = [a for a in sys.argv[2:] if a != "--reset-reused"]


class Origin(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_one_request(self):
        if RESET_REUSED and getattr(self, "answered", False):
            line = self.rfile.readline()  # the next request (or the client's close) is here
            if line:  # it reached the origin, which then fails before answering
                with open(RECORD + ".all", "a") as f:
                    f.write("reset " + line.decode("latin-1").rsplit(" ", 1)[0] + "\n")
            # Linger 0: close() sends RST at once, without the FIN that shutdown() would send first.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            socket.socket(fileno=self.connection.detach()).close()
            self.close_connection = True
            return
        super().handle_one_request()
        self.answered = True

    def _body(self):
        n = int(self.headers.get("Content-Length", "0") or 0)
        return self.rfile.read(n) if n else b""

    def _record(self, body):
        with open(RECORD, "w") as f:
            f.write(f"{self.command} {self.path}\n")
            for name, value in self.headers.items():
                f.write(f"{name.lower()}: {value}\n")
            f.write(f"body:{body.hex()}\n")
        with open(RECORD + ".all", "a") as f:
            f.write(f"{self.command} {self.path}\n")

    def _send(self, status, body=b"", ctype="text/plain; charset=utf-8", extra=()):
        self.send_response(status)
        if body or status not in (204, 304):
            self.send_header("Content-Type", ctype)
        for name, value in extra:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _handle(self):
        body = self._body()
        self._record(body)
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        path = url.path
        if path == "/hello":
            return self._send(200, b"hello from http")
        if path == "/echo":
            if self.command == "DELETE":
                return self._send(204)
            return self._send(200, body, self.headers.get("Content-Type", "application/octet-stream"))
        if path.startswith("/status/"):
            code = int(path.rsplit("/", 1)[1])
            return self._send(code, f"status {code}".encode())
        if path == "/slow":
            time.sleep(int(query.get("ms", "1000")) / 1000)
            return self._send(200, b"slow")
        if path == "/bytes":
            n = int(query.get("n", "0"))
            time.sleep(int(query.get("ms", "0")) / 1000)
            return self._send(200, bytes(i % 256 for i in range(n)), "application/octet-stream")
        if path == "/sha256":
            return self._send(200, hashlib.sha256(body).hexdigest().encode())
        if path == "/created":
            return self._send(201, b"", extra=[("Location", "/items/42")])
        if path == "/etag":
            if self.headers.get("If-None-Match") == '"0a1b"':
                return self._send(304, extra=[("ETag", '"0a1b"')])
            return self._send(200, b"tagged", extra=[("ETag", '"0a1b"')])
        if path == "/cache":
            return self._send(200, b"fresh", extra=[("Cache-Control", "max-age=30")])
        if path == "/redirect":
            code = int(query.get("code", "307"))
            return self._send(code, b"moved", extra=[("Location", query.get("to", "/hello"))])
        if path.startswith("/hops/"):
            left = int(path.rsplit("/", 1)[1])
            if left > 0:
                return self._send(308, b"", extra=[("Location", str(left - 1))])
            return self._send(200, self.command.encode() + b" " + body)
        if path == "/" and self.command == "POST":
            if self.headers.get("OSCORE") == "CRQ" and body == C4_CIPHERTEXT:
                return self._send(200, C7_CIPHERTEXT, "application/oscore", [("OSCORE", "AA")])
            return self._send(400, b"not the C.4 request")
        return self._send(404, b"no such origin resource")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Origin)
    server.daemon_threads = True
    if len(TLS_FILES) == 2:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(TLS_FILES[0], TLS_FILES[1])
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    print(f"ready {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
