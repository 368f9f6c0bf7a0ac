# Helpers for the conformance suite: tests/integration/lib.sh (TAP, processes, curl), the raw-wire
# CoAP peers, and TAP TODO for the clauses hcproxy does not meet yet.
#
# Every test name starts with its clause (rfc7252-4.5 ...); CONFORMANCE.md lists each with its
# requirement and result. A clause hcproxy fails today is still tested, as a TAP TODO: "not ok N -
# ... # TODO known failure" is an expected failure, and once it passes, "ok N - ... # TODO" is an
# unexpected pass, which `meson test` counts as a failure, so that CONFORMANCE.md gets updated.
. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"

PEERS="$(cd "$(dirname "${BASH_SOURCE[0]}")/../peers" && pwd)"
RAW="${RAW:-$PEERS/coap-raw.py}"
TODO_NOTE="# TODO known failure, see CONFORMANCE.md"

# todo_eq DESCRIPTION EXPECTED ACTUAL: expect_eq for a clause hcproxy is known to fail.
todo_eq() {
    TAP_N=$((TAP_N + 1))
    if [ "$2" = "$3" ]; then
        echo "ok $TAP_N - $1 $TODO_NOTE"
    else
        echo "not ok $TAP_N - $1 $TODO_NOTE"
        echo "#   expected: $2"
        echo "#   actual:   $3"
    fi
}
# todo_match DESCRIPTION REGEX ACTUAL
todo_match() {
    if [[ "$3" =~ $2 ]]; then todo_eq "$1" x x; else todo_eq "$1" "to match: $2" "$3"; fi
}
# expect_true DESCRIPTION COMMAND...: a test that COMMAND succeeds.
expect_true() {
    local d=$1; shift
    if "$@"; then ok "$d"; else not_ok "$d" "failed: $*"; fi
}

# coap_port: hcproxy's CoAP listener port (after start_hcproxy); sets CP.
coap_port() {
    CP=$(grep -o -m1 'listening on coap://[^ "]*' "$WORK/hcproxy.log" | sed 's/.*:\([0-9][0-9]*\).*/\1/')
}
# send SPEC... [flags]: coap-raw.py send to hcproxy's CoAP listener (see its usage).
send() { timeout 30 "$PY" "$RAW" send 127.0.0.1 "$CP" "$@" 2>&1 || true; }
# forwarded TEXT: how many requests whose target contains TEXT reached the HTTP origin (as the
# origin counts them, in $WORK/origin.record.all).
forwarded() {
    if [ -f "$WORK/origin.record.all" ]; then grep -c -F -- "$1" "$WORK/origin.record.all" || true; else echo 0; fi
}

# The libcoap version hcproxy runs with (its example client comes from the same build), for the
# few clauses whose result depends on it; libcoap_at_least VERSION.
LIBCOAP=$(coap-client-notls -h 2>&1 | grep -o -m1 'v[0-9][0-9.]*' | tr -d v || true)
libcoap_at_least() { printf '%s\n%s\n' "$1" "${LIBCOAP:-0}" | sort -V -C; }
# ... and the libmicrohttpd version (Debian's package: libmicrohttpd12, or libmicrohttpd12t64).
LIBMHD=$(dpkg-query -W -f='${Version}\n' 'libmicrohttpd12*' 2>/dev/null | grep -m1 . || true)
libmhd_at_least() { printf '%s\n%s\n' "$1" "${LIBMHD:-0}" | sort -V -C; }
