#!/usr/bin/env bash
# What an operator runs hcproxy by: /healthz (liveness), /readyz (readiness: 503 with a reason
# when saturated or draining), /version, hcproxy --health-check (the image's HEALTHCHECK, which
# must find the address hcproxy was given by flag), /metrics as promtool check metrics accepts
# it with counters that add up, and the log: at debug level, every line one JSON object in valid
# UTF-8 with its fields, request ids accepted and echoed, no secret from a query or a URI.
. "$(dirname "$0")/lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)

free_tcp_port() {
    "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# A UDP socket that takes every datagram and answers none: no ACK, so hcproxy retransmits.
start_black_hole() {
    BH_PORT=$(free_udp_port)
    "$PY" -c 'import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", int(sys.argv[1])))
print("ready", flush=True)
while True: s.recv(2048)' "$BH_PORT" >"$WORK/blackhole.out" 2>&1 &
    PIDS+=($!)
    wait_for 10 grep -q '^ready' "$WORK/blackhole.out" || { echo "Bail out! the black hole did not start"; exit 1; }
}
# series NAME: the value of one exposition line, NAME with its labels as written.
series() { grep -F "$1 " "$WORK/metrics" | sed -n "s/^.*} //p;s/^[a-z_]* //p" | head -n1; }
scrape() { curl -s --max-time 5 -o "$WORK/metrics" "http://$PROXY/metrics"; }

start_testserver 127.0.0.1 -t # coap+tcp as well: libcoap's dumps below come from that session
start_origin
start_black_hole
HP=$(free_tcp_port)
# Configured by flag, and the environment names another port: only hcproxy's own view of its
# configuration finds the listener.
HCPROXY_HTTP_LISTEN=127.0.0.1:1 "$HCPROXY" --http-listen "127.0.0.1:$HP" --coap-listen 127.0.0.1:0 \
    --log-level debug --upstream-max-inflight 2 --upstream-timeout-ms 5000 \
    --upstream-allow "coap://127.0.0.1/32,coap+tcp://127.0.0.1/32" >"$WORK/hcproxy.log" 2>&1 &
PROXY_PID=$!
PIDS+=($PROXY_PID)
PROXY="127.0.0.1:$HP"
wait_for 10 grep -q '"listening on http://' "$WORK/hcproxy.log" || { echo "Bail out! hcproxy did not start"; exit 1; }
CP=$(grep -o -m1 'listening on coap://[^ "]*' "$WORK/hcproxy.log" | sed 's/.*:\([0-9][0-9]*\).*/\1/')
T="coap://127.0.0.1:$TS_PORT"

# ---- health ---------------------------------------------------------------------------------
http "http://$PROXY/healthz"
expect_eq "/healthz: alive" "200 ok" "$STATUS $BODY"
http "http://$PROXY/readyz"
expect_eq "/readyz: ready" "200 ready" "$STATUS $BODY"
http "http://$PROXY/version"
expect_eq "/version is JSON with hcproxy's and every library's version" "true" \
    "$(jq -e 'has("version") and has("libcoap") and has("libmicrohttpd") and has("libuv") and has("libcurl_headers")' <<<"$BODY" 2>&1)"
expect_match "... and the libcoap running" '^4\.[0-9]+\.[0-9]+' "$(jq -r .libcoap <<<"$BODY")"

out=$(HCPROXY_HTTP_LISTEN=127.0.0.1:1 HEALTHCHECK_HCPROXY="$HCPROXY" sh "$SRC/docker/healthcheck.sh") && rc=0 || rc=$?
expect_eq "the image's healthcheck finds the port given by flag, not the variable's" "0 healthy" "$rc ${out%%:*}"
expect_match "... and says which address answered" "GET http://127.0.0.1:$HP/healthz answered 200" "$out"
out=$(HCPROXY_HTTP_LISTEN=127.0.0.1:1 "$HCPROXY" --health-check --log-level info) && rc=0 || rc=$?
expect_eq "--health-check with flags of its own probes its own configuration (nothing on port 1)" \
    "1 unhealthy" "$rc ${out%%:*}"

# Saturated: upstream.max_inflight 2, both taken by exchanges a server never acknowledges.
for i in 1 2; do
    curl -s --max-time 20 -o /dev/null -w '%{http_code}\n' "http://$PROXY/hc/coap://127.0.0.1:$BH_PORT/hole$i" \
        >"$WORK/hole$i.code" &
    PIDS+=($!)
done
inflight_is() { scrape; [ "$(series hcproxy_exchanges_inflight)" = "$1" ]; }
wait_for 10 inflight_is 2 || true
http "http://$PROXY/readyz"
expect_eq "/readyz: 503 while upstream.max_inflight exchanges are in flight" 503 "$STATUS"
expect_eq "... with a one-line reason" "not ready: 2 exchanges in flight, upstream.max_inflight is 2" "$BODY"
http "http://$PROXY/healthz"
expect_eq "... while /healthz still says alive (a restart would not help)" "200 ok" "$STATUS $BODY"
wait_for 20 sh -c "grep -q . '$WORK/hole1.code' && grep -q . '$WORK/hole2.code'" || true
expect_eq "the held exchanges end in 504 at upstream.timeout_ms" "504 504" "$(cat "$WORK/hole1.code") $(cat "$WORK/hole2.code")"
http "http://$PROXY/readyz"
expect_eq "/readyz: ready again" "200 ready" "$STATUS $BODY"
scrape
expect_match "confirmable requests nobody acknowledged were retransmitted, and counted (hcproxy's own message layer, on every libcoap)" '^[1-9]' \
    "$(series hcproxy_upstream_retransmissions_total)"

# ---- traffic for the counters and the log ---------------------------------------------------
http -H 'X-Request-Id: client-id-42' -H 'traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' \
    "http://$PROXY/hc/$T/echo?token=SECRET-Q1"
expect_eq "a proxied GET answers 200" "200" "$STATUS"
expect_eq "... and echoes the client's X-Request-Id" "client-id-42" "$(header x-request-id)"
# coap:// goes through hcproxy's own message layer, which dumps no PDU; coap+tcp through libcoap.
http "http://$PROXY/hc/coap+tcp://127.0.0.1:$TS_PORT/echo?token=SECRET-Q4"
expect_eq "a proxied GET over coap+tcp answers 200" "200" "$STATUS"
http -H 'X-Request-Id: has space' "http://$PROXY/hc/$T/code/4.04"
expect_eq "a CoAP 4.04 is proxied as 404" "404" "$STATUS"
expect_match "... and an X-Request-Id that is not plain text is replaced by one of hcproxy's" '^[0-9a-f]{16}-[0-9]+$' "$(header x-request-id)"
GENERATED=$(header x-request-id)
http --data-binary 'SECRET-B1' -H 'Content-Type: text/plain; charset=utf-8' "http://$PROXY/hc/$T/echo"
expect_eq "a POST is proxied (its payload stays out of libcoap's dumps)" "200 SECRET-B1" "$STATUS $BODY"
# A raw 0xff (and a valid é) in the request target, which curl would percent-encode.
exec 3<>"/dev/tcp/127.0.0.1/$HP"
printf 'GET /hc/coap://127.0.0.1:1/caf\xc3\xa9\xff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&3
IFS=$' \t\r' read -r -t 5 _ code _ <&3 || true
exec 3<&-
expect_eq "a target with a raw 0xff byte is refused 400" 400 "$code"
http "http://$PROXY/hc/coap://user:SECRET-U1@127.0.0.1:$TS_PORT/echo"
expect_eq "a target with user information is refused (and counted as a refusal)" 400 "$STATUS"
http "http://$PROXY/hc/coap://192.0.2.1/x"
expect_eq "a destination outside upstream.allow is refused" 403 "$STATUS"
http "http://$PROXY/metrics?access_token=SECRET-Q2"
expect_eq "/metrics answers with a query too" 200 "$STATUS"
coap -P "coap://127.0.0.1:$CP" "$O/hello?key=SECRET-Q3"
expect_eq "a CoAP -> HTTP exchange is answered" "2.05" "$CODE"
coap -P "coap://127.0.0.1:$CP" "http://127.0.0.1:1/closed"
expect_eq "a CoAP -> HTTP exchange to a closed port ends in 5.02" "5.02" "$CODE"
http "http://$PROXY/healthz"

# ---- metrics ----------------------------------------------------------------------------------
scrape
if command -v promtool >/dev/null; then
    if promtool check metrics <"$WORK/metrics" >"$WORK/promtool.out" 2>&1; then
        ok "promtool check metrics accepts /metrics"
    else
        not_ok "promtool check metrics accepts /metrics" "$(head -n 5 "$WORK/promtool.out")"
    fi
else
    not_ok "promtool check metrics accepts /metrics" "promtool is not installed (.ci/setup installs Debian's prometheus)"
fi
sum_of() { awk -v n="$1" 'index($0, n) == 1 && $0 !~ /^#/ { s += $NF } END { print s + 0 }' "$WORK/metrics"; }
started=$(series hcproxy_exchanges_started_total)
answered=$(sum_of 'hcproxy_exchanges_answered_total{')
cancelled=$(series hcproxy_exchanges_cancelled_total)
inflight=$(series hcproxy_exchanges_inflight)
expect_eq "HTTP -> CoAP: started = answered + cancelled + in flight (refusals and /healthz apart)" \
    "$started" "$((answered + cancelled + inflight))"
expect_eq "... 6 exchanges went upstream: 2 held, 4 to the test server" 6 "$started"
expect_eq "... 3 answered 2xx, 1 4xx, 2 5xx" "3 1 2" \
    "$(series 'hcproxy_exchanges_answered_total{class="2xx"}') $(series 'hcproxy_exchanges_answered_total{class="4xx"}') $(series 'hcproxy_exchanges_answered_total{class="5xx"}')"
expect_eq "the two 504s are errors of hcproxy's, by cause" 2 "$(series 'hcproxy_exchange_errors_total{cause="timeout"}')"
expect_eq "refusals count by cause: user information" 1 "$(series 'hcproxy_requests_refused_total{cause="userinfo"}')"
expect_eq "... and policy" 1 "$(series 'hcproxy_requests_refused_total{cause="forbidden"}')"
expect_match "hcproxy's own resources count apart" '^[1-9]' "$(series 'hcproxy_local_requests_total{path="/healthz"}')"
expect_eq "the HTTP -> CoAP histogram counts every answered exchange" "$answered" \
    "$(series 'hcproxy_exchange_duration_seconds_count{direction="http_to_coap"}')"
r_started=$(series hcproxy_reverse_exchanges_started_total)
r_answered=$(sum_of 'hcproxy_reverse_exchanges_answered_total{')
expect_eq "CoAP -> HTTP: started = answered + cancelled + in flight" "$r_started" \
    "$((r_answered + $(series hcproxy_reverse_exchanges_cancelled_total) + $(series hcproxy_reverse_exchanges_inflight)))"
expect_eq "... 2 started, one 2.xx and one 5.xx" "2 1 1" \
    "$r_started $(series 'hcproxy_reverse_exchanges_answered_total{class="2.xx"}') $(series 'hcproxy_reverse_exchanges_answered_total{class="5.xx"}')"
expect_eq "the CoAP -> HTTP histogram counts them" "$r_answered" \
    "$(series 'hcproxy_exchange_duration_seconds_count{direction="coap_to_http"}')"
expect_match "hcproxy_build_info carries the version" '^hcproxy_build_info\{version="[0-9.]+",libcoap="4\.' \
    "$(grep '^hcproxy_build_info' "$WORK/metrics")"

# ---- drain ----------------------------------------------------------------------------------------
# An exchange held by /silent keeps the drain waiting; a client with an open connection then asks
# /readyz on it (the listener itself is closed at once).
curl -s --max-time 20 -o /dev/null "http://$PROXY/hc/$T/silent" &
PIDS+=($!)
wait_for 10 inflight_is 1 || true
drain_readyz=$("$PY" - "$HP" "$PROXY_PID" <<'PYEOF'
import os, signal, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
def get():
    s.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(4096)
    head, body = data.split(b"\r\n\r\n", 1)
    n = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0])
    while len(body) < n:
        body += s.recv(4096)
    return head.split(b" ")[1].decode() + " " + body.decode().strip()
