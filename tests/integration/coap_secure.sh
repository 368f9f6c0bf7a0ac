#!/usr/bin/env bash
# CoAP clients reach HTTP origins over every transport hcproxy's CoAP side listens on
# (coap.listen): DTLS with a PSK or a certificate, CoAP over TCP, CoAP over TLS (RFC 8323), and
# mutual TLS with coap.client_ca_file. libcoap's own clients (coap-client-gnutls, -notls) are the
# devices; the test makes its own CA and certificates.
. "$(dirname "$0")/lib.sh"

start_origin

test_ca ca
test_cert server 127.0.0.1 "subjectAltName = IP:127.0.0.1"
test_cert device device-1

ALL='127.0.0.1:0,coaps://127.0.0.1:0,coap+tcp://127.0.0.1:0,coaps+tcp://127.0.0.1:0'
port() { grep -o "listening on $1://127.0.0.1:[0-9]*" "$WORK/hcproxy.log" | sed 's/.*://'; }
# fetch CLIENT ARGS...: one GET of $O/hello through hcproxy; OUT is the payload the client got
# (the clients print their own log lines on stdout, so the payload goes to a file).
fetch() {
    local client=$1; shift
    rm -f "$WORK/payload"
    coap_argv -B 5 -o "$WORK/payload" "$@" "$O/hello"
    timeout 20 "$client" "${COAP_ARGV[@]}" >/dev/null 2>&1 || true
    OUT=$(cat "$WORK/payload" 2>/dev/null || true)
}

DEVICE_PSK=sesame-0123456789 start_hcproxy --coap-listen "$ALL" --coap-psk 'dev1 key_env=DEVICE_PSK' \
    --coap-cert-file "$WORK/server.pem" --coap-key-file "$WORK/server.key"
fetch coap-client-gnutls -u dev1 -k sesame-0123456789 -P "coaps://127.0.0.1:$(port coaps)"
expect_eq "DTLS with a PSK from coap.psk" "hello from http" "$OUT"
fetch coap-client-gnutls -u dev1 -k not-the-key -P "coaps://127.0.0.1:$(port coaps)"
expect_eq "... a wrong key gets nothing through" "" "$OUT"
fetch coap-client-gnutls -u nobody -k sesame-0123456789 -P "coaps://127.0.0.1:$(port coaps)"
expect_eq "... nor an identity coap.psk does not list" "" "$OUT"
expect_match "... which the log notes" "an identity coap.psk does not list" "$(cat "$WORK/hcproxy.log")"
fetch coap-client-gnutls -R "$WORK/ca.pem" -P "coaps://127.0.0.1:$(port coaps)"
expect_eq "DTLS with hcproxy's certificate, checked by the device" "hello from http" "$OUT"
fetch coap-client-notls -P "coap+tcp://127.0.0.1:$(port coap+tcp)"
expect_eq "CoAP over TCP (RFC 8323)" "hello from http" "$OUT"
fetch coap-client-gnutls -R "$WORK/ca.pem" -P "coaps+tcp://127.0.0.1:$(port coaps+tcp)"
expect_eq "CoAP over TLS (RFC 8323)" "hello from http" "$OUT"
fetch coap-client-notls -P "coap://127.0.0.1:$(port coap)"
expect_eq "plain CoAP over UDP beside them" "hello from http" "$OUT"
expect_clean_exit

# Mutual TLS: with coap.client_ca_file, only devices with a certificate from that CA.
start_hcproxy --coap-listen 'coaps+tcp://127.0.0.1:0,coaps://127.0.0.1:0' --coap-cert-file "$WORK/server.pem" \
    --coap-key-file "$WORK/server.key" --coap-client-ca-file "$WORK/ca.pem"
fetch coap-client-gnutls -R "$WORK/ca.pem" -c "$WORK/device.pem" -j "$WORK/device.key" \
    -P "coaps+tcp://127.0.0.1:$(port coaps+tcp)"
expect_eq "mTLS over TLS: a device with a certificate from coap.client_ca_file" "hello from http" "$OUT"
fetch coap-client-gnutls -R "$WORK/ca.pem" -P "coaps+tcp://127.0.0.1:$(port coaps+tcp)"
expect_eq "... one without a certificate gets nothing through" "" "$OUT"
fetch coap-client-gnutls -R "$WORK/ca.pem" -c "$WORK/device.pem" -j "$WORK/device.key" \
    -P "coaps://127.0.0.1:$(port coaps)"
expect_eq "mTLS over DTLS too" "hello from http" "$OUT"

"$HCPROXY" --coap-listen 'coaps://127.0.0.1:0' --check-config >"$WORK/check" 2>&1 || true
expect_eq "a coaps listener with nothing to prove itself with is refused at start" \
    "hcproxy: --coap-listen: a coaps or coaps+tcp listener needs coap.psk or coap.cert_file and coap.key_file" \
    "$(head -n1 "$WORK/check")"
"$HCPROXY" --coap-listen 'coaps://127.0.0.1:0' --http-listen 127.0.0.1:0 --coap-psk 'dev1 key_env=UNSET_PSK_VAR' \
    >"$WORK/unset.log" 2>&1 || true
expect_match "a PSK whose variable is unset stops hcproxy, naming the variable" "UNSET_PSK_VAR is not set" \
    "$(cat "$WORK/unset.log")"

done_testing
