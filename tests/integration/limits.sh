#!/usr/bin/env bash
# Limits on what one client may take: http.rate_limit (429 with Retry-After), the connections
# of one client address (http.max_connections_per_client), and the time a client has to send a
# whole request (http.request_timeout_s), so that a slowloris cannot hold a connection slot;
# in-flight exchanges to one CoAP server; the size of a request's line and headers, and that every
# request near that size gets one answer.
. "$(dirname "$0")/lib.sh"
HTTPSWEEP="${HTTPSWEEP:-$(dirname "$0")/../peers/http-sweep.py}"

start_testserver
start_hcproxy --http-rate-limit 2 --http-max-connections-per-client 3 --http-request-timeout-s 1
U="http://$PROXY/hc/coap://127.0.0.1:$TS_PORT/echo"

# A slowloris: the request line, then a header byte now and then, never the end of the headers.
"$PY" - "$PROXY" >"$WORK/slow" 2>&1 <<'PYEOF' &
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)))
s.sendall(b"GET /hc/coap://127.0.0.1/echo HTTP/1.1\r\nHost: x\r\n")
start = time.monotonic()
print("dripping", flush=True)
try:
    while time.monotonic() - start < 10:
        s.sendall(b"X")
        time.sleep(0.2)
        s.settimeout(0.01)
        try:
            if s.recv(1) == b"":
                break
        except socket.timeout:
            pass
        s.settimeout(None)
    print("closed after %.1f s" % (time.monotonic() - start))
except OSError:
    print("closed after %.1f s" % (time.monotonic() - start))
PYEOF
SLOW=$!
PIDS+=($SLOW)
wait_for 5 grep -q dripping "$WORK/slow"
http "$U?meanwhile"  # served while the slow client is still dripping
expect_eq "a normal request is served beside the slow client" "200 meanwhile" "$STATUS $BODY"
wait "$SLOW" || true
expect_match "the slow client's connection is closed once http.request_timeout_s (1 s) has passed" \
    "^closed after [1-3]\." "$(grep closed "$WORK/slow")"
expect_match "... and the log says why" "no whole request within 1s" "$(cat "$WORK/hcproxy.log")"

# Three idle connections from one address are the most it may have: a fourth is not served.
"$PY" - "$PROXY" >"$WORK/idle" 2>&1 <<'PYEOF' &
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
held = [socket.create_connection((host, int(port))) for _ in range(3)]
print("holding", flush=True)
time.sleep(0.8)
PYEOF
IDLE=$!
PIDS+=($IDLE)
wait_for 5 grep -q holding "$WORK/idle"
http "http://$PROXY/healthz"
expect_eq "http.max_connections_per_client 3: a fourth connection is refused" "000" "$STATUS"
wait "$IDLE" || true
if wait_for 5 sh -c "curl -s -o /dev/null -w '%{http_code}' 'http://$PROXY/healthz' | grep -q 200"; then
    ok "... and served once the others have gone"
else
    not_ok "... and served once the others have gone"
fi

# Twenty requests at once on one connection, at http.rate_limit 2: the bucket holds two, and
# refills one every 0.5 s, so however slow this machine, most are refused, each with Retry-After
# and its reason, and none is lost.
curl -s --max-time 20 -w '%{http_code} %header{retry-after}\n' \
    $(for i in $(seq 20); do echo "-o $WORK/rate.$i $U?$i"; done) >"$WORK/codes"
served=$(grep -c '^200 $' "$WORK/codes" || true)
refused=$(grep -c '^429 1$' "$WORK/codes" || true)
if [ "$served" -ge 2 ] && [ "$refused" -ge 10 ] && [ $((served + refused)) -eq 20 ]; then
    ok "http.rate_limit 2: twenty requests at once, $served served, $refused answered 429 with Retry-After: 1"
else
    not_ok "http.rate_limit 2: twenty requests at once, 2+ served, the rest 429 with Retry-After: 1" \
        "$(tr '\n' '|' <"$WORK/codes")"
fi
expect_eq "... each 429 with its reason" "$refused" \
    "$(grep -l 'too many requests from this client' "$WORK"/rate.* | wc -l)"
http "http://$PROXY/healthz"
expect_eq "/healthz is not rate limited (a container's health check)" 200 "$STATUS"
if wait_for 5 sh -c "curl -s -o /dev/null -w '%{http_code}' '$U?later' | grep -q 200"; then
    ok "a second later the bucket has refilled"
else
    not_ok "a second later the bucket has refilled"
fi

