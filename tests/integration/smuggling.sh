#!/usr/bin/env bash
# Request smuggling (RFC 9112 s6.3, s3.2): a request whose body could be delimited two ways, or
# whose Host is missing or doubled, is answered 400 (501 for a coding hcproxy does not decode)
# and the connection closed, so the bytes after it never run as a second request. Raw bytes go
# out through tests/peers/http-raw.py; each line of its output is a status line, then
# "closed" or "open".
. "$(dirname "$0")/lib.sh"

HTTPRAW="${HTTPRAW:-$(dirname "$0")/../peers/http-raw.py}"
start_hcproxy
raw() { "$PY" "$HTTPRAW" "$PROXY" "$1" | paste -sd'|' -; }
SECOND='GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n'
POST='POST /hc/coap://127.0.0.1:9/x HTTP/1.1\r\nHost: a\r\n'

expect_eq "rfc9112-6.3 Content-Length with Transfer-Encoding: 400, closed, the rest never runs" \
    "HTTP/1.1 400 Bad Request|closed" \
    "$(raw "${POST}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n$SECOND")"
expect_eq "rfc9112-6.3 ... Transfer-Encoding first" "HTTP/1.1 400 Bad Request|closed" \
    "$(raw "${POST}Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n$SECOND")"
expect_eq "rfc9112-6.3 two different Content-Lengths: 400, closed" "HTTP/1.1 400 Bad Request|closed" \
    "$(raw "${POST}Content-Length: 4\r\nContent-Length: 40\r\n\r\nabcd$SECOND")"
# libmicrohttpd refuses this one itself, and on 0.9.75 answers what follows 400 once more.
expect_match "rfc9112-6.3 a Content-Length list: 400, closed" '^HTTP/1.1 400 Bad Request(\|HTTP/1.1 400 Bad Request)?\|closed$' \
    "$(raw "${POST}Content-Length: 4, 40\r\n\r\nabcd$SECOND")"
expect_eq "rfc9112-6.1 Transfer-Encoding twice: 400, closed" "HTTP/1.1 400 Bad Request|closed" \
    "$(raw "${POST}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n$SECOND")"
# libmicrohttpd 0.9.75 hands this one to hcproxy, which answers 501 (RFC 9112 s6.1); 1.0 refuses
# the coding itself with its own 400 ("Unsupported Transfer-Encoding" in the log), and closes too.
out=$(raw "${POST}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n$SECOND")
want="HTTP/1.1 501 Not Implemented|closed"
grep -q "Unsupported Transfer-Encoding" "$WORK/hcproxy.log" && want="HTTP/1.1 400 Bad Request|closed"
expect_eq "rfc9112-6.1 a coding before chunked: 501 (libmicrohttpd 1.0: its 400), closed" "$want" "$out"
expect_eq "rfc9112-6.1 Transfer-Encoding in HTTP/1.0: 400, closed" "HTTP/1.1 400 Bad Request|closed" \
    "$(raw "POST /hc/coap://127.0.0.1:9/x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n$SECOND")"
expect_eq "rfc9112-3.2 HTTP/1.1 without Host: 400, closed" "HTTP/1.1 400 Bad Request|closed" \
    "$(raw "GET /healthz HTTP/1.1\r\n\r\n$SECOND")"
expect_eq "rfc9112-3.2 two Host fields: 400, closed" "HTTP/1.1 400 Bad Request|closed" \
    "$(raw "GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n$SECOND")"
out=$(curl -s --max-time 5 -H 'Host:' -H 'Host: a' -H 'Host: b' "http://$PROXY/healthz")
expect_eq "... with the reason in the body" "an HTTP/1.1 request needs exactly one Host header field" "$out"

# What is well framed still works, pipelined too.
expect_eq "HTTP/1.0 without Host is served" "HTTP/1.1 200 OK|closed" \
    "$(raw 'GET /healthz HTTP/1.0\r\n\r\n')"
expect_eq "two pipelined requests, each well framed, both answered, the connection kept" \
    "HTTP/1.1 200 OK|HTTP/1.1 200 OK|open" "$(raw "$SECOND$SECOND")"
expect_eq "a chunked body alone is read" "HTTP/1.1 404 Not Found|open" \
    "$(raw 'POST /nowhere HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n')"

done_testing
