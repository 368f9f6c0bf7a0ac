# Shared helpers for hcproxy's integration tests: real curl, real CoAP servers, hcproxy, all on
# loopback with ephemeral ports. Each test script sources this file and prints TAP.
#
# Readiness is polled (never assumed after a fixed sleep), every wait has a deadline, every
# curl has --max-time, and every process started here is killed and reaped on exit.
set -euo pipefail

: "${HCPROXY:?HCPROXY must name the hcproxy binary}"
: "${TESTSERVER:?TESTSERVER must name the coap-testserver binary}"
PY=/usr/bin/python3
WIRE="${WIRE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../peers" && pwd)/coap-wire-server.py}"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/hcproxy-test.XXXXXX")
PIDS=()
TAP_N=0
TAP_FAILED=0

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [ "$TAP_FAILED" -gt 0 ] && [ -f "$WORK/hcproxy.log" ]; then
        echo "# last lines of hcproxy's log:"
        tail -n 20 "$WORK/hcproxy.log" | sed 's/^/#   /'
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# ---- TAP ------------------------------------------------------------------------------------
ok() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $1"; }
# not_ok DESCRIPTION [DIAGNOSTIC...]: each line of each diagnostic becomes a "#" line: meson 1.7
# fails a test whose stdout has a line that is not TAP ("Unknown TAP output lines").
not_ok() {
    TAP_N=$((TAP_N + 1)); TAP_FAILED=$((TAP_FAILED + 1))
    echo "not ok $TAP_N - $1"
    shift
    local text
    for text in "$@"; do printf '%s\n' "$text" | sed 's/^/#   /'; done
}
# expect_eq DESCRIPTION EXPECTED ACTUAL
expect_eq() {
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "expected: $2" "actual:   $3"; fi
}
# expect_match DESCRIPTION REGEX ACTUAL
expect_match() {
    if [[ "$3" =~ $2 ]]; then ok "$1"; else not_ok "$1" "expected to match: $2" "actual: $3"; fi
}
done_testing() {
    if [ -n "${PROXY_PID:-}" ] && kill -0 "$PROXY_PID" 2>/dev/null; then
        expect_clean_exit
    fi
    echo "1..$TAP_N"
    [ "$TAP_FAILED" -eq 0 ]
}

# ---- waiting --------------------------------------------------------------------------------
# wait_for DEADLINE_SECONDS COMMAND...: polls COMMAND until it succeeds or the deadline passes.
wait_for() {
    local deadline=$(( $(date +%s%N) + $1 * 1000000000 )); shift
    until "$@" >/dev/null 2>&1; do
        if [ "$(date +%s%N)" -gt "$deadline" ]; then
            return 1
        fi
        sleep 0.02
    done
}

# ---- ports and processes -------------------------------------------------------------------
# free_udp_port: a port the kernel just handed out and released (free unless another process
# races us), of 127.0.0.1, free for UDP and for TCP alike, as a CoAP server started on
# it may listen on both (coap-testserver -t): a UDP port the kernel calls free can be the local
# port of some TCP connection, and the server's TCP bind then fails.
free_udp_port() {
    "$PY" -c '
import socket
while True:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        t.bind(("127.0.0.1", u.getsockname()[1]))
    except OSError:
        continue
    print(u.getsockname()[1])
    break'
}

# start_testserver [ADDRESS [FLAGS...]]: starts coap-testserver on a fresh port of ADDRESS
# (127.0.0.1); sets TS_PORT, and TS_OUT to the file holding its output (with -v, every PDU).
start_testserver() {
    local addr=${1:-127.0.0.1}
    shift || true
    TS_OUT="$WORK/testserver.$RANDOM.out"
    TS_PORT=$(free_udp_port)
    "$TESTSERVER" -A "$addr" -p "$TS_PORT" "$@" >"$TS_OUT" 2>&1 &
    PIDS+=($!)
    wait_for 10 grep -q '^ready' "$TS_OUT" || { echo "Bail out! coap-testserver did not start on $addr"; exit 1; }
}

coap_server_answers() {
    coap-client-notls -B 1 "coap://127.0.0.1:$1/" | grep -q .
}

# start_coap_server [extra args]: starts libcoap's coap-server-notls; sets CS_PORT.
start_coap_server() {
    CS_PORT=$(free_udp_port)
    coap-server-notls -A 127.0.0.1 -p "$CS_PORT" "$@" >"$WORK/coap-server.out" 2>&1 &
    PIDS+=($!)
    wait_for 10 coap_server_answers "$CS_PORT" || { echo "Bail out! coap-server-notls did not start"; exit 1; }
}