first = get()
os.kill(int(sys.argv[2]), signal.SIGTERM)
time.sleep(0.2)
print(first + " | " + get())
PYEOF
) || true
expect_eq "/readyz on a kept connection: ready, then 503 draining once SIGTERM came" \
    "200 ready | 503 not ready: draining, shutting down" "$drain_readyz"
status=0
wait "$PROXY_PID" || status=$?
expect_eq "hcproxy exits 0 after the drain" 0 "$status"
PROXY_PID=

# ---- the log ----------------------------------------------------------------------------------------
LOG="$WORK/hcproxy.log"
expect_eq "every log line is valid UTF-8 and one JSON object with ts, level and msg" "0" \
    "$("$PY" -c 'import json, sys
bad = 0
for raw in open(sys.argv[1], "rb"):
    try:
        o = json.loads(raw.decode("utf-8", errors="strict"))
        bad += not all(k in o for k in ("ts", "level", "msg"))
    except Exception:
        bad += 1
print(bad)' "$LOG")"
expect_eq "... and jq reads every one of them" "$(wc -l <"$LOG")" "$(jq -c . "$LOG" 2>/dev/null | wc -l)"
expect_match "libcoap's PDU dumps are JSON lines too (debug level)" '^[1-9]' \
    "$(jq -r 'select(.msg | startswith("libcoap: v:")) | .level' "$LOG" | grep -c '^debug$')"
