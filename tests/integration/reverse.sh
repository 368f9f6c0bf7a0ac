#!/usr/bin/env bash
# The reverse direction (RFC 7252 s10.1): coap-client-notls -> hcproxy -> a real HTTP origin,
# in the Proxy-Uri form (-P), the Proxy-Scheme form and through a reverse route.
. "$(dirname "$0")/lib.sh"

start_origin

start_hcproxy --coap-routes "/api/=$O/" --origin-timeout-ms 1500 --origin-redirects 2
CP=$(grep -o -m1 'listening on coap://[^ "]*' "$WORK/hcproxy.log" | sed 's/.*:\([0-9][0-9]*\).*/\1/')
P="coap://127.0.0.1:$CP"
hexof() { "$PY" -c 'import sys; print(open(sys.argv[1], "rb").read().hex())' "$1"; }

# libcurl is loaded on the first reverse request, not before (proxy/libcurl.c): an idle hcproxy
# does not carry it (about 5 MB of RSS, bench/README.md).
curl_mapped() { grep -c 'libcurl' "/proc/$1/maps" || true; }
expect_eq "an idle hcproxy has no libcurl mapped" "0" "$(curl_mapped "$PROXY_PID")"
# Two requests at once: the first starts the load and waits for it, and both are answered.
coap_client coap-client-notls -B 10 -P "$P" -o "$WORK/first1.out" "$O/hello" >/dev/null 2>&1 &
first=$!
coap -P "$P" "$O/hello"
wait "$first" || true
expect_eq "GET through Proxy-Uri reaches the origin" "hello from http" "$OUT"
expect_eq "... and so does the one sent at the same time" "hello from http" "$(cat "$WORK/first1.out" 2>/dev/null)"
expect_match "... after which libcurl is mapped" "^[1-9]" "$(curl_mapped "$PROXY_PID")"
expect_eq "... and the request was an HTTP GET of /hello" "GET /hello" "$(head -n1 "$WORK/origin.record")"
coap -P "$P" -m post -t 50 -e '{"a":1}' "$O/echo"
expect_eq "POST with Content-Format 50 arrives as application/json and comes back" '{"a":1}' "$OUT"
expect_match "... the origin saw Content-Type: application/json" "content-type: application/json" "$(cat "$WORK/origin.record")"
coap -P "$P" -m post -e 'no format' "$O/echo"
expect_eq "a POST body without Content-Format reaches the origin without Content-Type" "" \
    "$(grep -i '^content-type:' "$WORK/origin.record" || true)"
coap -P "$P" -m put -t 0 -e 'text' "$O/echo"
expect_eq "PUT reaches the origin" "text" "$OUT"
coap -P "$P" -m delete "$O/echo"
expect_eq "DELETE reaches the origin" "DELETE /echo" "$(head -n1 "$WORK/origin.record")"
coap -N -P "$P" -m post -t 60 -e 'cbor' "$O/echo"
expect_eq "a non-confirmable POST is answered" "cbor" "$OUT"
expect_match "... with a NON 2.04 carrying Content-Format application/cbor (60) back" \
    "t:NON c:2.04 .*Content-Format:application/cbor" "$(cat "$WORK/coap.err")"
expect_match "... which the origin saw as Content-Type: application/cbor" "content-type: application/cbor" \
    "$(cat "$WORK/origin.record")"

# The Proxy-Scheme form: Proxy-Scheme, Uri-Host and Uri-Port name the origin (RFC 7252 s5.10.2,
# s6.5); coap-client-notls will not send "http" there, so coap-probe does.
hexs() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
PROBE=${PROBE:-$(dirname "$HCPROXY")/../tests/peers/coap-probe}
"$PROBE" -p "$CP" -O "3,$(hexs 127.0.0.1)" -O "7,$(printf '%04x' "$OP")" -O "11,$(hexs hello)" \
    -O "39,$(hexs http)" -o "$WORK/scheme.out" - >"$WORK/probe.txt" || true
