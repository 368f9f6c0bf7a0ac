#!/usr/bin/env bash
# EDHOC (RFC 9528) through hcproxy, both directions: an application and a device establish
# OSCORE keys end to end with POSTs to /.well-known/edhoc, and the proxy must carry each message
# byte for byte with its Content-Format, 64 (application/edhoc+cbor-seq) or 65
# (application/cid-edhoc+cbor-seq, a message prefixed by a connection identifier or true;
# RFC 9528 A.2). The messages below have EDHOC's shape (CBOR sequences: true or C_R, METHOD,
# SUITES_I, G_X as a byte string, ...), not real key material: the proxy must not look inside.
. "$(dirname "$0")/lib.sh"

start_testserver
start_origin
start_hcproxy
T="coap://127.0.0.1:$TS_PORT"
CP=$(grep -o -m1 'listening on coap://[^ "]*' "$WORK/hcproxy.log" | sed 's/.*:\([0-9][0-9]*\).*/\1/')
unhex() { "$PY" -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.argv[1]))' "$1"; }
hexof() { "$PY" -c 'import sys; print(open(sys.argv[1], "rb").read().hex())' "$1"; }

MSG1=f50302582000ff11ee22dd33cc44bb55aa66997788776699aa55bb44cc33dd22ee11ff0037   # true, 3, 2, G_X, C_I
MSG2=58420102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff
MSG3=2752d5535f3147e85f1cfacd9e78abf9e0a81bbf

# ---- HTTP application -> CoAP device ----
for row in "1|$MSG1|application/cid-edhoc+cbor-seq" "2|$MSG2|application/edhoc+cbor-seq" \
           "3|$MSG3|application/cid-edhoc+cbor-seq"; do
    IFS='|' read -r n msg type <<<"$row"
    unhex "$msg" >"$WORK/m$n"
    http -H "Content-Type: $type" --data-binary "@$WORK/m$n" "http://$PROXY/hc/$T/echo"
    expect_eq "rfc9528-A.2 EDHOC message_$n from HTTP: the device echoes it with $type" \
        "200 $type" "$STATUS $(header content-type)"
    expect_eq "... byte for byte" "$msg" "$(hexof "$WORK/body")"
done

# ---- CoAP device -> HTTP application ----
P="coap://127.0.0.1:$CP"
for row in "1|$MSG1|65|application/cid-edhoc+cbor-seq" "2|$MSG2|64|application/edhoc+cbor-seq"; do
    IFS='|' read -r n msg cf type <<<"$row"
    unhex "$msg" >"$WORK/d$n"
    coap -P "$P" -m post -t "$cf" -f "$WORK/d$n" "$O/echo"
    expect_eq "rfc9528-A.2 EDHOC message_$n from a device with Content-Format $cf reaches the origin as $type" \
        "content-type: $type" "$(grep '^content-type:' "$WORK/origin.record")"
    expect_eq "... byte for byte" "body:$msg" "$(grep '^body:' "$WORK/origin.record")"
    expect_eq "... and comes back to the device unchanged" "$msg" "$(hexof "$WORK/coap.out")"
    expect_match "... with Content-Format $cf" "Content-Format:($cf|$type)" "$(cat "$WORK/coap.err")"
done

done_testing
