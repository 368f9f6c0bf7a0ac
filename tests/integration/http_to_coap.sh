#!/usr/bin/env bash
# curl -> hcproxy -> CoAP servers: methods, payloads, content formats, response codes, both
# target URI forms, against libcoap's coap-server-notls and hcproxy's coap-testserver.
. "$(dirname "$0")/lib.sh"

start_testserver
start_coap_server
start_hcproxy
T="coap://127.0.0.1:$TS_PORT"

# libcoap's own example server, as in the README.
http "http://$PROXY/hc/coap://127.0.0.1:$CS_PORT/"
expect_eq "GET coap-server-notls / through the default mapping" 200 "$STATUS"
expect_match "coap-server-notls's index text arrives" "libcoap" "$BODY"
http "http://$PROXY/hc/coap://127.0.0.1:$CS_PORT/time"
expect_eq "GET coap-server-notls /time" 200 "$STATUS"
http "http://$PROXY/hc/?target_uri=coap://127.0.0.1:$CS_PORT/time"
expect_eq "GET through the ?target_uri= form" 200 "$STATUS"
http "http://$PROXY/hc/coap://127.0.0.1:$CS_PORT/no-such-resource"
expect_eq "a CoAP 4.04 becomes HTTP 404" 404 "$STATUS"

# Methods against the echo resource.
http "http://$PROXY/hc/$T/echo?hello=1&x=y"
expect_eq "GET maps to CoAP GET (2.05 -> 200)" 200 "$STATUS"
expect_eq "Uri-Query options arrive as sent, one per argument" "hello=1&x=y" "$BODY"
http -X POST -H 'Content-Type: text/plain; charset=utf-8' --data-binary 'posted' "http://$PROXY/hc/$T/echo"
expect_eq "POST maps to CoAP POST (2.04 with payload -> 200)" "200 posted" "$STATUS $BODY"
expect_eq "Content-Format 0 comes back as text/plain; charset=utf-8" "text/plain; charset=utf-8" "$(header content-type)"
http -X PUT -H 'Content-Type: application/json' --data-binary '{"on":true}' "http://$PROXY/hc/$T/echo"
expect_eq "PUT maps to CoAP PUT with Content-Format 50" '200 {"on":true}' "$STATUS $BODY"
expect_eq "Content-Format 50 comes back as application/json" "application/json" "$(header content-type)"
http -X DELETE "http://$PROXY/hc/$T/echo"
expect_eq "DELETE maps to CoAP DELETE (2.02 without payload -> 204)" 204 "$STATUS"
out=$(curl -s -I --max-time 20 -o /dev/null -w '%{http_code} %{size_download}' "http://$PROXY/hc/$T/echo?head")
expect_eq "HEAD is answered as GET without a body" "200 0" "$out"

# A binary payload round trip, byte for byte.
head -c 700 /dev/urandom >"$WORK/binary"
curl -s --max-time 20 -o "$WORK/binary.back" -H 'Content-Type: application/octet-stream' \
    --data-binary @"$WORK/binary" "http://$PROXY/hc/$T/echo"
if cmp -s "$WORK/binary" "$WORK/binary.back"; then ok "700 random bytes come back unchanged"
else not_ok "700 random bytes come back unchanged"; fi