# start_hcproxy [flags]: starts hcproxy on an ephemeral HTTP port; sets PROXY and PROXY_PID.
start_hcproxy() {
    # The last hcproxy's log goes first: the shell truncates it only once the new process has
    # been forked, and a look at it before that found the old "listening on" line and port.
    rm -f "$WORK/hcproxy.log"
    "$HCPROXY" --http-listen 127.0.0.1:0 --coap-listen 127.0.0.1:0 "$@" >"$WORK/hcproxy.log" 2>&1 &
    PROXY_PID=$!
    PIDS+=($PROXY_PID)
    wait_for 10 grep -q '"listening on http://' "$WORK/hcproxy.log" || {
        echo "Bail out! hcproxy did not start"; sed 's/^/# /' "$WORK/hcproxy.log"; exit 1; }
    PROXY=$(grep -o -m1 'listening on http://[0-9.:]*' "$WORK/hcproxy.log" | sed 's|listening on http://||')
}

# stop_hcproxy: SIGTERM and reap; returns hcproxy's exit status.
stop_hcproxy() {
    kill -TERM "$PROXY_PID"
    local status=0
    wait "$PROXY_PID" || status=$?
    return $status
}
# expect_clean_exit: stops hcproxy with SIGTERM and checks that it drained and exited 0 without a
# sanitizer report. Under ASan (the sanitizer suite) that is the LeakSanitizer check: every byte
# hcproxy allocated during the test was freed by its shutdown.
expect_clean_exit() {
    local status=0
    stop_hcproxy || status=$?
    if [ "$status" -eq 0 ] && ! grep -q -E 'Sanitizer|runtime error:' "$WORK/hcproxy.log"; then
        ok "hcproxy exits 0 on SIGTERM, with no leak or sanitizer report"
    else
        not_ok "hcproxy exits 0 on SIGTERM, with no leak or sanitizer report" "exit status $status" \
            "$(grep -m3 -E 'Sanitizer|runtime error:|#[0-9]+ ' "$WORK/hcproxy.log" | head -n 8)"
    fi
}

