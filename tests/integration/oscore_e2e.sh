#!/usr/bin/env bash
# OSCORE end to end through hcproxy, with real cryptography (RFC 8613 s11.4, s11.5): the client
# side of oscore-peer protects each request (context C.1), real curl carries it through hcproxy,
# `oscore-peer server` verifies it, serves the inner request and protects its answer, and
# `oscore-peer verify` checks what curl got back. hcproxy holds no key: it can only pass the
# OSCORE header and the ciphertext on unchanged, and any change fails verification.
#
# OSCORE_PEER names the peer; without it, the build tree's tests/peers/oscore-peer is used.
. "$(dirname "$0")/lib.sh"

OSCORE_PEER=${OSCORE_PEER:-"$(dirname "$HCPROXY")/../tests/peers/oscore-peer"}
[ -x "$OSCORE_PEER" ] || { echo "Bail out! no oscore-peer at $OSCORE_PEER"; exit 1; }

OS_PORT=$(free_udp_port)
# -v: libcoap logs every PDU, which shows the outer blocks on the wire.
"$OSCORE_PEER" server -A 127.0.0.1 -p "$OS_PORT" -v >"$WORK/oscore-server.out" 2>&1 &
PIDS+=($!)
wait_for 10 grep -q '^ready' "$WORK/oscore-server.out" || {
    echo "Bail out! oscore-peer server did not start"; sed 's/^/# /' "$WORK/oscore-server.out"; exit 1; }
start_hcproxy
# s11.5: the path is inside the ciphertext, so the visible target is the server's root.
TARGET="http://$PROXY/hc/coap://127.0.0.1:$OS_PORT/"
SEQ=0 # the client's Sender Sequence Number: every new request takes the next one (s7.2.1)

# protect_next METHOD PATH [protect options...]: protects a new request into $WORK/req.body and
# its OSCORE header value into REQ_HEADER.
protect_next() {
    local method=$1 path=$2
    shift 2
    SEQ=$((SEQ + 1))
    REQ_HEADER=$("$OSCORE_PEER" protect --method "$method" --path "$path" --seq "$SEQ" \
        --out-body "$WORK/req.body" "$@")
}

# send_protected [BODY_FILE]: POSTs the protected request through hcproxy with curl; sets STATUS,
# HEADERS (lower-cased, for header()), BODY (as text, for diagnostics), RESP_HEADER (the OSCORE
# header as sent: base64url is case-sensitive) and keeps the body in $WORK/resp.body. Like
# http() of lib.sh, but the body is binary ciphertext, which a shell variable cannot hold.
send_protected() {
    : >"$WORK/headers" # so a failed curl leaves empty results, not a missing file under set -e
    : >"$WORK/resp.body"
    STATUS=$(curl -s --max-time 20 -X POST -H 'Content-Type: application/oscore' \
        -H "OSCORE: $REQ_HEADER" --data-binary @"${1:-$WORK/req.body}" \
        -o "$WORK/resp.body" -D "$WORK/headers" -w '%{http_code}' "$TARGET") || true
    HEADERS=$(tr -d '\r' <"$WORK/headers" | tr 'A-Z' 'a-z')
    BODY=$(tr -d '\000' <"$WORK/resp.body")
    RESP_HEADER=$(raw_header oscore)
}

# expect_blocks NAME LINE PATTERN: the server logged more than one PDU matching PATTERN after
# line LINE of its log (libcoap's debug log has one "v:1 t:.. c:.. [ options ]" line per PDU):
# the message crossed that hop in outer blocks.
expect_blocks() {
    local n
    n=$(tail -n +"$(($2 + 1))" "$WORK/oscore-server.out" | grep -c -E "^v:1 .*$3" || true)
    if [ "$n" -gt 1 ]; then ok "$1 ($n blocks)"; else not_ok "$1" "$n PDUs match $3"; fi
}

# verify_response [SEQ]: the client's verification of the last response to request SEQ (the
# current one by default); sets INNER to the inner response line, or to the failure.
verify_response() {
    INNER=$("$OSCORE_PEER" verify --seq "${1:-$SEQ}" --header "$RESP_HEADER" \
        --body-file "$WORK/resp.body" --out-payload "$WORK/inner.payload" 2>&1) ||
        INNER="verification failed: $INNER"
}

# expect_protected NAME WANT_INNER_LINE: an OSCORE answer (200, OSCORE header, application/oscore)
# that verifies to WANT_INNER_LINE.
expect_protected() {
    expect_eq "$1: HTTP 200 (outer 2.04 Changed)" 200 "$STATUS"
    expect_match "... with an OSCORE header" '^[A-Za-z0-9_-]{2,}$' "$RESP_HEADER"
    expect_eq "... and Content-Type: application/oscore" application/oscore "$(header content-type)"
    verify_response
    expect_eq "... verifies to the inner response" "$2" "$INNER"
}

