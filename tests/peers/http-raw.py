#!/usr/bin/python3
"""Sends raw bytes to an HTTP server and prints what comes back, for hcproxy's tests of request
framing (RFC 9112 s6): a test writes the exact bytes, smuggled second request included, without
an HTTP client library tidying them up.

Usage: http-raw.py HOST:PORT BYTES
BYTES is Python-escaped text ("\\r\\n" for CRLF). The bytes go out in one write; the answers are
read until the server closes the connection or 3 s pass quietly. Prints the status line of each
answer ("HTTP/1.1 400 Bad Request"), then "closed" when the server closed the connection, or
"open" when it kept it. Only the standard library is used.
"""
import re
import select
import socket
import sys
import time

host, port = sys.argv[1].rsplit(":", 1)
data = sys.argv[2].encode("latin-1").decode("unicode_escape").encode("latin-1")
sock = socket.create_connection((host, int(port)), timeout=5)
sock.sendall(data)
received, closed = b"", False
deadline = time.monotonic() + 3
while time.monotonic() < deadline:
    if not select.select([sock], [], [], deadline - time.monotonic())[0]:
        break
    try:
        chunk = sock.recv(65536)
    except ConnectionResetError:
        closed = True
        break
    if not chunk:
        closed = True
        break
    received += chunk
    deadline = time.monotonic() + 1  # quiet for 1 s after the last bytes: nothing more is coming
for line in re.findall(rb"HTTP/1\.[01] \d{3}[^\r\n]*", received):
    print(line.decode("latin-1"))
print("closed" if closed else "open")
