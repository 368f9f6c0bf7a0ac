# Helpers for the fault tests (faults_upstream.sh, faults_clients.sh), sourced after lib.sh.
#
# A fault is judged request by request: every request must get exactly one HTTP answer, and that
# answer must be the correct one or an error the README documents for the fault, with its
# one-line reason. A request that gets no answer at all (curl exit 52, 56, 28, ...) is "lost".
# Each fault prints one TAP line for that and a "# table:" line with the counts (sent, correct,
# errors, lost).

: "${FAULTY:?FAULTY must name tests/peers/coap-faulty.py}"

# The reasons of mapping/errors.def that the CoAP faults may produce.
R504='^origin server did not answer in time$'
R502_RESET='^origin server reset the exchange$'
R502_UNREACHABLE='^origin server unreachable$'
R502_BAD="^the origin's response could not be understood$"

# start_faulty MODE [ARGS...]: starts tests/peers/coap-faulty.py; sets FAULTY_PORT, FAULTY_PID
# and FAULTY_OUT (its output, where its counts land when it is stopped).
start_faulty() {
    FAULTY_OUT="$WORK/faulty.$1.$RANDOM.out"
    "$PY" "$FAULTY" "$@" >"$FAULTY_OUT" 2>&1 &
    FAULTY_PID=$!
    PIDS+=($FAULTY_PID)
    wait_for 10 grep -q '^ready' "$FAULTY_OUT" || { echo "Bail out! coap-faulty.py $1 did not start"; exit 1; }
    FAULTY_PORT=$(sed -n 's/^ready //p' "$FAULTY_OUT")
}

# stop_faulty: SIGTERM, reap, and set FAULTY_RECEIVED, FAULTY_SENT, FAULTY_DROPPED from its counts.
stop_faulty() {
    kill -TERM "$FAULTY_PID"
    wait "$FAULTY_PID" 2>/dev/null || true
    FAULTY_RECEIVED=$(sed -n 's/^stats received=\([0-9]*\).*/\1/p' "$FAULTY_OUT")
    FAULTY_SENT=$(sed -n 's/^stats .*sent=\([0-9]*\).*/\1/p' "$FAULTY_OUT")
    FAULTY_DROPPED=$(sed -n 's/^stats .*dropped=\([0-9]*\).*/\1/p' "$FAULTY_OUT")
}

# restart_hcproxy [flags]: ends the running hcproxy through expect_clean_exit (under ASan that is
# a LeakSanitizer check of everything the last fault did) and starts a new one with FLAGS.
restart_hcproxy() {
    if [ -n "${PROXY_PID:-}" ] && kill -0 "$PROXY_PID" 2>/dev/null; then
        expect_clean_exit
    fi
    start_hcproxy "$@"
}

# ---- bursts of requests ----------------------------------------------------------------------
# A plan is a file with one request a line: the URL, then TAB-separated answers that are
# acceptable for it, each STATUS:BODY-REGEX. A 2xx that matches is "correct", any other status
# that matches is a documented error; anything else is wrong.

# plan_line URL ACCEPT...: prints one line of a plan.
plan_line() {
    local IFS=$'\t'
    printf '%s\n' "$*"
}

# burst NAME PLAN [PARALLEL]: sends every request of PLAN with curl, PARALLEL (default: all) at a
# time, each with its own body file under $WORK/NAME. Each transfer is bounded by BURST_MAX_TIME
# (default 30 s), so a request the proxy never answers ends as lost instead of hanging the test.
burst() {
    local dir="$WORK/$1" n=0 url
    rm -rf "$dir"
    mkdir -p "$dir"
    while IFS=$'\t' read -r url _; do
        n=$((n + 1))
        printf 'url = "%s"\noutput = "%s/body.%d"\n' "$url" "$dir" "$((n - 1))"
    done <"$2" >"$dir/curl.conf"
    # %{urlnum} tells the transfers apart: with --parallel they end in any order.
    curl -s --max-time "${BURST_MAX_TIME:-30}" --parallel --parallel-immediate \
        --parallel-max "${3:-$n}" -K "$dir/curl.conf" \
        -w '%{urlnum} %{http_code} %{exitcode}\n' >"$dir/results" 2>/dev/null || true
}

