#!/usr/bin/python3
"""Sends GET requests of every size in a range to an HTTP server, each on a fresh connection, and
says how each was answered, for hcproxy's tests of the edge of http.max_header_bytes: a request
whose line and headers leave libmicrohttpd's pool too little room for the answer must still get
one.

Usage: http-sweep.py HOST:PORT PATH FIRST LAST STEP [CA_FILE]
Each request is "GET PATH HTTP/1.1", "Host: x" and an X-Padding header that makes the request line
and headers exactly SIZE bytes, for SIZE from FIRST to LAST by STEP. With CA_FILE the connection is
TLS, the server's certificate checked against it. Prints one line per request: SIZE, then
"served" (a 2xx or 5xx), "431-hcproxy" (a 431 whose body names http.max_header_bytes),
"431-libmicrohttpd" (any other 431), "closed" (no answer before the connection closed), "tls-error:REASON"
(no TLS session) or the status code. Only the standard library is used.
"""
import socket
import ssl
import sys

host, port = sys.argv[1].rsplit(":", 1)
path, first, last, step = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
tls = ssl.create_default_context(cafile=sys.argv[6]) if len(sys.argv) > 6 else None
if tls is not None:
    # Python 3.13's default strict checks want extensions the tests' own CA leaves out
    # (lib.sh test_ca): the chain is still checked.
    tls.verify_flags &= ~getattr(ssl, "VERIFY_X509_STRICT", 0)


def answer(sock):
    """The status code and body of the first answer, or None when the connection closed first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = [l.split(b":", 1)[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
    while length and len(body) < int(length[0]):
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head.split(b" ")[1].decode(), body.decode(errors="replace")


def ask(size):
    base = "GET %s HTTP/1.1\r\nHost: x\r\n" % path
    pad = size - len(base) - len("X-Padding: \r\n\r\n")
    sock = socket.create_connection((host, int(port)), timeout=10)
    try:
        if tls is not None:
            try:
                sock = tls.wrap_socket(sock, server_hostname=host)
            except ssl.SSLError as e:
                return "tls-error:%s" % e.reason
        sock.sendall((base + "X-Padding: %s\r\n\r\n" % ("a" * pad)).encode())
        got = answer(sock)
    except OSError:
        got = None
    finally:
        sock.close()
    if got is None:
        return "closed"
    if got[0] == "431":
        return "431-hcproxy" if "http.max_header_bytes" in got[1] else "431-libmicrohttpd"
    return "served" if got[0][0] in "25" else got[0]


for size in range(first, last + 1, step):
    print(size, ask(size), flush=True)
