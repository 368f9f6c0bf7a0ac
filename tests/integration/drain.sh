#!/usr/bin/env bash
# SIGTERM drains: during drain.delay_s new connections are still served; then the listeners
# close, and exchanges in flight in both directions (HTTP -> a slow CoAP server, CoAP -> a slow
# HTTP origin) get their real answers within drain.timeout_s, or 503 / 5.03 after it; exit 0.
. "$(dirname "$0")/lib.sh"

start_testserver
start_origin
coap_port() { grep -o -m1 'listening on coap://[^ "]*' "$WORK/hcproxy.log" | sed 's/.*:\([0-9][0-9]*\).*/\1/'; }
logged() { grep -q -- "$1" "$WORK/hcproxy.log"; }
# in_flight: starts one slow exchange in each direction, in the background, and waits until
# both have reached their server. MS is how long the servers take.
in_flight() {
    local ms=$1
    curl -s --max-time 20 -o "$WORK/http.body" -w '%{http_code}' \
        "http://$PROXY/hc/coap://127.0.0.1:$TS_PORT/slow?ms=$ms" >"$WORK/http.status" &
    HTTP_JOB=$!
    coap_client coap-client-notls -B 20 -v 7 -o "$WORK/coap.body" \
        -P "coap://127.0.0.1:$(coap_port)" "$O/slow?ms=$ms" >"$WORK/coap.log" 2>&1 &
    COAP_JOB=$!
    wait_for 10 metric_is hcproxy_exchanges_inflight 1 &&
        wait_for 10 grep -q "GET /slow?ms=$ms" "$WORK/origin.record"
}
coap_code() { grep -a -o 'c:[2-5]\.[0-9][0-9]' "$WORK/coap.log" | tail -n1 | sed 's/c://'; }

# ---- the answers arrive, and a delay keeps serving --------------------------------------------
start_hcproxy --drain-delay-s 3 --drain-timeout-s 10
in_flight 4000 || not_ok "both slow exchanges are in flight before SIGTERM"
kill -TERM "$PROXY_PID"
wait_for 5 logged '"signal 15: draining'
http "http://$PROXY/hc/coap://127.0.0.1:$TS_PORT/"
expect_eq "during drain.delay_s a new connection is still served" "200" "$STATUS"
coap -P "coap://127.0.0.1:$(coap_port)" "$O/hello"
expect_eq "... and so is a new CoAP request" "hello from http" "$OUT"
wait_for 5 logged 'drain: no new connections'
status=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://$PROXY/healthz" || true)
expect_eq "after drain.delay_s the HTTP listener is closed" "000" "$status"
coap -P "coap://127.0.0.1:$(coap_port)" "$O/hello"
expect_eq "... and a new CoAP request gets 5.03" "5.03" "$CODE"
wait "$HTTP_JOB" || true
wait "$COAP_JOB" || true
expect_eq "the HTTP request in flight to a slow CoAP server gets its real answer" "200 slow" \
    "$(cat "$WORK/http.status") $(cat "$WORK/http.body")"
expect_eq "the CoAP request in flight to a slow HTTP origin gets its real answer" "2.05 slow" \
    "$(coap_code) $(cat "$WORK/coap.body" 2>/dev/null)"
status=0; wait "$PROXY_PID" || status=$?
expect_eq "hcproxy exits 0 after draining" "0" "$status"
expect_eq "... with no sanitizer report" "0" "$(grep -c -E 'Sanitizer|runtime error:' "$WORK/hcproxy.log" || true)"

# ---- drain.timeout_s cuts what takes longer -----------------------------------------------
start_hcproxy --drain-timeout-s 1
in_flight 6000 || not_ok "both slow exchanges are in flight before SIGTERM"
started=$(date +%s%N)
kill -TERM "$PROXY_PID"
wait "$HTTP_JOB" || true
wait "$COAP_JOB" || true
expect_eq "after drain.timeout_s the HTTP request in flight gets 503" "503" "$(cat "$WORK/http.status")"
expect_eq "... and the CoAP request in flight gets 5.03" "5.03" "$(coap_code)"
status=0; wait "$PROXY_PID" || status=$?
elapsed_ms=$(( ($(date +%s%N) - started) / 1000000 ))
expect_eq "hcproxy exits 0" "0" "$status"
expect_match "... within about drain.timeout_s, not the servers' 6 s (${elapsed_ms} ms)" "^[0-9]{3,4}$" "$elapsed_ms"
expect_match "... and says what it cut" "answering 1 HTTP and 1 CoAP exchanges in flight with 503" \
    "$(cat "$WORK/hcproxy.log")"

# ---- a second signal does not wait -----------------------------------------------------------
start_hcproxy --drain-delay-s 30
kill -TERM "$PROXY_PID"
wait_for 5 logged '"signal 15: draining'
kill -INT "$PROXY_PID"
status=0; wait "$PROXY_PID" || status=$?
expect_eq "a second signal during drain.delay_s stops hcproxy at once, exit 0" "0" "$status"

done_testing
