#!/usr/bin/env bash
# Fault tests on the HTTP side: clients that hang up at every stage of a request, slowloris clients,
# and 10,000 idle connections. While each fault runs, a burst of ordinary requests must all be
# answered correctly; afterwards nothing may stay in flight, RSS must come back to its baseline, and
# hcproxy must exit cleanly (under ASan: leak-free).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/faults_lib.sh"

: "${RUDE:?RUDE must name tests/peers/http-rude.py}"

start_testserver
T="coap://127.0.0.1:$TS_PORT"

# rude NAME MODE COUNT [TARGET [SECONDS]]: starts http-rude.py in the background; RUDE_PID,
# and its output in $WORK/rude.NAME.
rude() {
    local name=$1
    shift
    "$PY" "$RUDE" "$PROXY" "$@" >"$WORK/rude.$name" 2>&1 &
    RUDE_PID=$!
    PIDS+=($RUDE_PID)
}

# normal_plan NAME N: N ordinary GETs, each with its own answer to check.
normal_plan() {
    local i
    for i in $(seq 1 "$2"); do
        plan_line "http://$PROXY/hc/$T/echo?$1=$i" "200:^$1=$i\$"
    done >"$WORK/$1.plan"
}

# Each fault runs twice on one hcproxy. The heap a fault grows (1 MB answers, hundreds of
# connections) is kept by glibc for the next one, so the first round is the baseline: after the
# second, RSS must be back within RSS_BOUND_KB of where the first left it. With hundreds of
# connections coming and going RSS moves by up to 1.8 MB between identical rounds (seen in six
# rounds of slowloris: 6.5 to 9.1 MB, up and down), so the bound here is 4 MiB: it catches a gross
# leak (a 1 MB answer kept per rude client, or 16 KiB per connection), and the LeakSanitizer check
# at each hcproxy's exit under ASan catches the rest.
RSS_BOUND_KB=4096

# ---- hang-ups at every stage ---------------------------------------------------------------
# 20 clients for each stage: during the headers, during the body, while the exchange waits for
# CoAP (FIN, and RST), and while the answer (1 MB, reassembled from 1024 blocks) is being sent.
# Meanwhile 100 ordinary requests. Every exchange cut off while waiting must be cancelled.
in_flight() { [ "$(metric hcproxy_exchanges_inflight)" -ge "$1" ]; }
hangup_round() {
    local name="hang-ups, round $1" cancelled_before pid
    cancelled_before=$(metric hcproxy_exchanges_cancelled_total)
    rm -f "$WORK"/rude.*
    rude wait waiting $K "/hc/$T/silent"; WAIT_PID=$RUDE_PID
    rude reset reset $K "/hc/$T/silent"; RESET_PID=$RUDE_PID
    wait_for 20 in_flight $((2 * K)) || true
    rude headers headers $K "/hc/$T/echo"; HEADERS_PID=$RUDE_PID
    rude body body $K "/hc/$T/echo"; BODY_PID=$RUDE_PID
    rude response response 4 "/hc/$T/bytes?n=1000000"; RESPONSE_PID=$RUDE_PID
    normal_plan hangup $N
    burst hangup "$WORK/hangup.plan"
    kill -USR1 "$WAIT_PID" "$RESET_PID"
    for pid in "$WAIT_PID" "$RESET_PID" "$HEADERS_PID" "$BODY_PID" "$RESPONSE_PID"; do
        wait "$pid" || true
    done
    tally hangup "$WORK/hangup.plan" "$name"
    expect_eq "$name: every rude client finished" 5 "$(cat "$WORK"/rude.* | grep -c '^done$')"
    cancelled() { [ "$(metric hcproxy_exchanges_cancelled_total)" -ge $((cancelled_before + 2 * K)) ]; }
    if wait_for 10 cancelled; then
        ok "$name: the $((2 * K)) exchanges cut off while waiting were cancelled"
    else
        not_ok "$name: the $((2 * K)) exchanges cut off while waiting were cancelled" \
            "cancelled: $(( $(metric hcproxy_exchanges_cancelled_total) - cancelled_before ))"
    fi
    http "http://$PROXY/healthz"
    expect_eq "$name: hcproxy is healthy afterwards" "200 ok" "$STATUS $BODY"
}
N=100
K=20
# glibc raises its mmap threshold each time a large block is freed, after which the 1 MB answers
# come from the heap and stay there in pieces: RSS then moved by up to 4.4 MB between identical
# rounds (Debian 13, and 2.7 MB on Debian 12), against under 1.6 MB with the threshold fixed at
# 128 KiB, where a 1 MB answer is mapped and given back when freed (and one that was kept counts).
GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072 \
    restart_hcproxy --upstream-timeout-ms 20000 --upstream-nstart 64
hangup_round 1
wait_for 20 metric_is hcproxy_exchanges_inflight 0 || true
BASELINE=$(rss_kb)
hangup_round 2
expect_back_to_baseline "hang-ups" "$BASELINE"