expect_eq "GET through Proxy-Scheme + Uri-Host + Uri-Port + Uri-Path" "hello from http" \
    "$(cat "$WORK/scheme.out" 2>/dev/null)"

# A reverse route for devices that cannot set proxy options.
coap "$P/api/hello"
expect_eq "GET through the coap.routes prefix /api/" "hello from http" "$OUT"

# Status codes back to CoAP codes.
for row in "404|4.04" "500|5.00" "503|5.03" "403|4.03"; do
    st=${row%%|*}; want=${row#*|}
    coap -P "$P" "$O/status/$st"
    expect_eq "HTTP $st becomes CoAP $want" "$want" "$CODE"
done

# Large bodies, RFC 7959. An origin that answers within coap.piggyback_wait_ms has its first block
# piggybacked, which every libcoap client reads on: coap-client-notls gets the whole of it.
"$PY" -c "import sys; sys.stdout.buffer.write(bytes(i % 256 for i in range(1048576)))" >"$WORK/pattern"
coap -P "$P" "$O/bytes?n=1048576"
if cmp -s "$WORK/coap.out" "$WORK/pattern"; then ok "coap-client-notls gets a 1 MiB HTTP answer whole, in Block2 blocks"
else not_ok "coap-client-notls gets a 1 MiB HTTP answer whole, in Block2 blocks" "$(stat -c %s "$WORK/coap.out" 2>/dev/null) bytes, code $CODE"; fi
# A Block2 answer that starts in a separate response is beyond Debian's libcoap 4.3.1 clients
# (obgm/libcoap#1595, fixed in 4.3.5), so coap-probe fetches the blocks itself.
"$PROBE" -p "$CP" -o "$WORK/big" "$O/bytes?n=1048576" >"$WORK/probe.txt" || true
if cmp -s "$WORK/big" "$WORK/pattern"; then ok "a 1 MiB HTTP answer reaches the CoAP client in Block2 blocks, byte for byte"
else not_ok "a 1 MiB HTTP answer reaches the CoAP client in Block2 blocks, byte for byte" "$(stat -c %s "$WORK/big" 2>/dev/null) bytes"; fi
coap -P "$P" -m post -t 42 -f "$WORK/pattern" "$O/sha256"
expect_eq "a 1 MiB upload in Block1 blocks arrives at the origin whole" \
    "$(sha256sum "$WORK/pattern" | cut -d' ' -f1)" "$OUT"

# OSCORE, RFC 8613 Appendix C.4: the protected request as a CoAP client sends it to a
# proxy, and the C.7 answer the origin gives back, byte for byte in both directions.
"$PY" -c 'import sys; sys.stdout.buffer.write(bytes.fromhex("612f1092f1776f1c1668b3825e"))' >"$WORK/c4"
# An OSCORE client sends the target as Proxy-Scheme, Uri-Host and Uri-Port, never as Proxy-Uri
# (RFC 8613 s4.1.3.3); libcoap 4.3.2 and later drop an OSCORE request with a Proxy-Uri before
# hcproxy sees it (README.md, "OSCORE").
"$PROBE" -p "$CP" -m post -O "3,$(hexs 127.0.0.1)" -O "7,$(printf '%04x' "$OP")" -O 9,0914 \
    -O "39,$(hexs http)" -f "$WORK/c4" -o "$WORK/c7" - >"$WORK/probe.txt" || true
expect_eq "the origin got POST / with OSCORE: CRQ, application/oscore and the C.4 ciphertext" \
    "POST / | application/oscore | CRQ | 612f1092f1776f1c1668b3825e" \
    "$(head -n1 "$WORK/origin.record") | $(sed -n 's/^content-type: //p' "$WORK/origin.record") | $(sed -n 's/^oscore: //p' "$WORK/origin.record") | $(sed -n 's/^body://p' "$WORK/origin.record")"
expect_eq "the CoAP client got 2.04 with an empty OSCORE option and no Content-Format" \
    $'code:2.04\nopt:9:' "$(cat "$WORK/probe.txt")"
expect_eq "... and the C.7 ciphertext" "dbaad1e9a7e7b2a813d3c31524378303cdafae119106" \
    "$("$PY" -c 'import sys; print(open(sys.argv[1], "rb").read().hex())' "$WORK/c7")"

# A slow origin, slower than coap.piggyback_wait_ms (1 s): the answer comes as a separate response,
# after an empty ACK.
coap -P "$P" "$O/slow?ms=1300"
expect_eq "a slow origin is answered (separate response)" "slow" "$OUT"
expect_match "... after an empty ACK" "t:ACK c:0\.00" "$(cat "$WORK/coap.err")"

# Redirects: 307 and 308 keep method and body (RFC 9110 s15.4.8-9), so hcproxy follows them, up
# to origin.redirects (2 here) and only to origins origin.allow lets through.
enc() { "$PY" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
coap -P "$P" -m post -t 0 -e 'moved body' "$O/redirect?to=$(enc "$O/echo")"
expect_eq "a 307 is followed with the same method and body" "moved body" "$OUT"
expect_eq "... the origin saw the POST at the new URL" "POST /echo" "$(head -n1 "$WORK/origin.record")"
coap -P "$P" -m put -t 0 -e 'two hops' "$O/hops/2"
expect_eq "two relative 308s are followed (origin.redirects 2)" "PUT two hops" "$OUT"
coap -P "$P" "$O/hops/3"
expect_eq "a third redirect is not: 5.02" "5.02" "$CODE"
# An origin that resets each kept-alive connection when hcproxy reuses it, as a server closing
# an idle connection just then does: libcurl sends the request again on a new connection.
"$PY" "$ORIGIN" "$WORK/resetting.record" --reset-reused >"$WORK/resetting.out" 2>&1 &
PIDS+=($!)
wait_for 10 grep -q '^ready' "$WORK/resetting.out" || { echo "Bail out! the resetting origin did not start"; exit 1; }
R="http://127.0.0.1:$(sed -n 's/^ready //p' "$WORK/resetting.out")"
coap -P "$P" -m put -t 0 -e 'two hops' "$R/hops/2"
expect_eq "an origin that resets each connection when it is reused: two 308s are followed" \
    "PUT two hops" "$OUT"
coap -P "$P" "$R/hello"
expect_eq "... and the next exchange, on the connection the last one left open" "hello from http" "$OUT"
# RFC 9110 s9.2.2: a proxy MUST NOT retry a non-idempotent request by itself. The origin above
# resets a reused connection after reading the request on it, as one that fails mid-request
# would: a POST there would reach it twice, once before the reset and once on libcurl's retry.
coap -P "$P" -m post -t 0 -e 'once' "$R/echo"
expect_eq "rfc9110-9.2.2 a POST never goes on a reused connection, so it is never sent twice" \
    "2.04 1" "$CODE $(grep -c 'POST /echo' "$WORK/resetting.record.all")"
coap -P "$P" "$O/redirect?code=302&to=$(enc "$O/hello")"
expect_eq "a 302 (it may change the method) is not followed: 5.02" "5.02" "$CODE"
coap -P "$P" "$O/redirect?to=$(enc "http://192.0.2.1/x")"
expect_eq "a redirect to an origin outside origin.allow gives 4.03" "4.03" "$CODE"
coap -P "$P" "$O/redirect?to=$(enc "ftp://127.0.0.1/x")"
expect_eq "a redirect to a scheme hcproxy cannot proxy gives 5.05" "5.05" "$CODE"

# Failures, each with its code and a diagnostic payload.
DEAD=$(free_udp_port)
coap -P "$P" "http://127.0.0.1:$DEAD/"
expect_eq "an origin that is down gives 5.02" "5.02" "$CODE"
coap -P "$P" "$O/slow?ms=5000"
expect_eq "an origin that does not answer in origin.timeout_ms gives 5.04" "5.04" "$CODE"
coap -P "$P" "http://192.0.2.1/"
expect_eq "an origin outside origin.allow gives 4.03" "4.03" "$CODE"
coap -P "$P" "ftp://127.0.0.1/"
expect_eq "a scheme hcproxy cannot proxy gives 5.05" "5.05" "$CODE"
coap -P "$P" "http://224.0.0.1/"
expect_eq "a multicast origin gives 4.03" "4.03" "$CODE"
coap -P "$P" "http://$PROXY/hc/coap://127.0.0.1/x"
expect_eq "hcproxy's own HTTP listener as the origin gives 5.08, not a loop" "5.08" "$CODE"
expect_match "... saying why" "this proxy itself" "$(cat "$WORK/coap.err")"
coap "$P/no-route"
expect_eq "a path with no route and no proxy option gives 4.04" "4.04" "$CODE"

# The log: every line about one CoAP request carries its exchange id under "exchange", drawn from
# the one counter the HTTP -> CoAP direction's exchanges draw from. A request redirected to an
# origin that is down has three lines: the redirect followed, libcurl's failure (proxy/
# origin_easy.c), and the answer; a refused request has one, with an id of its own.
exchange_ids() { sed -n 's/.*"exchange":\([0-9][0-9]*\).*/\1/p' "$1" | sort -u; }
# new_lines FILE: the log lines written since the last call, into FILE.
LOG_SEEN=$(wc -l <"$WORK/hcproxy.log")
new_lines() { tail -n +$((LOG_SEEN + 1)) "$WORK/hcproxy.log" >"$1"; LOG_SEEN=$(wc -l <"$WORK/hcproxy.log"); }
new_lines /dev/null
http "http://$PROXY/coap://127.0.0.1:$(free_udp_port)/x?y" -H 'Authorization: Bearer none' -X BREW
new_lines "$WORK/fwd.log"
fwd=$(exchange_ids "$WORK/fwd.log")
expect_match "an HTTP request's line carries its exchange id" "^[1-9][0-9]*$" "$fwd"
DEAD=$(free_udp_port)
coap -P "$P" "$O/redirect?to=$(enc "http://127.0.0.1:$DEAD/moved")"
new_lines "$WORK/rev.log"
expect_eq "a CoAP request redirected to an origin that is down: 5.02" "5.02" "$CODE"
expect_eq "... logged in three lines (the redirect, libcurl's failure, the answer), each with an exchange id" \
    "3 3" "$(wc -l <"$WORK/rev.log") $(grep -c '"exchange":' "$WORK/rev.log")"
expect_match "... libcurl's failure among them" "\"msg\":\"origin http://127.0.0.1:$DEAD/moved: " \
    "$(cat "$WORK/rev.log")"
expect_eq "... one and the same id, the next one after the HTTP request's" "$((fwd + 1))" \
    "$(exchange_ids "$WORK/rev.log" | tr '\n' ' ' | sed 's/ $//')"
coap -P "$P" -O 16,0x00 "$O/hello"
new_lines "$WORK/refused.log"
expect_eq "a CoAP request refused at once (Hop-Limit 0, RFC 8768 s3): 4.00" "4.00" "$CODE"
expect_eq "... its one line carries the next id" "1 $((fwd + 2))" \
    "$(wc -l <"$WORK/refused.log") $(exchange_ids "$WORK/refused.log")"

# HTTPS origins: certificates are verified by default, against origin.ca_file when set. The test
# makes its own CA and a certificate for 127.0.0.1 signed by it.
test_ca ca
test_cert origin 127.0.0.1 "subjectAltName = IP:127.0.0.1"
"$PY" "$ORIGIN" "$WORK/tls.record" "$WORK/origin.pem" "$WORK/origin.key" >"$WORK/tls.out" 2>&1 &
PIDS+=($!)
wait_for 10 grep -q '^ready' "$WORK/tls.out" || { echo "Bail out! the HTTPS origin did not start"; exit 1; }
S="https://127.0.0.1:$(sed -n 's/^ready //p' "$WORK/tls.out")"
restart_with() {
    stop_hcproxy || true
    start_hcproxy "$@"
    CP=$(grep -o -m1 'listening on coap://[^ "]*' "$WORK/hcproxy.log" | sed 's/.*:\([0-9][0-9]*\).*/\1/')
    P="coap://127.0.0.1:$CP"
}
restart_with --origin-ca-file "$WORK/ca.pem"
coap -P "$P" "$S/hello"
expect_eq "an HTTPS origin whose certificate origin.ca_file vouches for is reached" "hello from http" "$OUT"
coap -P "$P" -m post -t 0 -e 'over tls' "$S/echo"
expect_eq "... POST over HTTPS" "over tls" "$OUT"
restart_with
coap -P "$P" "$S/hello"
expect_eq "an HTTPS origin with a certificate no trusted CA signed gives 5.02" "5.02" "$CODE"
expect_match "... with the reason as its diagnostic payload" "the origin's TLS certificate could not be verified" \
    "$(cat "$WORK/coap.err")"
expect_match "... and libcurl's words in the log" "origin https://127.0.0.1:[0-9]*/hello: .*certificate" "$(cat "$WORK/hcproxy.log")"
restart_with --origin-verify-tls false --coap-max-body-bytes 1000
coap -P "$P" "$S/hello"
expect_eq "with origin.verify_tls false the same origin is reached" "hello from http" "$OUT"

# A request body over coap.max_body_bytes, reassembled from Block1 blocks: 4.13 and its reason.
head -c 3000 "$WORK/pattern" >"$WORK/3000"
coap -P "$P" -m post -t 42 -f "$WORK/3000" "$O/sha256"
expect_eq "a body over coap.max_body_bytes gives 4.13" "4.13" "$CODE"
expect_match "... with its reason" "request body exceeds the configured limit" "$(cat "$WORK/coap.err")"

# libcurl cannot be loaded: a file of that name that is no library comes first on the search path.
# Each request is answered once, 5.00 with the reason: the one that tried the load and waited for
# it, and those after it.
stop_hcproxy || true
mkdir "$WORK/nolib"
: >"$WORK/nolib/libcurl-gnutls.so.4"
LD_LIBRARY_PATH="$WORK/nolib" start_hcproxy --coap-routes "/api/=$O/"
CP=$(grep -o -m1 'listening on coap://[^ "]*' "$WORK/hcproxy.log" | sed 's/.*:\([0-9][0-9]*\).*/\1/')
P="coap://127.0.0.1:$CP"
coap_client coap-client-notls -B 10 -v 7 -P "$P" "$O/hello" >"$WORK/nolib1.err" 2>&1 &
first=$!
coap -P "$P" "$O/hello"
wait "$first" || true
expect_eq "without libcurl, a reverse request gives 5.00" "5.00" "$CODE"
expect_match "... with the reason as its payload" "libcurl\) could not be loaded" "$(cat "$WORK/coap.err")"
expect_eq "... and so does the one sent at the same time" "5.00" \
    "$(grep -a -o 'c:[2-5]\.[0-9][0-9]' "$WORK/nolib1.err" | tail -n1 | sed 's/c://')"
coap "$P/api/hello"
expect_eq "... and every later one" "5.00" "$CODE"
expect_eq "three requests, three answers (hcproxy logs each once)" "3" \
    "$(grep -c -- '-> 5.00 (the proxy.s HTTP client library' "$WORK/hcproxy.log")"
expect_match "the log says why" "no HTTP client: .*libcurl-gnutls.so.4" "$(cat "$WORK/hcproxy.log")"
http "http://$PROXY/healthz"
expect_eq "the HTTP -> CoAP direction is unaffected" "200 ok" "$STATUS $BODY"

done_testing
