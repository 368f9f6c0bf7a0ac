#!/usr/bin/env bash
# Every failure gets exactly one precise answer: bad targets, refused destinations, methods CoAP
# lacks, bodies over the limit, silent and unreachable CoAP servers.
. "$(dirname "$0")/lib.sh"

start_testserver
# Multicast ranges in upstream.allow on purpose: no rule can open them (RFC 8075 s10.4).
start_hcproxy --upstream-timeout-ms 400 --http-max-body-bytes 1000 \
    --upstream-allow '*://127.0.0.0/8,*://[::1],coap://224.0.0.0/4,coap://[ff00::]/8'
T="coap://127.0.0.1:$TS_PORT"
OWN_COAP=$(grep -o -m1 'listening on coap://[^ "]*' "$WORK/hcproxy.log" | sed 's/.*:\([0-9][0-9]*\).*/\1/')

http "http://$PROXY/hc/127.0.0.1/x"
expect_eq "a target without scheme is a 400" 400 "$STATUS"
expect_match "... with a one-line reason" "no scheme" "$BODY"
http "http://$PROXY/hc/coap://127.0.0.1:99999/x"
expect_eq "a target port out of range is a 400" 400 "$STATUS"
http --request-target "/hc/coap://127.0.0.1:$TS_PORT/echo#frag" "http://$PROXY/"
expect_eq "a target with a fragment is a 400" 400 "$STATUS"
http "http://$PROXY/hc/http://127.0.0.1/x"
expect_eq "a non-CoAP scheme is a 400" 400 "$STATUS"
http "http://$PROXY/hc/coaps://127.0.0.1/x"
expect_eq "a coaps server without an upstream.credentials entry is a 502" 502 "$STATUS"
expect_match "... saying so" "no upstream.credentials entry" "$BODY"
http "http://$PROXY/hc/coap://192.0.2.1/x"
expect_eq "a destination outside upstream.allow is a 403" 403 "$STATUS"
expect_match "... saying so" "refused by policy" "$BODY"
http "http://$PROXY/hc/coap://224.0.1.187/x"
expect_eq "a multicast destination is a 403 even when upstream.allow names it" 403 "$STATUS"
expect_match "... saying why" "multicast destinations are refused" "$BODY"
http "http://$PROXY/hc/coap://%5Bff02::fd%5D/x"
expect_eq "... an IPv6 multicast group too" 403 "$STATUS"
http "http://$PROXY/hc/coap://127.0.0.1:$OWN_COAP/x"
expect_eq "hcproxy's own CoAP listener as the destination is a 508, not a loop" 508 "$STATUS"
expect_match "... saying why" "this proxy itself" "$BODY"
http "http://$PROXY/elsewhere"
expect_eq "a path outside the HC proxy path is a 404" 404 "$STATUS"

for m in OPTIONS TRACE BREW; do
    http -X "$m" "http://$PROXY/hc/$T/echo"
    expect_eq "$m has no CoAP equivalent: 501" 501 "$STATUS"
done

head -c 2000 /dev/zero >"$WORK/big"
http -H 'Content-Type: application/octet-stream' --data-binary @"$WORK/big" "http://$PROXY/hc/$T/echo"
expect_eq "a body over http.max_body_bytes is a 413" 413 "$STATUS"
http -H 'Content-Type: application/octet-stream' -H 'Transfer-Encoding: chunked' --data-binary @"$WORK/big" "http://$PROXY/hc/$T/echo"
expect_eq "a chunked body over the limit is a 413 too" 413 "$STATUS"

http "http://$PROXY/hc/$T/silent"
expect_eq "a CoAP server that never answers gives 504" 504 "$STATUS"
expect_match "... with a one-line reason" "did not answer in time" "$BODY"

DEAD_PORT=$(free_udp_port)
http "http://$PROXY/hc/coap://127.0.0.1:$DEAD_PORT/x"
expect_eq "an unreachable CoAP server (ICMP port unreachable) gives 502" 502 "$STATUS"

http "http://$PROXY/hc/$T/echo?still-alive"
expect_eq "the proxy still serves after all of that" "200 still-alive" "$STATUS $BODY"
expect_eq "nothing is left in flight" 0 "$(metric hcproxy_exchanges_inflight)"
if stop_hcproxy; then ok "hcproxy exits 0 on SIGTERM"; else not_ok "hcproxy exits 0 on SIGTERM"; fi

done_testing
