#!/usr/bin/env bash
# Fault tests on the CoAP side: 20% datagram loss both ways, a server that never answers, one that
# answers with RST, one that sends malformed datagrams, a server restarted in the middle of a burst,
# and a blackout that ends. Each fault gets a fresh hcproxy: every request must get exactly one
# answer, correct or the documented error; nothing may stay in flight, RSS must come back to its
# baseline, and hcproxy must then exit cleanly (under ASan: leak-free).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/faults_lib.sh"

start_testserver
HEALTHY="coap://127.0.0.1:$TS_PORT"

# ACK_TIMEOUT 1 s is the least libcoap 4.3.1 takes; a random factor of 1 makes the retransmission
# schedule fixed (1, 2, 4, 8 s apart). NSTART is raised so that one exchange waiting on a faulty
# server does not hold back the others to it (the blackout below shows why with NSTART 1).
COMMON=(--upstream-ack-timeout-ms 1000 --upstream-ack-random-factor 1 --upstream-nstart 128)

# fault_begin FLAGS...: a fresh hcproxy, warmed up with a burst as large as the fault's, and the
# baseline taken.
fault_begin() {
    restart_hcproxy "${COMMON[@]}" "$@"
    warm_up "$N" "http://$PROXY/hc/$HEALTHY/echo?warm"
    BASELINE=$(rss_kb)
}

# ---- 20% loss in each direction ----------------------------------------------------------------
# A relay drops 20% of the datagrams both ways (a seeded PRNG; which datagrams it meets depends on
# timing). Attempts go out at 0, 1, 3, 7 and 15 s; an exchange fails only if all five are lost one
# way or the other (0.36^5, 0.6%), and then the documented 504 is the right answer.
N=60
fault_begin --upstream-timeout-ms 20000 --upstream-max-retransmit 4
start_faulty loss "$TS_PORT" 20 7
for i in $(seq 1 $N); do
    plan_line "http://$PROXY/hc/coap://127.0.0.1:$FAULTY_PORT/echo?n=$i" "200:^n=$i\$" "504:$R504"
done >"$WORK/loss.plan"
burst loss "$WORK/loss.plan"
stop_faulty
tally loss "$WORK/loss.plan" "20% loss"
expect_match "20% loss: the relay did drop datagrams (dropped $FAULTY_DROPPED of $FAULTY_RECEIVED)" '^[1-9]' "$FAULTY_DROPPED"
expect_match "20% loss: most requests were answered correctly despite it" '^([4-9][0-9]|[0-9]{3,})$' "$CORRECT"
expect_back_to_baseline "20% loss" "$BASELINE"

# ---- a server that never answers ---------------------------------------------------------------
# No ACK, no RST, no ICMP: each exchange ends in 504 when upstream.timeout_ms runs out.
N=40
fault_begin --upstream-timeout-ms 2500 --upstream-max-retransmit 1
start_faulty silent
for i in $(seq 1 $N); do
    plan_line "http://$PROXY/hc/coap://127.0.0.1:$FAULTY_PORT/silent?n=$i" "504:$R504"
done >"$WORK/silent.plan"
burst silent "$WORK/silent.plan"
stop_faulty
tally silent "$WORK/silent.plan" "never answers"
expect_match "never answers: every request reached the server ($FAULTY_RECEIVED datagrams)" \
    "^([4-9][0-9]|[0-9]{3,})$" "$FAULTY_RECEIVED"
expect_back_to_baseline "never answers" "$BASELINE"

# ---- a server that answers with RST ------------------------------------------------------------
N=40
fault_begin --upstream-timeout-ms 5000
start_faulty rst
for i in $(seq 1 $N); do
    plan_line "http://$PROXY/hc/coap://127.0.0.1:$FAULTY_PORT/x?n=$i" "502:$R502_RESET"
done >"$WORK/rst.plan"
burst rst "$WORK/rst.plan"
stop_faulty
tally rst "$WORK/rst.plan" "RST"
expect_back_to_baseline "RST" "$BASELINE"

# ---- malformed datagrams -----------------------------------------------------------------------
# A datagram that cannot be parsed is discarded (RFC 7252 s4.2: a message format error in an ACK is
# silently ignored), so the exchange times out: 504. A well-framed answer hcproxy cannot map (a
# 2.03 to a request without ETag, RFC 7252 s10.2) is 502. An elective option hcproxy does not
# recognize, or of a length its definition does not allow, is ignored (RFC 7252 s5.4.1, s5.4.3):
# a Content-Format of 5 bytes, option 128 (reserved for Location-*, s5.10.7, with no Location-*
# beside it) leave a 200. Garbage before a good answer must not hide the answer.
N=50
fault_begin --upstream-timeout-ms 2500 --upstream-max-retransmit 1
start_faulty malformed
M="http://$PROXY/hc/coap://127.0.0.1:$FAULTY_PORT"
for i in 1 2 3 4 5; do
    for kind in garbage short tkl overrun marker delta15; do
        plan_line "$M/$kind?n=$i" "504:$R504"
    done
    plan_line "$M/valid203?n=$i" "502:$R502_BAD"
    plan_line "$M/cf5?n=$i" '200:^ok$'
    plan_line "$M/opt128?n=$i" '200:^ok$'
    plan_line "$M/then-ok?n=$i" '200:^ok$'
