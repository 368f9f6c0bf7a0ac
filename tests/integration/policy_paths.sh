#!/usr/bin/env bash
# Path prefixes in upstream.allow and origin.allow: a rule with a path lets through its own
# segments and what lies below them, compared segment by segment once percent-decoded, and
# nothing else on that server. An OSCORE request shows no path (it is in the ciphertext), so
# only a rule without one can let it through.
. "$(dirname "$0")/lib.sh"

start_origin
start_testserver
start_hcproxy --upstream-allow "coap://127.0.0.1:$TS_PORT/echo,coap://localhost:$TS_PORT/created/" \
    --origin-allow "http://127.0.0.1:$OP/echo,http://localhost:$OP/hops/"
T="coap://127.0.0.1:$TS_PORT"
CP=$(grep -o -m1 'listening on coap://[^ "]*' "$WORK/hcproxy.log" | sed 's/.*:\([0-9][0-9]*\).*/\1/')

# ---- HTTP -> CoAP: upstream.allow ----
http "http://$PROXY/hc/$T/echo?inside"
expect_eq "the rule's own path is served" "200 inside" "$STATUS $BODY"
http "http://$PROXY/hc/$T/%65cho?encoded"
expect_eq "... also spelt with a percent-encoding" "200 encoded" "$STATUS $BODY"
http "http://$PROXY/hc/$T/bytes?n=3"
expect_eq "another path on the same server is a 403" 403 "$STATUS"
expect_match "... saying it is refused by policy" "refused by policy" "$BODY"
http "http://$PROXY/hc/$T/echox"
expect_eq "a segment that only begins with the prefix is a 403" 403 "$STATUS"
http "http://$PROXY/hc/$T/echo%2Fx"
expect_eq "an encoded slash does not end the segment: 403" 403 "$STATUS"
http --path-as-is "http://$PROXY/hc/$T/echo/../bytes"
expect_eq "a dot segment cannot climb out: 400" 400 "$STATUS"
http "http://$PROXY/hc/$T/"
expect_eq "the server's root is outside the prefix: 403" 403 "$STATUS"
# A '/' or '\' encoded inside a segment below the prefix: the CoAP server would be given
# "../../bytes" as one Uri-Path, which some servers resolve.
for p in '..%2F..%2Fbytes' '..%2f..%2fbytes' '..%5C..%5Cbytes' 'a%00b'; do
    http "http://$PROXY/hc/$T/echo/$p"
    expect_eq "a path rule does not pass /echo/$p: 403" 403 "$STATUS"
done
http -X POST "http://$PROXY/hc/coap://localhost:$TS_PORT/created"
expect_eq "a name rule with a path: its path is served" 201 "$STATUS"
http -X POST -H 'Content-Type: application/oscore' -H 'OSCORE: CRQ' --data-binary 'ciphertext' \
    "http://$PROXY/hc/coap://localhost:$TS_PORT/"
expect_eq "an OSCORE request shows no path, so a path rule cannot let it through: 403" 403 "$STATUS"

# ---- CoAP -> HTTP: origin.allow ----
P="coap://127.0.0.1:$CP"
coap -P "$P" -m post -t 0 -e 'to echo' "$O/echo"
expect_eq "an origin path the rule names is reached" "to echo" "$OUT"
coap -P "$P" "$O/hello"
expect_eq "another path on that origin gives 4.03" "4.03" "$CODE"
coap -P "$P" "$O/echo/../hello"
expect_eq "a dot segment in a Proxy-Uri does not climb out of the prefix: 4.03" "4.03" "$CODE"
coap -P "$P" -m put -t 0 -e 'below' "http://localhost:$OP/hops/0"
expect_eq "a path below a name rule's prefix is reached" "PUT below" "$OUT"
coap -P "$P" "http://localhost:$OP/hopsx"
expect_eq "a segment that only begins with the prefix gives 4.03" "4.03" "$CODE"
# Many HTTP servers decode %2F before routing: /echo/..%2F..%2Fhello would be /hello to them.
: >"$WORK/origin.record"
for p in '..%2F..%2Fhello' '..%5Chello'; do
    coap -P "$P" "$O/echo/$p"
    expect_eq "a Proxy-Uri with $p below the prefix gives 4.03" "4.03" "$CODE"
done
expect_eq "... and the origin never saw either" "" "$(cat "$WORK/origin.record")"

done_testing