# ---- slowloris -----------------------------------------------------------------------------
# http.idle_timeout_s 2. 200 clients send half a request and stop: each must be closed within the
# idle timeout and a little (they get 6 s). 50 more send one header byte a second: libmicrohttpd's
# timeout counts from the last byte received, so they are never idle; http.request_timeout_s (3 s
# here) closes them, the whole request not being there in time. Meanwhile, ordinary requests are
# served.
slowloris_round() {
    local name="slowloris, round $1"
    rude stall stall 200 "/hc/$T/echo" 6; STALL_PID=$RUDE_PID
    rude trickle trickle 50 "/hc/$T/echo" 6; TRICKLE_PID=$RUDE_PID
    normal_plan slowloris $N
    burst slowloris "$WORK/slowloris.plan"
    wait "$STALL_PID" "$TRICKLE_PID" || true
    tally slowloris "$WORK/slowloris.plan" "$name"
    expect_eq "$name: stalled clients are closed by http.idle_timeout_s" "open=0 closed=200" \
        "$(grep '^open=' "$WORK/rude.stall")"
    expect_eq "$name: clients trickling a byte a second are closed by http.request_timeout_s" \
        "open=0 closed=50" "$(grep '^open=' "$WORK/rude.trickle")"
}
N=50
restart_hcproxy --http-idle-timeout-s 2 --http-request-timeout-s 3
slowloris_round 1
BASELINE=$(rss_kb)
slowloris_round 2
expect_back_to_baseline "slowloris" "$BASELINE"

# ---- 10,000 idle connections ---------------------------------------------------------------
# bench/http-many opens the connections, 100 at a time, one GET /healthz on each, and keeps them
# open and idle; meanwhile ordinary requests are served. hcproxy needs a descriptor for each: the
# soft limit is raised to the hard one. IDLE_CONNECTIONS may lower the count where the hard limit
# is low; the default is the goal bench/README.md's memory findings measure against.
#
# glibc keeps the heap that 10,000 connections grew (bench/README.md's memory findings measure it),
# so RSS does not fall back to the idle figure when they close. What must hold is that the memory is
# reused: a second round of 10,000 costs no more than the first did, within RSS_BOUND_KB (both RSS
# figures taken while the connections are held, before the ordinary requests).
IDLE=${IDLE_CONNECTIONS:-10000}
ulimit -n "$(ulimit -Hn)"

# hold_idle ROUND: opens the IDLE connections, checks they were answered, sets HELD (RSS while
# they are open) and leaves http-many running as MANY_PID.
hold_idle() {
    "$HTTP_MANY" -A 127.0.0.1 -p "${PROXY##*:}" -n "$IDLE" -u /healthz -k -b 100 -W 500 -T 60 \
        >"$WORK/http-many.$1" 2>&1 &
    MANY_PID=$!
    PIDS+=($MANY_PID)
    wait_for 90 grep -q '^http-many:' "$WORK/http-many.$1" || true
    expect_match "idle connections, round $1: all $IDLE opened and answered" "ok=$IDLE .*unanswered=0" \
        "$(cat "$WORK/http-many.$1")"
    HELD=$(rss_kb)
}
release_idle() {
    kill -TERM "$MANY_PID"
    wait "$MANY_PID" 2>/dev/null || true
    wait_for 20 metric_is hcproxy_exchanges_inflight 0 || true
}

if [ ! -x "${HTTP_MANY:-}" ] || [ "$(ulimit -n)" -lt $((IDLE + 200)) ]; then
    ok "idle connections # SKIP needs bench/http-many and $((IDLE + 200)) descriptors (have $(ulimit -n))"
else
    N=50
    restart_hcproxy --http-max-connections $((IDLE + 100)) --http-idle-timeout-s 600
    IDLE_BEFORE=$(rss_kb)
    normal_plan idle $N
    hold_idle 1
    HELD_1=$HELD
    burst idle "$WORK/idle.plan"
    tally idle "$WORK/idle.plan" "$IDLE idle connections, round 1"
    release_idle
    hold_idle 2
    burst idle "$WORK/idle.plan"
    tally idle "$WORK/idle.plan" "$IDLE idle connections, round 2"
    release_idle
    echo "# memory: $IDLE idle connections rss_kb idle=$IDLE_BEFORE held=$HELD_1 held_again=$HELD"
    if is_asan; then
        ok "idle connections: RSS bounded and reused # SKIP under ASan (LeakSanitizer checks at exit)"
    else
        # 32 KB a connection is the bound, several times what bench/README.md's memory findings
        # measured.
        expect_match "idle connections: RSS bounded while held (+$((HELD_1 - IDLE_BEFORE)) KB)" '^1$' \
            "$(( HELD_1 - IDLE_BEFORE <= IDLE * 32 ))"
        expect_match "idle connections: a second round reuses the memory ($HELD_1 -> $HELD KB)" '^1$' \
            "$(( HELD <= HELD_1 + RSS_BOUND_KB ))"
    fi
    expect_eq "idle connections: nothing left in flight afterwards" 0 "$(metric hcproxy_exchanges_inflight)"
fi

done_testing