# upstream.max_inflight_per_server 2: a third exchange to one slow CoAP server is refused with
# 503 at once, while another server is still served.
expect_clean_exit
start_testserver
OTHER=$TS_PORT
start_testserver
start_hcproxy --upstream-max-inflight-per-server 2 --upstream-nstart 4
SLOW="http://$PROXY/hc/coap://127.0.0.1:$TS_PORT/slow?ms=1500"
curl -s --max-time 10 -o /dev/null -w '%{http_code}\n' "$SLOW" >"$WORK/slow.1" &
S1=$!
curl -s --max-time 10 -o /dev/null -w '%{http_code}\n' "$SLOW" >"$WORK/slow.2" &
S2=$!
wait_for 5 sh -c "curl -s 'http://$PROXY/metrics' | grep -q '^hcproxy_exchanges_inflight 2$'"
http "$SLOW"
expect_eq "a third exchange in flight to one server: 503" 503 "$STATUS"
expect_match "... with its reason" "too many exchanges in flight" "$BODY"
http "http://$PROXY/hc/coap://127.0.0.1:$OTHER/echo?other"
expect_eq "... while another server is served" "200 other" "$STATUS $BODY"
wait "$S1" "$S2" || true
expect_eq "... and the first two are answered" "200 200" "$(cat "$WORK/slow.1") $(cat "$WORK/slow.2")"

# http.max_header_bytes (1024 here) bounds the request line and the headers together: a longer
# URI is a 414, bigger headers a 431, each saying why; the next request is served.
expect_clean_exit
start_hcproxy --http-max-header-bytes 1024
long=$(printf 'a%.0s' $(seq 1100))
http "http://$PROXY/hc/coap://127.0.0.1:$OTHER/echo?$long"
expect_eq "a request-target over http.max_header_bytes: 414" 414 "$STATUS"
expect_match "... saying the request is too big" "too big" "$BODY"
http -H "X-Padding: $long" "http://$PROXY/hc/coap://127.0.0.1:$OTHER/echo?x"
expect_eq "headers over http.max_header_bytes: 431" 431 "$STATUS"
expect_match "... saying so" "too big" "$BODY"
http "http://$PROXY/hc/coap://127.0.0.1:$OTHER/echo?after"
expect_eq "... and the next request is served" "200 after" "$STATUS $BODY"

# Requests of every size across the edges of the pool, each on a fresh connection: served while the
# answer's header block still fits in what the request left of http.max_header_bytes, then
# hcproxy's own 431 (HEADERROOM) with its reason, then libmicrohttpd's 431 once the request
# itself does not fit; never a connection closed with no answer (which libmicrohttpd did when the
# request left too little room for the answer's headers).
sweep() {  # $1: first size, $2: last, $3: step, $4: what the test is
    "$PY" "$HTTPSWEEP" "$PROXY" "/hc/coap://127.0.0.1:$OTHER/echo?sweep" "$1" "$2" "$3" \
        >"$WORK/sweep" 2>&1
    local classes
    classes=$(awk '{print $2}' "$WORK/sweep" | uniq | tr '\n' ' ')
    expect_eq "$4: each size answered: served, then hcproxy's 431, then libmicrohttpd's" \
        "served 431-hcproxy 431-libmicrohttpd " "$classes"
    [ "$classes" = "served 431-hcproxy 431-libmicrohttpd " ] || sed 's/^/# /' "$WORK/sweep"
}
sweep 300 1100 16 "http.max_header_bytes 1024, requests of 300 to 1,100 bytes"

# The default http.max_header_bytes (8192) is what a request may use however long its connection
# sat idle before: a keep-alive connection that served a small request and then waited serves
# one whose headers fill most of it (7,168 bytes of one header), on the same connection.
expect_clean_exit
start_hcproxy
"$PY" - "$PROXY" "/hc/coap://127.0.0.1:$OTHER/echo?big" >"$WORK/big" 2>&1 <<'PYEOF'
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)))
s.settimeout(10)
def ask(extra):
    s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n%s\r\n" % (sys.argv[2], extra)).encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            return "closed"
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = [l.split(b":", 1)[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
    while length and len(body) < int(length[0]):
        body += s.recv(65536)
    return head.split(b" ")[1].decode() + " " + body.decode()
first = ask("")
time.sleep(0.5)
print(first, ask("X-Padding: %s\r\n" % ("a" * 7168)))
PYEOF
expect_eq "a keep-alive connection idle after a small request serves headers near http.max_header_bytes" \
    "200 big 200 big" "$(cat "$WORK/big")"
sweep 7000 8400 32 "http.max_header_bytes 8192, requests of 7,000 to 8,400 bytes"
# A HEAD near the edge: its 431 has no content (RFC 9110 s9.3.2), whether libmicrohttpd builds it
# (7,700 bytes) or there is no room even for that and hcproxy writes it (7,950 bytes).
"$PY" - "$PROXY" "/hc/coap://127.0.0.1:$OTHER/echo?head" >"$WORK/head" 2>&1 <<'PYEOF'
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
out = []
for size in (7700, 7950):
    base = "HEAD %s HTTP/1.1\r\nHost: x\r\n" % sys.argv[2]
    pad = size - len(base) - len("X-Padding: \r\n\r\n")
    s = socket.create_connection((host, int(port)), timeout=10)
    s.sendall((base + "X-Padding: %s\r\n\r\n" % ("a" * pad)).encode())
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    head, sep, content = data.partition(b"\r\n\r\n")
    out.append("%s %d" % (head.split(b" ")[1].decode(), len(content)) if sep else "closed")
print(" ".join(out))
PYEOF
expect_eq "HEAD near http.max_header_bytes: 431 without content, both ways" "431 0 431 0" "$(cat "$WORK/head")"

done_testing