# expect_unprotected NAME STATUS DIAGNOSTIC: an OSCORE error the server sent unprotected (s8.2).
expect_unprotected() {
    expect_eq "$1: HTTP $2" "$2" "$STATUS"
    expect_eq "... with no OSCORE header" "" "$RESP_HEADER"
    expect_match "... and the server's diagnostic" "$3" "$BODY"
}

# ---- inner requests and responses ---------------------------------------------------------------
protect_next GET /hello
send_protected
expect_protected "GET /hello" "code=2.05 cf=0 payload=Hello World!"
verify_response $((SEQ + 1))
expect_match "the response does not verify as the answer to another request (s5.4 binds it)" \
    '^verification failed' "$INNER"

printf 'OSCORE through hcproxy' >"$WORK/echo.in"
protect_next POST /echo --payload-file "$WORK/echo.in" --content-format 0
send_protected
expect_protected "POST /echo" "code=2.04 cf=0 payload=OSCORE through hcproxy"

protect_next GET /nope
send_protected
expect_protected "GET /nope: the inner 4.04 travels protected" "code=4.04 cf=- payload=Not Found"

# ---- OSCORE errors: unprotected, mapped by RFC 8075 (4.01 -> 403, 4.00 -> 400) -------------------
protect_next GET /hello
send_protected
expect_eq "a fresh request is answered (200)" 200 "$STATUS"
send_protected
expect_unprotected "the same request again (replay, s7.4)" 403 "Replay detected"

protect_next GET /hello
cp "$WORK/req.body" "$WORK/tampered.body"
"$PY" -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[0] ^= 1; open(sys.argv[1], "wb").write(b)' \
    "$WORK/tampered.body"
send_protected "$WORK/tampered.body"
expect_unprotected "a body with one flipped bit" 400 "Decryption failed"
send_protected
expect_protected "the untampered request after it (a failed request leaves the replay window)" \
    "code=2.05 cf=0 payload=Hello World!"

# Context C.2's client has Sender ID 00, for which this server holds no Recipient Context.
REQ_HEADER=$("$OSCORE_PEER" protect -c c2 --method GET --path /hello --seq 1 --out-body "$WORK/req.body")
send_protected
expect_unprotected "an unknown kid" 403 "Security context not found"

# ---- 20 KiB both ways: outer Block1 up and outer Block2 down, hop by hop (s4.1.3.4) ----------------
head -c 20480 /dev/urandom >"$WORK/big.in"
protect_next POST /echo --payload-file "$WORK/big.in"
log_lines=$(wc -l <"$WORK/oscore-server.out")
send_protected
expect_eq "POST /echo with 20480 bytes: HTTP 200" 200 "$STATUS"
expect_blocks "... sent to the server in outer Block1 blocks" "$log_lines" 't:CON c:POST .*Block1:'
expect_blocks "... answered in outer Block2 blocks" "$log_lines" 't:ACK c:2\.04 .*Block2:'
verify_response
expect_match "... verifies to a 2.04" '^code=2\.04 cf=- payload=hex:' "$INNER"
if cmp -s "$WORK/big.in" "$WORK/inner.payload"; then ok "... echoing the 20480 bytes unchanged"
else not_ok "... echoing the 20480 bytes unchanged" "$(stat -c %s "$WORK/inner.payload" 2>/dev/null) bytes"; fi

"$PY" -c 'import sys; sys.stdout.buffer.write(bytes(i % 256 for i in range(20480)))' >"$WORK/pattern"
protect_next GET '/big?n=20480'
log_lines=$(wc -l <"$WORK/oscore-server.out")
send_protected
expect_eq "GET /big?n=20480: HTTP 200" 200 "$STATUS"
expect_blocks "... answered in outer Block2 blocks" "$log_lines" 't:ACK c:2\.04 .*Block2:'
verify_response
expect_match "... verifies to a 2.05" '^code=2\.05 cf=42 payload=hex:' "$INNER"
if cmp -s "$WORK/pattern" "$WORK/inner.payload"; then ok "... with the 20480 bytes"
else not_ok "... with the 20480 bytes" "$(stat -c %s "$WORK/inner.payload" 2>/dev/null) bytes"; fi

if [ "$TAP_FAILED" -gt 0 ]; then
    echo "# oscore-peer server's log:"
    grep -v '^v:1' "$WORK/oscore-server.out" | sed 's/^/#   /'
fi
done_testing
