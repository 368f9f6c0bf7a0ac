#!/usr/bin/env bash
# Block-wise transfers (RFC 7959): a 1 MiB body goes upstream as Block1 blocks and a 1 MiB answer
# arriving in Block2 blocks is reassembled, byte for byte, against coap-server-notls and
# coap-testserver; the configured block size is used; responses over the limit are refused.
. "$(dirname "$0")/lib.sh"

start_testserver
start_coap_server
start_hcproxy --http-max-body-bytes 2000000 --upstream-max-response-bytes 1100000
T="coap://127.0.0.1:$TS_PORT"
MIB=1048576

head -c $MIB /dev/urandom >"$WORK/up"
"$PY" -c "import sys; sys.stdout.buffer.write(bytes(i % 256 for i in range($MIB)))" >"$WORK/pattern"

# coap-server-notls keeps what is PUT to /example_data and serves it back.
http -X PUT -H 'Content-Type: application/octet-stream' --data-binary @"$WORK/up" \
    "http://$PROXY/hc/coap://127.0.0.1:$CS_PORT/example_data"
expect_match "1 MiB PUT to coap-server-notls goes up block-wise (2.01/2.04)" "^20[14]$" "$STATUS"
curl -s --max-time 60 -o "$WORK/down" "http://$PROXY/hc/coap://127.0.0.1:$CS_PORT/example_data"
if cmp -s "$WORK/up" "$WORK/down"; then ok "the same 1 MiB comes back from coap-server-notls, reassembled"
else not_ok "the same 1 MiB comes back from coap-server-notls, reassembled" "$(stat -c %s "$WORK/down") bytes"; fi

# coap-testserver: a generated 1 MiB download, and a 1 MiB upload echoed back.
curl -s --max-time 60 -o "$WORK/bytes" -w '%{http_code}' "http://$PROXY/hc/$T/bytes?n=$MIB" >"$WORK/code"
expect_eq "1 MiB download from coap-testserver: 200" 200 "$(cat "$WORK/code")"
if cmp -s "$WORK/pattern" "$WORK/bytes"; then ok "... byte for byte"; else not_ok "... byte for byte"; fi
curl -s --max-time 60 -o "$WORK/echo" -H 'Content-Type: application/octet-stream' \
    --data-binary @"$WORK/up" "http://$PROXY/hc/$T/echo"
if cmp -s "$WORK/up" "$WORK/echo"; then ok "1 MiB POST echoed back: Block1 up, Block2 down, unchanged"
else not_ok "1 MiB POST echoed back: Block1 up, Block2 down, unchanged" "$(stat -c %s "$WORK/echo") bytes"; fi

http "http://$PROXY/hc/$T/bytes?n=1200000"
expect_eq "a response over upstream.max_response_bytes is a 502" 502 "$STATUS"
expect_match "... saying why" "exceeds the configured limit" "$BODY"

http "http://$PROXY/hc/$T/flaky?n=5000"
expect_eq "blocks of different representations are not passed off as one body: 502" 502 "$STATUS"

# The configured block size reaches the wire: with 64-byte blocks a 1000-byte body needs 16
# Block1 requests, which the server sees as separate datagrams.
stop_hcproxy || true
start_testserver 127.0.0.1 -v
T="coap://127.0.0.1:$TS_PORT"
start_hcproxy --upstream-block-size 64
head -c 1000 /dev/urandom >"$WORK/small"
curl -s --max-time 30 -o "$WORK/small.back" -H 'Content-Type: application/octet-stream' \
    --data-binary @"$WORK/small" "http://$PROXY/hc/$T/echo"
if cmp -s "$WORK/small" "$WORK/small.back"; then ok "64-byte blocks carry a 1000-byte body both ways"
else not_ok "64-byte blocks carry a 1000-byte body both ways"; fi
expect_eq "the server saw 16 Block1 requests of 64-byte blocks" 16 \
    "$(grep -c 'c:POST.*Block1:[0-9]*/[_M]/64' "$TS_OUT")"
curl -s --max-time 30 -o "$WORK/small.down" "http://$PROXY/hc/$T/bytes?n=1000"
if cmp -s <(head -c 1000 "$WORK/pattern") "$WORK/small.down"; then ok "a 1000-byte answer arrives whole in 64-byte blocks"
else not_ok "a 1000-byte answer arrives whole in 64-byte blocks"; fi
expect_eq "early negotiation (Block2 in the request): the server sent 16 blocks of 64 bytes" 16 \
    "$(grep -c 'c:2.05.*Block2:[0-9]*/[_M]/64' "$TS_OUT")"

done_testing