expect_eq "... the raw 0xff byte is escaped (U+00FF once decoded), the valid é kept" '"/hc/coap://127.0.0.1:1/caféÿ"' \
    "$(jq -c 'select(.cause == "badtarget") | .path' "$LOG" | head -n1)"
expect_match "... written as \\u00ff in the line itself" '/caf.\\u00ff"' "$(grep -a -m1 'badtarget' "$LOG")"
expect_eq "no secret from a query or user information is in the log" 0 "$(grep -c 'SECRET-' "$LOG" || true)"
line=$(jq -c 'select(.request_id == "client-id-42")' "$LOG")
expect_eq "an access line has its fields" \
    '"GET" "/hc/coap://127.0.0.1:'"$TS_PORT"'/echo?token=REDACTED" 200 "http_to_coap" "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" true true true' \
    "$(jq -r '[(.method|tojson), (.path|tojson), .status, (.direction|tojson), (.traceparent|tojson), (.latency_ms|type == "number"), (.client|test("^127\\.0\\.0\\.1:[0-9]+$")), (.exchange|type == "number")] | join(" ")' <<<"$line")"
expect_eq "the generated request id is the one logged" 1 "$(jq -c "select(.request_id == \"$GENERATED\")" "$LOG" | wc -l)"
expect_eq "probes are logged at debug level only" "debug" \
    "$(jq -r 'select(.path == "/healthz" or .path == "/readyz") | .level' "$LOG" | sort -u | tr '\n' ' ' | sed 's/ $//')"
rline=$(jq -c 'select(.direction == "coap_to_http" and .origin_status == 200)' "$LOG")
expect_eq "a CoAP -> HTTP line has its fields" \
    '"GET" "'"$O"'/hello?key=REDACTED" "2.05" true true true' \
    "$(jq -r '[(.method|tojson), (.url|tojson), (.code|tojson), (.request_id|test("^[0-9a-f]{16}-[0-9]+$")), (.client|test("^127\\.0\\.0\\.1:[0-9]+$")), (.exchange|type == "number")] | join(" ")' <<<"$rline")"
expect_eq "a refusal says its cause" '400 "/hc/coap://REDACTED@127.0.0.1:'"$TS_PORT"'/echo"' \
    "$(jq -r 'select(.cause == "userinfo") | "\(.status) \(.path|tojson)"' "$LOG")"

done_testing