# tally NAME PLAN LABEL: judges the answers of the last burst NAME, prints its TAP line (no
# request lost, none wrong) and its "# table:" line, both under LABEL; sets CORRECT, ERRORS, LOST
# and WRONG.
tally() {
    local name=$3 plan=$2 dir="$WORK/$1" sent=0 i alt status code body verdict
    local -A status_of=() code_of=()
    local details=()
    CORRECT=0 ERRORS=0 LOST=0 WRONG=0
    while read -r i status code; do
        status_of[$i]=$status
        code_of[$i]=$code
    done <"$dir/results"
    while IFS=$'\t' read -r -a fields; do
        i=$sent
        sent=$((sent + 1))
        status=${status_of[$i]:-000}
        code=${code_of[$i]:-none}
        if [ "$code" != 0 ] || [ "$status" = 000 ]; then
            LOST=$((LOST + 1))
            details+=("request $i (${fields[0]}): no answer, curl exit $code")
            continue
        fi
        body=$(tr -d '\r' <"$dir/body.$i" 2>/dev/null | head -c 300) || true
        verdict=wrong
        for alt in "${fields[@]:1}"; do
            if [ "$status" = "${alt%%:*}" ] && [[ "$body" =~ ${alt#*:} ]]; then
                case $status in 2??) verdict=correct ;; *) verdict=error ;; esac
                break
            fi
        done
        case $verdict in
            correct) CORRECT=$((CORRECT + 1)) ;;
            error) ERRORS=$((ERRORS + 1)) ;;
            *) WRONG=$((WRONG + 1))
               details+=("request $i (${fields[0]}): $status '${body:0:80}'") ;;
        esac
    done <"$plan"
    echo "# table: $name sent=$sent correct=$CORRECT errors=$ERRORS lost=$LOST"
    if [ "$LOST" -eq 0 ] && [ "$WRONG" -eq 0 ] && [ "$sent" -gt 0 ]; then
        ok "$name: each of $sent requests answered once, $CORRECT correctly, $ERRORS with a documented error; none lost"
    else
        not_ok "$name: each of $sent requests answered once, correctly or with a documented error" \
            "lost $LOST, wrong $WRONG" "${details[@]:0:6}"
    fi
}

# ---- memory ------------------------------------------------------------------------------------
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$PROXY_PID/status"; }
is_asan() { grep -q libasan "/proc/$PROXY_PID/maps"; }

# A glibc heap does not shrink to the byte after a burst: freed chunks stay in the arena for the
# next one. So the baseline is taken after a warm-up burst with as many requests at once as the
# fault will have, and then the fault may only add noise. RSS_BOUND_KB (1 MiB) is several times
# the growth seen after a fault's burst (under 400 KB), and less than what one lost exchange
# per request would hold: an exchange has a 16 KiB arena, libmicrohttpd an 8 KiB pool per
# connection, so 60 leaked exchanges alone would be over 1.4 MiB.
RSS_BOUND_KB=1024

# warm_up N URL: N GETs at once to a healthy URL, all expected 200, before the baseline.
warm_up() {
    local i
    for i in $(seq 1 "$1"); do plan_line "$2" '200:'; done >"$WORK/warm.plan"
    burst warm "$WORK/warm.plan"
}

rss_within_bound_of() { [ "$(rss_kb)" -le $(($1 + RSS_BOUND_KB)) ]; }

# expect_back_to_baseline NAME BASELINE_KB: once nothing is in flight, hcproxy's RSS comes back
# within RSS_BOUND_KB of the baseline. It may take up to one malloc_trim() period (30 s,
# proxy/main.c) for glibc to hand freed heap back; memory that leaked never comes back. Under
# ASan RSS means nothing (freed memory sits in quarantine): there the LeakSanitizer check at
# hcproxy's exit stands in for it.
expect_back_to_baseline() {
    local name=$1 baseline=$2 now
    if wait_for 20 metric_is hcproxy_exchanges_inflight 0; then
        ok "$name: nothing left in flight afterwards"
    else
        not_ok "$name: nothing left in flight afterwards" "inflight: $(metric hcproxy_exchanges_inflight)"
    fi
    is_asan || wait_for 35 rss_within_bound_of "$baseline" || true
    now=$(rss_kb)
    echo "# memory: $name rss_kb baseline=$baseline after=$now"
    if is_asan; then
        ok "$name: RSS back to its baseline # SKIP under ASan (LeakSanitizer checks at exit)"
    elif [ "$now" -le $((baseline + RSS_BOUND_KB)) ]; then
        ok "$name: RSS back to its baseline ($baseline -> $now KB)"
    else
        not_ok "$name: RSS back to its baseline" "baseline $baseline KB, after $now KB, bound +$RSS_BOUND_KB KB"
    fi
}
