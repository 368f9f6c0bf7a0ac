#!/usr/bin/env bash
# The HTTPS front end (https.*): curl over TLS with and without a client certificate, mutual TLS
# against https.client_ca_file, plain HTTP beside it, keep-alive, Location with https://. The
# test makes its own CA, a server certificate for 127.0.0.1, a client certificate that CA signed
# and one it did not.
. "$(dirname "$0")/lib.sh"

test_ca ca
test_cert server 127.0.0.1 "subjectAltName = IP:127.0.0.1"
test_cert client app.example
test_ca stranger

start_testserver
start_hcproxy --https-listen 127.0.0.1:0 --https-cert-file "$WORK/server.pem" \
    --https-key-file "$WORK/server.key"
SP=$(grep -o -m1 'listening on https://[0-9.:]*' "$WORK/hcproxy.log" | sed 's/.*://')
S="https://127.0.0.1:$SP/hc/coap://127.0.0.1:$TS_PORT"
TLS=(--cacert "$WORK/ca.pem")

http "${TLS[@]}" "$S/echo?over-tls"
expect_eq "curl over HTTPS reaches the CoAP server" "200 over-tls" "$STATUS $BODY"
http "http://$PROXY/hc/coap://127.0.0.1:$TS_PORT/echo?plain"
expect_eq "plain HTTP on http.listen still works beside it" "200 plain" "$STATUS $BODY"
http "$S/echo"
expect_eq "a client that does not trust the certificate gets no answer (curl: 000)" "000" "$STATUS"
http "${TLS[@]}" "$S/echo?after-a-failed-handshake"
expect_eq "... and hcproxy goes on serving (libcoap's GnuTLS audit hook no longer crashes it)" \
    "200 after-a-failed-handshake" "$STATUS $BODY"
http "${TLS[@]}" -X POST "$S/created"
expect_match "Location from a 2.01 says https://" "^https://127.0.0.1:$SP/hc/coap://" "$(header location)"
out=$(curl -s --max-time 10 "${TLS[@]}" -o /dev/null -o /dev/null -w '%{http_code}:%{num_connects} ' "$S/echo?a" "$S/echo?b" || true)
expect_eq "two requests on one TLS connection (keep-alive)" "200:1 200:0 " "$out"
# Near http.max_header_bytes (8192): every size answered over TLS too, hcproxy's 431 included,
# also where even it does not fit the pool and is written to the TLS session under
# libmicrohttpd (proxy/poolroom.c); never a connection closed with no answer.
"$PY" "${HTTPSWEEP:-$(dirname "$0")/../peers/http-sweep.py}" "127.0.0.1:$SP" \
    "/hc/coap://127.0.0.1:$TS_PORT/echo?sweep" 7500 8200 16 "$WORK/ca.pem" >"$WORK/sweep" 2>&1
classes=$(awk '{print $2}' "$WORK/sweep" | uniq | tr '\n' ' ')
expect_eq "requests of 7,500 to 8,200 bytes over TLS: served, then hcproxy's 431, then libmicrohttpd's" \
    "served 431-hcproxy 431-libmicrohttpd " "$classes"
[ "$classes" = "served 431-hcproxy 431-libmicrohttpd " ] || sed 's/^/# /' "$WORK/sweep"
expect_clean_exit

# Mutual TLS: only clients with a certificate from https.client_ca_file.
start_hcproxy --https-listen 127.0.0.1:0 --https-cert-file "$WORK/server.pem" \
    --https-key-file "$WORK/server.key" --https-client-ca-file "$WORK/ca.pem"
SP=$(grep -o -m1 'listening on https://[0-9.:]*' "$WORK/hcproxy.log" | sed 's/.*://')
S="https://127.0.0.1:$SP/hc/coap://127.0.0.1:$TS_PORT"
http "${TLS[@]}" "$S/echo?no-cert"
expect_eq "mTLS: without a client certificate, 403" 403 "$STATUS"
expect_match "... saying what is needed" "client certificate" "$BODY"
http "${TLS[@]}" --cert "$WORK/client.pem" --key "$WORK/client.key" "$S/echo?known"
expect_eq "mTLS: with a certificate the CA signed, served" "200 known" "$STATUS $BODY"
http "${TLS[@]}" --cert "$WORK/stranger.pem" --key "$WORK/stranger.key" "$S/echo?stranger"
expect_eq "mTLS: with a self-signed certificate, 403" 403 "$STATUS"
http "http://$PROXY/hc/coap://127.0.0.1:$TS_PORT/echo?loopback"
expect_eq "plain HTTP (a loopback sidecar) is not asked for a certificate" "200 loopback" "$STATUS $BODY"

# Bad configuration is refused at start, naming the key.
"$HCPROXY" --https-listen 127.0.0.1:0 --https-cert-file "$WORK/server.pem" --check-config >"$WORK/check" 2>&1 || true
expect_eq "https.listen without a key is refused" "hcproxy: --https-listen: needs https.cert_file and https.key_file" \
    "$(head -n1 "$WORK/check")"
"$HCPROXY" --https-listen 127.0.0.1:0 --https-cert-file "$WORK/server.pem" --https-key-file "$WORK/none.key" \
    --check-config >"$WORK/check" 2>&1 || true
expect_match "an unreadable key file is refused" "https-key-file: .*none.key: cannot read" "$(head -n1 "$WORK/check")"
"$HCPROXY" --http-listen 127.0.0.1:0 --https-listen 127.0.0.1:0 --https-cert-file "$WORK/ca.key" \
    --https-key-file "$WORK/server.key" --coap-listen '' >"$WORK/bad.log" 2>&1 &
BAD=$!
PIDS+=($BAD)
status=0
wait "$BAD" || status=$?
expect_eq "a certificate file that is no certificate stops hcproxy at start (exit 1)" 1 "$status"

done_testing
