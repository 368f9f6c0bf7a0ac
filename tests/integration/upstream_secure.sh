#!/usr/bin/env bash
# curl -> hcproxy -> coap-server-gnutls over every secure and stream transport: coaps (DTLS) and
# coaps+tcp (TLS, RFC 8323) with a PSK and with certificates (verified, the name checked, a client
# certificate when the server asks), coap+tcp; and the failures, each a 502 with its reason.
. "$(dirname "$0")/lib.sh"

test_ca ca
test_ca other-ca
test_cert server 127.0.0.1 "extendedKeyUsage = serverAuth"
test_cert misnamed other.example "extendedKeyUsage = serverAuth"
test_cert client hcproxy-gw
rpk() { # rpk NAME: an EC P-256 private key (NAME.pem) and its public key (NAME.pub), for RFC 7250
    openssl ecparam -name prime256v1 -genkey -noout -out "$WORK/$1.pem" 2>/dev/null
    openssl ec -in "$WORK/$1.pem" -pubout -out "$WORK/$1.pub" 2>/dev/null
}
rpk server-rpk
rpk gw-rpk
rpk stranger-rpk

# free_port_pair: a port P with P and P+1 free for both UDP and TCP, below the ephemeral range
# (ip_local_port_range starts at 32768), where outgoing connections cannot take P+1 meanwhile.
free_port_pair() {
    "$PY" - <<'PYEOF'
import random, socket
for _ in range(200):
    p = random.randint(20000, 32000)
    socks = []
    try:
        for port in (p, p + 1):
            for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                s = socket.socket(socket.AF_INET, kind)
                socks.append(s)
                s.bind(("127.0.0.1", port))
        print(p)
        break
    except OSError:
        pass
    finally:
        for s in socks:
            s.close()
PYEOF
}

# secure_server NAME ARGS...: coap-server-gnutls on a free port P (UDP and TCP) and P+1 (DTLS and
# TLS), ready once plain CoAP answers on P; its ports in ${NAME}_PORT and ${NAME}_SPORT.
secure_server() {
    local name=$1 port; shift
    port=$(free_port_pair)
    coap-server-gnutls -A 127.0.0.1 -p "$port" "$@" >"$WORK/$name.out" 2>&1 &
    PIDS+=($!)
    wait_for 10 coap_server_answers "$port" || { echo "Bail out! coap-server-gnutls ($name) did not start"; exit 1; }
    printf -v "${name}_PORT" '%s' "$port"
    printf -v "${name}_SPORT" '%s' "$((port + 1))"
}
secure_server PSK -k up-secret-0123456789
secure_server CERT -c "$WORK/server.pem" -j "$WORK/server.key" -n
secure_server MISNAMED -c "$WORK/misnamed.pem" -j "$WORK/misnamed.key" -n
secure_server MTLS -c "$WORK/server.pem" -j "$WORK/server.key" -C "$WORK/ca.pem"
secure_server RPK -M "$WORK/server-rpk.pem" -n

# get URI: one GET through hcproxy; sets STATUS and BODY.
get() { http "http://$PROXY/hc/$1"; }
# The first entry that matches is used: "localhost" by its name, before the address rules that
# its resolved address would match too.
UP_PSK=up-secret-0123456789 BAD_PSK=not-the-secret-0000 start_hcproxy --upstream-credentials "\
coaps://localhost:$PSK_SPORT psk identity=hcproxy key_env=BAD_PSK,\
coaps://localhost:$RPK_SPORT rpk key_file=$WORK/gw-rpk.pem peer_key_file=$WORK/stranger-rpk.pub,\
coaps://127.0.0.1:$RPK_SPORT rpk key_file=$WORK/gw-rpk.pem peer_key_file=$WORK/server-rpk.pub,\
coaps://127.0.0.1:$PSK_SPORT psk identity=hcproxy key_env=UP_PSK,\
coaps+tcp://127.0.0.1:$PSK_SPORT psk identity=hcproxy key_env=UP_PSK,\
coaps://127.0.0.1:$CERT_SPORT pki ca_file=$WORK/ca.pem,\
coaps+tcp://127.0.0.1:$CERT_SPORT pki ca_file=$WORK/ca.pem,\
coaps://127.0.0.1:$MISNAMED_SPORT pki ca_file=$WORK/ca.pem,\
coaps+tcp://127.0.0.1:$MISNAMED_SPORT pki verify=false,\
coaps://127.0.0.1:$MTLS_SPORT pki ca_file=$WORK/ca.pem cert_file=$WORK/client.pem key_file=$WORK/client.key,\
coaps+tcp://127.0.0.1:$MTLS_SPORT pki ca_file=$WORK/other-ca.pem"
INDEX="This is a test server made with libcoap"

