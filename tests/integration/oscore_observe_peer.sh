#!/usr/bin/env bash
# The OSCORE test peer's Observe (RFC 7641 through RFC 8613 s4.1.3.5), peer against peer, without
# hcproxy: `oscore-peer observe` registers with `oscore-peer server`'s /obs and verifies every
# notification and its order by Partial IV (s7.4.1); `verify-notification` checks one notification
# the server recorded, as the HTTP side will hand them over. This is the reference the proxy's
# Observe support is later tested against, so each check here is also shown to fail.
#
# OSCORE_PEER names the peer; without it, the build tree's tests/peers/oscore-peer is used.
. "$(dirname "$0")/lib.sh"

OSCORE_PEER=${OSCORE_PEER:-"$(dirname "$HCPROXY")/../tests/peers/oscore-peer"}
[ -x "$OSCORE_PEER" ] || { echo "Bail out! no oscore-peer at $OSCORE_PEER"; exit 1; }

# start_server NAME [server options...]: a fresh `oscore-peer server` on a new port; sets OS_PORT,
# SERVER_PID and SERVER_LOG.
start_server() {
    local name=$1
    shift
    OS_PORT=$(free_udp_port)
    SERVER_LOG="$WORK/$name.out"
    "$OSCORE_PEER" server -A 127.0.0.1 -p "$OS_PORT" "$@" >"$SERVER_LOG" 2>&1 &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    wait_for 10 grep -q '^ready' "$SERVER_LOG" || {
        echo "Bail out! oscore-peer server did not start"; sed 's/^/# /' "$SERVER_LOG"; exit 1; }
}

stop_server() { kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; }

# observe [options...]: the client against the current server; OUT is its stdout, ERR its stderr,
# RC its exit status. Its own wait is bounded (10 s per message); timeout is a second bound.
observe() {
    RC=0
    OUT=$(timeout 30 "$OSCORE_PEER" observe --host 127.0.0.1 --port "$OS_PORT" --path obs "$@" \
        2>"$WORK/observe.err") || RC=$?
    ERR=$(cat "$WORK/observe.err")
}

# verify_notification [options...]: like observe, for one recorded notification.
verify_notification() {
    RC=0
    OUT=$("$OSCORE_PEER" verify-notification "$@" 2>"$WORK/verify.err") || RC=$?
    ERR=$(cat "$WORK/verify.err")
}

server_logged() { grep -q -- "$1" "$SERVER_LOG"; }

# ---- three notifications, verified and in order ------------------------------------------------
start_server plain --count 3 --interval-ms 100 --record-notifications "$WORK/n"
observe --seq 1 --count 3
expect_eq "observe: 3 notifications verified, exit 0" 0 "$RC"
expect_eq "... each with its own Partial IV, in order" \
    "notification piv=0 observe=0 code=2.05 payload=n=1
notification piv=1 observe=1 code=2.05 payload=n=2
notification piv=2 observe=2 code=2.05 payload=n=3" "$OUT"
if server_logged 'observe registered: outer 0.05 with outer Observe 0'; then
    ok "... the registration's outer code is FETCH with the outer Observe 0 (s4.2, s4.1.3.5.1)"
else
    not_ok "... the registration's outer code is FETCH with the outer Observe 0" "$(cat "$SERVER_LOG")"
fi
if wait_for 10 server_logged 'observation ended: final response sent after 3 notifications'; then
    ok "... then the server's final response ends the observation"
else
    not_ok "... then the server's final response ends the observation" "$(cat "$SERVER_LOG")"
fi
stop_server

# ---- verify-notification on what the server recorded -------------------------------------------
verify_notification --seq 1 --header "$(cat "$WORK/n1.header")" --body-file "$WORK/n1.body"
expect_eq "verify-notification: the first one, no Notification Number yet" \
    "0 notification piv=0 code=2.05 payload=n=1" "$RC $OUT"
verify_notification --seq 1 --header "$(cat "$WORK/n2.header")" --body-file "$WORK/n2.body" \
    --last-piv 0
expect_eq "verify-notification: the second one after Partial IV 0" \
    "0 notification piv=1 code=2.05 payload=n=2" "$RC $OUT"
verify_notification --seq 1 --header "$(cat "$WORK/n2.header")" --body-file "$WORK/n2.body" \
    --last-piv 1