done >"$WORK/malformed.plan"
burst malformed "$WORK/malformed.plan"
stop_faulty
tally malformed "$WORK/malformed.plan" "malformed"
expect_match "malformed: the good answer after the garbage came through, and past the ignored options (15 of 15)" '^15$' "$CORRECT"
expect_back_to_baseline "malformed" "$BASELINE"

# ---- a server restarted in the middle of a burst -----------------------------------------------
# 200 requests, 20 at a time, to a server that takes 50 ms for each (a separate response). Once 60
# have started the server is killed, and restarted on the same port once some requests have
# failed for it. Exchanges the dead server had acknowledged time out (504); requests sent while it
# was down are refused by ICMP (502 unreachable); the rest are answered. A request after the burst
# must reach the new server: hcproxy replaces the session libcoap gave up on.
N=200
fault_begin --upstream-timeout-ms 3000
RESTART_PORT=$TS_PORT
for i in $(seq 1 $N); do
    plan_line "$HEALTHY/slow?ms=50&n=$i" '200:^slow$' "502:$R502_UNREACHABLE" "504:$R504"
done | sed "s|^|http://$PROXY/hc/|" >"$WORK/restart.plan"
STARTED_BEFORE=$(metric hcproxy_exchanges_started_total)
burst restart "$WORK/restart.plan" 20 &
BURST_PID=$!
started() { [ "$(metric hcproxy_exchanges_started_total)" -ge $((STARTED_BEFORE + $1)) ]; }
failed() { [ "$(metric hcproxy_upstream_failures_total)" -ge 1 ]; }
wait_for 20 started 60 || true
kill -KILL "${PIDS[0]}" # the testserver start_testserver started first: HEALTHY
wait "${PIDS[0]}" 2>/dev/null || true
wait_for 20 failed || true
TS_OUT="$WORK/testserver.restarted.out"
"$TESTSERVER" -A 127.0.0.1 -p "$RESTART_PORT" >"$TS_OUT" 2>&1 &
PIDS+=($!)
wait_for 10 grep -q '^ready' "$TS_OUT" || { echo "Bail out! coap-testserver did not restart"; exit 1; }
wait "$BURST_PID"
tally restart "$WORK/restart.plan" "server restart"
expect_match "server restart: some requests met the dead server (errors $ERRORS)" '^[1-9]' "$ERRORS"
expect_match "server restart: most requests were answered (correct $CORRECT)" '^(1[0-9]{2}|[0-9]{2})$' "$CORRECT"
http "http://$PROXY/hc/$HEALTHY/echo?after-restart"
expect_eq "server restart: a request after the burst reaches the restarted server" \
    "200 after-restart" "$STATUS $BODY"
expect_back_to_baseline "server restart" "$BASELINE"

# ---- a blackout that ends, with NSTART 1 -------------------------------------------------------
# The server goes silent (a relay drops everything). A request is sent: it times out with 504 at
# 2 s, while libcoap would go on retransmitting its CON at 1, 3, 7, 15 s, and with NSTART 1 hold
# every later request to that server behind it for up to 93 s. hcproxy drops the abandoned CON
# with its session (upstream_coap.c, hcp_upstream_coap_abandon()), so once the blackout ends the
# next request is answered at once.
N=10
fault_begin --upstream-timeout-ms 2000 --upstream-nstart 1
start_faulty loss "$TS_PORT" 0 1
kill -USR1 "$FAULTY_PID"
wait_for 5 grep -q '^blackout on' "$FAULTY_OUT"
http "http://$PROXY/hc/coap://127.0.0.1:$FAULTY_PORT/echo?during"
expect_eq "blackout: a request while the server is unreachable gets 504" 504 "$STATUS"
kill -USR1 "$FAULTY_PID"
wait_for 5 grep -q '^blackout off' "$FAULTY_OUT"
http "http://$PROXY/hc/coap://127.0.0.1:$FAULTY_PORT/echo?after"
expect_eq "blackout: the first request after it is answered" \
    "200 after" "$STATUS ${BODY:0:60}"
stop_faulty
expect_back_to_baseline "blackout" "$BASELINE"

done_testing
