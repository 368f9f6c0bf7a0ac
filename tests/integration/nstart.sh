#!/usr/bin/env bash
# NSTART (RFC 7252 s4.7) with hcproxy's own queue: with nstart 1, a burst of exchanges to one
# server waits its turn and every exchange gets its own answer; an exchange stops holding NSTART
# at its ACK, not at its answer; and a client that hangs up while its exchange waits leaves the
# queue, and its request is never sent. A server left idle is let go.
. "$(dirname "$0")/lib.sh"

start_testserver
start_hcproxy --upstream-nstart 1 --upstream-timeout-ms 30000
T="coap://127.0.0.1:$TS_PORT"

# A mixed burst: piggybacked answers (/echo) and separate ones (/slow, acknowledged at once and
# answered 50 ms later), all queued behind each other at the one server.
N=120
mixed_url() {
    if [ $(($1 % 2)) = 0 ]; then echo "http://$PROXY/hc/$T/slow?ms=50&i=$1"; else echo "http://$PROXY/hc/$T/echo?n=$1"; fi
}
mixed_body() { if [ $(($1 % 2)) = 0 ]; then echo slow; else echo "n=$1"; fi; }
parallel_gets $N mixed_url mixed_body
expect_eq "$N concurrent exchanges with nstart 1 all answered 200" "$N" "$ANSWERED"
expect_eq "each of the $N answers belongs to its own request" 0 "$WRONG"
expect_eq "nothing waits in the queue afterwards" 0 "$(metric hcproxy_upstream_waiting)"
expect_eq "nothing is in flight afterwards" 0 "$(metric hcproxy_exchanges_inflight)"

# A server that holds its ACK: /hold stays outstanding, so the next exchange has to wait.
GATE_LOG="$WORK/gate.log"
"$PY" "$(dirname "$0")/../peers/coap-gate.py" "$GATE_LOG" >"$WORK/gate.out" 2>&1 &
PIDS+=($!)
wait_for 10 grep -q '^ready' "$WORK/gate.out" || { echo "Bail out! coap-gate did not start"; exit 1; }
G="coap://127.0.0.1:$(sed -n 's/^ready //p' "$WORK/gate.out")"

curl -s --max-time 60 -o /dev/null "http://$PROXY/hc/$G/hold" &
hold_pid=$!
PIDS+=($hold_pid)
wait_for 10 grep -q 'hold' "$GATE_LOG" && ok "the first exchange is sent" \
    || not_ok "the first exchange is sent" "gate log: $(cat "$GATE_LOG")"

curl -s --max-time 60 -o /dev/null "http://$PROXY/hc/$G/echo?n=gone" &
gone_pid=$!
PIDS+=($gone_pid)
wait_for 10 metric_is hcproxy_upstream_waiting 1 && ok "the second exchange waits for NSTART room" \
    || not_ok "the second exchange waits for NSTART room" "waiting: $(metric hcproxy_upstream_waiting)"
kill "$gone_pid" 2>/dev/null || true
wait "$gone_pid" 2>/dev/null || true
wait_for 10 metric_is hcproxy_upstream_waiting 0 && ok "a client that hangs up leaves the queue" \
    || not_ok "a client that hangs up leaves the queue" "waiting: $(metric hcproxy_upstream_waiting)"
expect_eq "its exchange is counted as cancelled" 1 "$(metric hcproxy_exchanges_cancelled_total)"

# The ACK for /hold ends its hold on NSTART, though its answer never comes: the next exchange
# is sent and answered. Had the hung-up exchange stayed queued, it would have been sent first.
printf release >"/dev/udp/127.0.0.1/${G##*:}"
http "http://$PROXY/hc/$G/echo?n=after"
expect_eq "after the ACK, the next exchange in the queue is sent and answered" "200 gate" "$STATUS $BODY"
if grep -q 'n=gone' "$GATE_LOG"; then
    not_ok "the hung-up client's request was never sent" "gate log: $(cat "$GATE_LOG")"
else
    ok "the hung-up client's request was never sent"
fi
expect_eq "the held exchange still waits for its answer" 1 "$(metric hcproxy_exchanges_inflight)"

# With nstart 2, two unacknowledged requests are out at once and a third waits for an ACK.
start_hcproxy --upstream-nstart 2
for i in 1 2; do
    curl -s --max-time 60 -o /dev/null "http://$PROXY/hc/$G/hold?i=$i" &
    PIDS+=($!)
done
# Uri-Path "hold", then Uri-Query "i=N" (its option header byte is 0x43, "C" in the repr).
both_holds_received() { grep -q 'holdCi=1' "$GATE_LOG" && grep -q 'holdCi=2' "$GATE_LOG"; }
wait_for 10 both_holds_received && ok "with nstart 2, two requests are out unacknowledged" \
    || not_ok "with nstart 2, two requests are out unacknowledged" "gate log: $(cat "$GATE_LOG")"
curl -s --max-time 60 -o "$WORK/third" "http://$PROXY/hc/$G/echo?n=third" &
third_pid=$!
PIDS+=($third_pid)
wait_for 10 metric_is hcproxy_upstream_waiting 1 && ok "a third waits for NSTART room" \
    || not_ok "a third waits for NSTART room" "waiting: $(metric hcproxy_upstream_waiting)"
printf release >"/dev/udp/127.0.0.1/${G##*:}"
wait "$third_pid" || true
expect_eq "after the ACKs, the third is sent and answered" "gate" "$(cat "$WORK/third" 2>/dev/null)"

# A CoAP server left idle gives back its socket and libcoap state; the next request to it makes
# them anew.
start_hcproxy --upstream-idle-ms 1000
http "http://$PROXY/hc/$T/echo?n=first"
expect_eq "a first request is answered" "200 n=first" "$STATUS $BODY"
expect_eq "its server is kept while in use" 1 "$(metric hcproxy_upstream_destinations)"
wait_for 10 metric_is hcproxy_upstream_destinations 0 && ok "an idle server is let go" \
    || not_ok "an idle server is let go" "destinations: $(metric hcproxy_upstream_destinations)"
http "http://$PROXY/hc/$T/echo?n=again"
expect_eq "the next request to it is answered" "200 n=again" "$STATUS $BODY"
expect_eq "and its server is kept again" 1 "$(metric hcproxy_upstream_destinations)"
done_testing
