#!/usr/bin/env bash
# OSCORE crosses hcproxy byte for byte (RFC 8613 s11), proven with the Appendix C vectors: the
# C.4 protected request goes in through curl, the CoAP server (oscore-peer server --vector)
# records exactly what reached it and answers with the C.7 (then C.8) protected response, and
# curl must get exactly that back.
. "$(dirname "$0")/lib.sh"

OSCORE_PEER=${OSCORE_PEER:-"$(dirname "$HCPROXY")/../tests/peers/oscore-peer"}

C4_BODY=612f1092f1776f1c1668b3825e
# C.4 protected request after its 4-byte header and 4-byte token: Uri-Host, OSCORE, payload.
C4_AFTER_TOKEN=396c6f63616c686f7374620914ff612f1092f1776f1c1668b3825e
C7_BODY=dbaad1e9a7e7b2a813d3c31524378303cdafae119106
C8_BODY=4d4c13669384b67354b2b6175ff4b8658c666a6cf88e

unhex() { "$PY" -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.argv[1]))' "$1"; }
hexof() { "$PY" -c 'import sys; print(open(sys.argv[1], "rb").read().hex())' "$1"; }
# The CoAP wire encoding of the options and payload the server recorded (RFC 7252 s3.1).
encode_record() {
    "$PY" - "$1" <<'PYEOF'
import sys
out, last, payload = bytearray(), 0, b""
for line in open(sys.argv[1]):
    kind, _, rest = line.strip().partition(":")
    if kind == "opt":
        num, _, val = rest.partition(":")
        num, val = int(num), bytes.fromhex(val)
        def nib(v):
            return (v, b"") if v < 13 else (13, bytes([v - 13])) if v < 269 else (14, (v - 269).to_bytes(2, "big"))
        d, dx = nib(num - last); l, lx = nib(len(val))
        out += bytes([d << 4 | l]) + dx + lx + val
        last = num
    elif kind == "payload":
        payload = bytes.fromhex(rest)
if payload:
    out += b"\xff" + payload
print(out.hex())
PYEOF
}

for vector in c7 c8; do
    TS_PORT=$(free_udp_port)
    rec="$WORK/record.$vector"
    "$OSCORE_PEER" server -A 127.0.0.1 -p "$TS_PORT" --record "$rec" --vector "$vector" >"$WORK/ts.$vector" 2>&1 &
    PIDS+=($!)
    wait_for 10 grep -q '^ready' "$WORK/ts.$vector" || { echo "Bail out! oscore-peer server"; exit 1; }
    [ -n "${PROXY:-}" ] || start_hcproxy

    unhex "$C4_BODY" >"$WORK/c4.body"
    rm -f "$rec"
    http -X POST -H 'Content-Type: application/oscore' -H 'OSCORE: CRQ' \
        --data-binary @"$WORK/c4.body" "http://$PROXY/hc/coap://localhost:$TS_PORT/"
    expect_eq "[$vector] the CoAP server got POST 0.02" "code:0.02" "$(head -n1 "$rec" 2>/dev/null)"
    expect_eq "[$vector] options and payload on the wire are exactly C.4's (Uri-Host, OSCORE 0914, ciphertext)" \
        "$C4_AFTER_TOKEN" "$(encode_record "$rec")"
    if grep -q '^opt:12:' "$rec" || grep -q '^opt:16:' "$rec"; then
        not_ok "[$vector] no Content-Format and no Hop-Limit were added"
    else
        ok "[$vector] no Content-Format and no Hop-Limit were added"
    fi
    want_body=$C7_BODY; want_header=AA
    [ "$vector" = c8 ] && { want_body=$C8_BODY; want_header=AQA; }
    expect_eq "[$vector] curl gets 200" 200 "$STATUS"
    expect_eq "[$vector] ... with OSCORE: $want_header" "$want_header" "$(raw_header oscore)"
    expect_eq "[$vector] ... and Content-Type: application/oscore" "application/oscore" "$(header content-type)"
    expect_eq "[$vector] ... and the protected response's ciphertext, byte for byte" "$want_body" "$(hexof "$WORK/body")"
done

# The same request in the ?target_uri= form of RFC 8613 s11.5.
http -X POST -H 'Content-Type: application/oscore' -H 'OSCORE: CRQ' --data-binary @"$WORK/c4.body" \
    "http://$PROXY/hc/?target_uri=coap://localhost:$TS_PORT/"
expect_eq "the s11.5 ?target_uri= form reaches the server the same way" "$C4_AFTER_TOKEN" "$(encode_record "$rec")"

# What is refused, each with a reason: what RFC 8613 s11.1 rules out (a header that is not unpadded
# base64url, another method than POST, a path outside the ciphertext: s4.1.3.3), and what it leaves
# open (one of the header and application/oscore without the other): hcproxy refuses that too.
T="http://$PROXY/hc/coap://localhost:$TS_PORT/"
http -X POST -H 'Content-Type: application/oscore' -H 'OSCORE: CR+Q' --data-binary @"$WORK/c4.body" "$T"
expect_eq "a malformed OSCORE header is a 400" 400 "$STATUS"
http -X PUT -H 'Content-Type: application/oscore' -H 'OSCORE: CRQ' --data-binary @"$WORK/c4.body" "$T"
expect_eq "OSCORE on a PUT is a 400" 400 "$STATUS"
http -X POST -H 'OSCORE: CRQ' -H 'Content-Type: application/octet-stream' --data-binary @"$WORK/c4.body" "$T"
expect_eq "OSCORE without application/oscore is a 400" 400 "$STATUS"
http -X POST -H 'Content-Type: application/oscore' --data-binary @"$WORK/c4.body" "$T"
expect_eq "application/oscore without the OSCORE header is a 400" 400 "$STATUS"
http -X POST -H 'Content-Type: application/oscore' -H 'OSCORE: CRQ' --data-binary @"$WORK/c4.body" "${T}orders"
expect_eq "an OSCORE request with a visible path is a 400 (the path travels encrypted)" 400 "$STATUS"
expect_match "... saying so" "travel encrypted" "$BODY"

done_testing