# expect_echoed_types LABEL SENT|WANT...: each Content-Type SENT to the echo resource comes back
# as WANT, the media type of the Content-Format the server received.
expect_echoed_types() {
    local label=$1 row sent want; shift
    for row in "$@"; do
        sent=${row%%|*}; want=${row#*|}
        http -H "Content-Type: $sent" --data-binary 'x' "http://$PROXY/hc/$T/echo"
        expect_eq "$label: Content-Type $sent comes back as $want" "200 $want x" \
            "$STATUS $(header content-type) $BODY"
    done
}

# Content formats both ways.
expect_echoed_types "registered" "application/cbor|application/cbor" \
    "application/link-format|application/link-format" "application/xml|application/xml" \
    "application/senml+json|application/senml+json" "application/octet-stream|application/octet-stream" \
    "TEXT/PLAIN;CHARSET=UTF-8|text/plain; charset=utf-8" \
    "text/plain|text/plain; charset=utf-8" "text/plain; charset=US-ASCII|text/plain; charset=utf-8"
http -H 'Content-Type: application/x-unknown' --data-binary 'x' "http://$PROXY/hc/$T/echo"
expect_eq "a Content-Type with no Content-Format is refused with 415" 415 "$STATUS"

# Response codes.
for row in "2.01|201" "4.00|400" "4.01|403" "4.04|404" "4.05|400" "4.13|413" "4.15|415" \
           "5.00|500" "5.03|503" "5.04|504"; do
    code=${row%%|*}; want=${row#*|}
    http "http://$PROXY/hc/$T/code/$code"
    expect_eq "CoAP $code becomes HTTP $want" "$want" "$STATUS"
done
http "http://$PROXY/hc/$T/code/4.04"
expect_eq "a diagnostic payload reaches the HTTP body" "code 4.04" "$BODY"

# Host names are resolved without blocking the loop; IPv6 literals arrive with [ and ]
# percent-encoded (RFC 8075 s5.3.2).
http "http://$PROXY/hc/coap://localhost:$TS_PORT/echo?by-name"
expect_eq "a target host name (localhost) is resolved and reached" "200 by-name" "$STATUS $BODY"
if ip -6 addr show dev lo 2>/dev/null | grep -q '::1/128'; then
    V4_PORT=$TS_PORT
    start_testserver ::1
    http "http://$PROXY/hc/coap://%5B::1%5D:$TS_PORT/echo?v6"
    expect_eq "an IPv6 literal target, brackets percent-encoded, is reached" "200 v6" "$STATUS $BODY"
    TS_PORT=$V4_PORT
else
    ok "# SKIP no IPv6 loopback here"
fi

# Keep-alive: two requests on one connection. curl counts the connections each transfer opened
# (its verbose wording of a reuse differs between versions).
out=$(curl -s --max-time 20 -o /dev/null -o /dev/null -w '%{http_code}:%{num_connects} ' \
    "http://$PROXY/hc/$T/echo?a" "http://$PROXY/hc/$T/echo?b")
expect_eq "two requests reuse one HTTP connection" "200:1 200:0 " "$out"

# RFC 8075 s6.3, loose media types, configured: what curl sends by default and the common
# unregistered types reach the server with a near Content-Format instead of a 415.
expect_clean_exit
start_hcproxy --http-loose-media-types true
expect_echoed_types "loose" "application/x-www-form-urlencoded|application/octet-stream" \
    "text/plain|text/plain; charset=utf-8" "application/json; charset=utf-8|application/json" \
    "application/problem+json|application/json" "application/atom+xml|application/xml"
http -H 'Content-Type: application/json' -H 'Content-Encoding: gzip' --data-binary 'x' "http://$PROXY/hc/$T/echo"
expect_eq "loose: a coding without a Content-Format is still refused with 415" 415 "$STATUS"

# Every debug line about a coap:// request's datagrams names its exchange: the datagram to the
# server and the answer from it carry the access log line's "exchange".
expect_clean_exit
start_hcproxy --log-level debug
http "http://$PROXY/hc/$T/echo?traced"
expect_eq "debug: the exchange is answered" "200 traced" "$STATUS $BODY"
id=$(grep '"direction":"http_to_coap"' "$WORK/hcproxy.log" | grep -o '"exchange":[0-9]*' | tail -1)
expect_match "... its access log line carries an exchange id" '^"exchange":[1-9][0-9]*$' "$id"
expect_eq "... so do its datagrams' lines, to the server and from it" "2" \
    "$(grep -E '"msg":"upstream: (to|from) ' "$WORK/hcproxy.log" | grep -c -F "$id,")"

done_testing