get "coaps://127.0.0.1:$PSK_SPORT/"
expect_match "DTLS with a PSK from upstream.credentials" "^200 $INDEX" "$STATUS $BODY"
get "coaps+tcp://127.0.0.1:$PSK_SPORT/"
expect_match "TLS with a PSK (coaps+tcp, RFC 8323)" "^200 $INDEX" "$STATUS $BODY"
get "coap+tcp://127.0.0.1:$PSK_PORT/"
expect_match "CoAP over TCP (coap+tcp)" "^200 $INDEX" "$STATUS $BODY"
get "coaps://localhost:$PSK_SPORT/"
expect_eq "a wrong PSK: 502" 502 "$STATUS"
expect_match "... the handshake failed" "TLS handshake" "$BODY"
get "coaps://127.0.0.1:$PSK_PORT/"
expect_eq "no upstream.credentials entry for the server: 502" 502 "$STATUS"
expect_match "... saying so" "no upstream.credentials entry" "$BODY"

get "coaps://127.0.0.1:$CERT_SPORT/"
expect_match "DTLS with the server's certificate verified against ca_file" "^200 $INDEX" "$STATUS $BODY"
get "coaps+tcp://127.0.0.1:$CERT_SPORT/"
expect_match "TLS with the certificate verified" "^200 $INDEX" "$STATUS $BODY"
get "coaps://127.0.0.1:$MISNAMED_SPORT/"
expect_eq "a certificate for another name: 502" 502 "$STATUS"
expect_match "... and the log says whose name it was" "certificate names other.example" "$(cat "$WORK/hcproxy.log")"
get "coaps+tcp://127.0.0.1:$MISNAMED_SPORT/"
expect_match "... unless verify=false" "^200 $INDEX" "$STATUS $BODY"
get "coaps://127.0.0.1:$MTLS_SPORT/"
expect_match "a server that asks for a client certificate gets hcproxy's" "^200 $INDEX" "$STATUS $BODY"
get "coaps+tcp://127.0.0.1:$MTLS_SPORT/"
expect_eq "a server whose certificate another CA signed: 502" 502 "$STATUS"

get "coaps://127.0.0.1:$RPK_SPORT/"
expect_match "DTLS with raw public keys (RFC 7250), the server's key pinned" "^200 $INDEX" "$STATUS $BODY"
get "coaps://localhost:$RPK_SPORT/"
expect_eq "a server whose raw public key is not the pinned one: 502" 502 "$STATUS"
expect_match "... and the log says so" "raw public key is not the one peer_key_file pins" "$(cat "$WORK/hcproxy.log")"

# Block-wise transfers are hcproxy's own on every transport (proxy/upblock.c): 20 KiB go up in
# Block1 blocks and come back (in Block2 blocks over DTLS; over TCP the server sends them whole).
head -c 20480 /dev/urandom >"$WORK/big"
for uri in "coaps://127.0.0.1:$PSK_SPORT" "coap+tcp://127.0.0.1:$PSK_PORT" "coaps+tcp://127.0.0.1:$PSK_SPORT"; do
    http -X PUT -H 'Content-Type: application/octet-stream' --data-binary @"$WORK/big" \
        "http://$PROXY/hc/$uri/example_data"
    expect_match "${uri%%:*}: a 20 KiB PUT goes up block-wise" "^20[014]$" "$STATUS"
    curl -s --max-time 20 -o "$WORK/big.back" "http://$PROXY/hc/$uri/example_data" || true
    if cmp -s "$WORK/big" "$WORK/big.back"; then ok "${uri%%:*}: ... and comes back whole"
    else not_ok "${uri%%:*}: ... and comes back whole" "$(stat -c %s "$WORK/big.back" 2>/dev/null) bytes"; fi
done

# Observe over every transport (RFC 7641; RFC 8323 s7 over TCP): /time notifies once a second.
for uri in "coaps://127.0.0.1:$PSK_SPORT" "coap+tcp://127.0.0.1:$PSK_PORT" "coaps+tcp://127.0.0.1:$PSK_SPORT"; do
    timeout 2.5 curl -sN -o "$WORK/sse" -H 'Accept: text/event-stream' "http://$PROXY/hc/$uri/time" || true
    n=$(grep -c '^id: ' "$WORK/sse" || true)
    if [ "$n" -ge 2 ]; then ok "${uri%%:*}: a stream of notifications ($n in 2.5 s)"
    else not_ok "${uri%%:*}: a stream of notifications" "$(head -c 300 "$WORK/sse")"; fi
done
if wait_for 5 metric_is hcproxy_observe_observations 0; then
    ok "... each observation let go when curl stopped"
else
    not_ok "... each observation let go when curl stopped" "$(metric hcproxy_observe_observations)"
fi

expect_eq "no key in hcproxy's log" 0 "$(grep -c 'up-secret\|not-the-secret' "$WORK/hcproxy.log" || true)"
done_testing