# ---- HTTP -----------------------------------------------------------------------------------
# http [curl args...] URL: sets STATUS, BODY and HEADERS (lower-cased names).
http() {
    STATUS=$(curl -s --max-time 20 -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' "$@") || true
    BODY=$(cat "$WORK/body" 2>/dev/null || true)
    HEADERS=$(tr -d '\r' <"$WORK/headers" 2>/dev/null | tr 'A-Z' 'a-z' || true)
}
header() { printf '%s\n' "$HEADERS" | sed -n "s/^$1: //p" | head -n1; }
# parallel_gets N URL_OF WANT_OF: N GETs at once through one curl (--parallel); "URL_OF i" and
# "WANT_OF i" print request i's URL and the body it must get back. Sets ANSWERED (how many were
# answered 200) and WRONG (how many bodies were not their request's).
parallel_gets() {
    local n=$1 url_of=$2 want_of=$3 i
    for i in $(seq 1 "$n"); do
        echo "url = \"$("$url_of" "$i")\""
        echo "output = \"$WORK/out.$i\""
    done >"$WORK/urls"
    curl -s --max-time 60 --parallel --parallel-immediate --parallel-max "$n" -K "$WORK/urls" \
         -w '%{http_code}\n' >"$WORK/codes" || true
    ANSWERED=$(grep -c '^200$' "$WORK/codes" || true)
    WRONG=0
    for i in $(seq 1 "$n"); do
        [ "$(cat "$WORK/out.$i" 2>/dev/null)" = "$("$want_of" "$i")" ] || WRONG=$((WRONG + 1))
    done
}
# raw_header NAME: the value as sent (HEADERS is lower-cased), NAME matched in any case.
raw_header() { tr -d '\r' <"$WORK/headers" | awk -v n="$1" 'tolower($0) ~ "^" tolower(n) ": " { sub(/^[^:]*: /, ""); print; exit }'; }
metric() { curl -s --max-time 5 "http://$PROXY/metrics" | sed -n "s/^$1 //p"; }
# metric_is NAME VALUE: for wait_for, which runs its command anew each time (a "$(metric ...)"
# among wait_for's arguments would be read once, before the first try).
metric_is() { [ "$(metric "$1")" = "$2" ]; }

# ---- the raw-wire CoAP server ---------------------------------------------------------------
# start_wire: tests/peers/coap-wire-server.py (or $WIRE) on an ephemeral port, recording into
# $WORK/wire.record; sets WP (its port), WC (its control port) and C (the coap:// base URI of its
# scenarios).
start_wire() {
    "$PY" "$WIRE" "$WORK/wire.record" >"$WORK/wire.out" 2>&1 &
    PIDS+=($!)
    wait_for 10 grep -q '^ready' "$WORK/wire.out" || { echo "Bail out! the wire server did not start"; exit 1; }
    WP=$(sed -n 's/^ready //p' "$WORK/wire.out")
    WC=$(sed -n 's/^control //p' "$WORK/wire.out")
    C="coap://127.0.0.1:$WP"
}
# wire_ctl COMMAND...: one command to the wire server's control channel (its module comment);
# prints the answer, and fails unless it is "ok ...".
wire_ctl() { timeout 15 "$PY" "$WIRE" ctl "$WC" "$@"; }
# wire_show: the record decoded, one datagram a line ("recv MS CON 0.01 mid=... tok=...").
wire_show() { "$PY" "$WIRE" show "$WORK/wire.record"; }
# wire_mark: remembers how far the record goes; wire_since prints what came after the mark.
wire_mark() { WIRE_MARK=$(wc -l <"$WORK/wire.record"); }
wire_since() {
    tail -n +$((WIRE_MARK + 1)) "$WORK/wire.record" >"$WORK/wire.since"
    "$PY" "$WIRE" show "$WORK/wire.since"
}

# ---- the reverse direction -------------------------------------------------------------------
# start_origin: tests/peers/http-origin.py (or $ORIGIN) on an ephemeral port, recording each
# request line in $WORK/origin.record; sets OP (its port) and O (its base URL).
start_origin() {
    "$PY" "${ORIGIN:-$(dirname "${BASH_SOURCE[0]}")/../peers/http-origin.py}" "$WORK/origin.record" \
        >"$WORK/origin.out" 2>&1 &
    PIDS+=($!)
    wait_for 10 grep -q '^ready' "$WORK/origin.out" || { echo "Bail out! the HTTP origin did not start"; exit 1; }
    OP=$(sed -n 's/^ready //p' "$WORK/origin.out")
    O="http://127.0.0.1:$OP"
}
# coap_argv ARGS...: sets COAP_ARGV to the arguments for one of libcoap's example clients
# (coap-client-notls, -gnutls), with "-P PROXY ... URI" in ARGS sent as "-U -O 35,URI ... PROXY":
# the same request, a Proxy-Uri option and no Uri-* option (RFC 7252 s5.10.2), to the proxy.
# Debian 13's clients (libcoap3-bin 4.3.4-1.1+deb13u3, the fix of CVE-2025-34468) parse a -P
# request's URI as a CoAP URI first and refuse http:// and https:// ("not a proxy"); -O takes
# any value, on every version.
coap_argv() {
    local proxy=
    COAP_ARGV=()
    while [ $# -gt 1 ]; do
        if [ "$1" = -P ]; then proxy=$2; shift 2; else COAP_ARGV+=("$1"); shift; fi
    done
    if [ -n "$proxy" ]; then COAP_ARGV+=(-U -O "35,$1" "$proxy"); else COAP_ARGV+=("$@"); fi
}
# coap_client CLIENT ARGS...: runs CLIENT with coap_argv's rewriting of ARGS.
coap_client() {
    local client=$1
    shift
    coap_argv "$@"
    "$client" "${COAP_ARGV[@]}"
}
# coap ARGS...: one exchange with coap-client-notls; sets OUT (payload) and CODE (e.g. 2.05).
# coap-client-notls prints its debug lines (-v 7, which show the codes) on stdout, so the payload
# goes to a file of its own.
coap() {
    rm -f "$WORK/coap.out"
    coap_client coap-client-notls -B 10 -v 7 -o "$WORK/coap.out" "$@" >"$WORK/coap.err" 2>&1 || true
    OUT=$(cat "$WORK/coap.out" 2>/dev/null || true)
    CODE=$(grep -a -o 'c:[2-5]\.[0-9][0-9]' "$WORK/coap.err" | tail -n1 | sed 's/c://' || true)
}

# ---- certificates ---------------------------------------------------------------------------
# The TLS tests make their own keys: P-256, valid two days, in $WORK.
# test_ca NAME: a self-signed CA, $WORK/NAME.pem and $WORK/NAME.key.
test_ca() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=$1" \
        -keyout "$WORK/$1.key" -out "$WORK/$1.pem" 2>/dev/null
}
# test_cert NAME CN [EXTENSION [CA]]: a key and a certificate that CA (default: ca) signed, with
# one extension line (default: a client certificate's extendedKeyUsage).
test_cert() {
    local ca=${4:-ca}
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$2" \
        -keyout "$WORK/$1.key" -out "$WORK/$1.csr" 2>/dev/null
    printf '%s\n' "${3:-extendedKeyUsage = clientAuth}" >"$WORK/$1.ext"
    openssl x509 -req -in "$WORK/$1.csr" -CA "$WORK/$ca.pem" -CAkey "$WORK/$ca.key" -CAcreateserial \
        -days 2 -extfile "$WORK/$1.ext" -out "$WORK/$1.pem" 2>/dev/null
}