expect_eq "verify-notification: the same one again is refused (s7.4.1)" 1 "$RC"
expect_match "... as a replay" 'Partial IV 1 is not newer than the Notification Number 1' "$ERR"
verify_notification --seq 2 --header "$(cat "$WORK/n2.header")" --body-file "$WORK/n2.body"
expect_eq "verify-notification: bound to another registration, it does not verify (s5.4)" \
    "1 oscore-peer: notification 1: Decryption failed" "$RC $ERR"
"$PY" -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[-1] ^= 1; open(sys.argv[2], "wb").write(b)' \
    "$WORK/n3.body" "$WORK/n3.tampered"
verify_notification --seq 1 --header "$(cat "$WORK/n3.header")" --body-file "$WORK/n3.tampered" \
    --last-piv 1
expect_eq "verify-notification: a flipped ciphertext bit does not verify" \
    "1 oscore-peer: notification 1: Decryption failed" "$RC $ERR"

# ---- a tampered notification ------------------------------------------------------------------
start_server tamper --count 3 --interval-ms 100 --tamper-notification 2
observe --seq 1 --count 3
expect_eq "observe: notification 2 tampered with, exit 1" 1 "$RC"
expect_eq "... after notification 1 only" "notification piv=0 observe=0 code=2.05 payload=n=1" "$OUT"
expect_eq "... notification 2 fails verification" "oscore-peer: notification 2: Decryption failed" "$ERR"
stop_server

# ---- a replayed notification ------------------------------------------------------------------
start_server replay --count 3 --interval-ms 100 --replay-notification 2
observe --seq 1 --count 3
expect_eq "observe: notification 1 sent again after 2, exit 1" 1 "$RC"
expect_eq "... after notifications 1 and 2" "notification piv=0 observe=0 code=2.05 payload=n=1
notification piv=1 observe=1 code=2.05 payload=n=2" "$OUT"
expect_match "... the old one authentic but refused by its Partial IV (s7.4.1)" \
    'Partial IV 0 is not newer than the Notification Number 1: replayed or reordered' "$ERR"
stop_server

# ---- too few notifications --------------------------------------------------------------------
start_server short --count 2 --interval-ms 100
observe --seq 1 --count 3
expect_eq "observe: the final response after 2 of 3, exit 1" \
    "1 oscore-peer observe: the observation ended after 2 of 3 notifications" "$RC $ERR"
stop_server

# ---- no registration: no outer Observe, or no context --------------------------------------------
start_server refuse --count 3 --interval-ms 100
# coap-request carries the inner Observe 0 in an outer POST without Observe.
RC=0
OUT=$(timeout 30 "$OSCORE_PEER" coap-request --host 127.0.0.1 --port "$OS_PORT" --method GET \
    --path obs --observe 0 --seq 1 2>&1) || RC=$?
expect_eq "inner Observe 0 without the outer one: answered once (RFC 7641 s4.1)" \
    "0 code=2.05 cf=0 payload=n=0" "$RC $OUT"
if server_logged 'observe refused: no outer Observe 0'; then
    ok "... and not registered (s4.1.3.5.1 wants both)"
else
    not_ok "... and not registered" "$(cat "$SERVER_LOG")"
fi
observe --seq 2 -c c2
expect_eq "observe with a context the server lacks: the unprotected 4.01 fails the client" \
    "1 oscore-peer observe: an answer without OSCORE option: code=4.01 payload=Security context not found" \
    "$RC $ERR"
stop_server

# ---- cancelling: Observe 1, and a Reset --------------------------------------------------------
start_server cancel --count 1000 --interval-ms 200
observe --seq 1 --count 2 --deregister
expect_eq "observe --deregister: exit 0" 0 "$RC"
expect_match "... the answer to Observe 1 verifies, without Observe" \
    '^deregistered code=2\.05 cf=0 payload=n=[0-9]+$' "$(printf '%s\n' "$OUT" | tail -n 1)"
if wait_for 10 server_logged 'observation ended: deregistered'; then
    ok "... and the server ends the observation"
else
    not_ok "... and the server ends the observation" "$(cat "$SERVER_LOG")"
fi
# The registration at sequence number 3: 1 and 2 are in the server's replay window now.
observe --seq 3 --count 2 --reset
expect_eq "observe --reset: exit 0" "0 reset a notification" "$RC $(printf '%s\n' "$OUT" | tail -n 1)"
if wait_for 10 server_logged 'observation ended: reset by the client'; then
    ok "... and a Reset to a confirmable notification ends the observation (RFC 7641 s3.6)"
else
    not_ok "... and a Reset ends the observation" "$(cat "$SERVER_LOG")"
fi
stop_server

done_testing
