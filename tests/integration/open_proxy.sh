#!/usr/bin/env bash
# Never an open proxy into the loopback. The attack this guards against: hcproxy's image once
# listened for CoAP on 0.0.0.0:5683 with origin.allow at its loopback default, so any container
# on the network could read the application's loopback-only admin page with
# `coap-client -P coap://<app-ip>:5683 http://127.0.0.1:8000/`. A listener that the network
# reaches without credentials, with an allow list that reaches loopback, is now refused at start
# (config/exposure.c); the explicit key, or credentials, or a narrower list let it start.
. "$(dirname "$0")/lib.sh"

start_origin   # stands for the application's loopback-only admin page
refused() { # refused WHAT ARGS...: hcproxy exits 2 before listening, naming why
    local what=$1 status=0 out
    shift
    out=$(timeout 10 "$HCPROXY" --http-listen 127.0.0.1:0 "$@" 2>&1) || status=$?
    expect_eq "$what: refused at start (exit 2)" 2 "$status"
    expect_match "... saying why" "an open proxy to this host's local services" "$out"
}

refused "a plain CoAP listener on 0.0.0.0 with origin.allow at its loopback default" \
    --coap-listen 0.0.0.0:0
refused "... on [::]" --coap-listen '[::]:0'
refused "... coap+tcp on 0.0.0.0" --coap-listen 'coap+tcp://0.0.0.0:0'
refused "... with origin.allow naming the admin port on loopback" \
    --coap-listen 0.0.0.0:0 --origin-allow "http://127.0.0.1:$OP"
refused "... with origin.allow naming localhost" --coap-listen 0.0.0.0:0 --origin-allow 'https://localhost'
refused "an HTTP listener on 0.0.0.0 with upstream.allow at its loopback default" \
    --coap-listen '' --http-listen 0.0.0.0:0
status=0
out=$(HCPROXY_COAP_LISTEN=0.0.0.0:0 timeout 10 "$HCPROXY" --check-config 2>&1) || status=$?
expect_eq "--check-config refuses it the same way" "2" "$status"
expect_match "... naming the variable that set the listener" "^hcproxy: HCPROXY_COAP_LISTEN: coap.listen: 0.0.0.0:0 " "$out"

# Allowed: what the operator states, and what cannot reach loopback.
for args in "--coap-listen 0.0.0.0:0 --origin-allow https://api.example" \
            "--coap-listen 0.0.0.0:0 --origin-allow=" \
            "--coap-listen 127.0.0.1:0" \
            "--http-listen 0.0.0.0:0 --coap-listen= --upstream-allow coap://192.0.2.0/24" \
            "--http-listen 0.0.0.0:0 --coap-listen= --http-bearer-tokens 0123456789abcdef0123"; do
    # shellcheck disable=SC2086 # the arguments are words on purpose
    status=0; out=$("$HCPROXY" $args --check-config 2>&1) || status=$?
    expect_eq "starts: $args" "0" "$status"
done

# With the explicit key the operator takes the risk on: the listener on 0.0.0.0 then does reach
# the loopback origin (here from 127.0.0.1, the only address a test may use).
start_hcproxy --coap-listen 0.0.0.0:0 --coap-unauthenticated-loopback true
CP=$(grep -o -m1 'listening on coap://[^ "]*' "$WORK/hcproxy.log" | sed 's/.*:\([0-9][0-9]*\).*/\1/')
coap -P "coap://127.0.0.1:$CP" "$O/hello"
expect_eq "coap.unauthenticated_loopback = true: the exposed listener reaches the loopback origin" \
    "hello from http" "$OUT"

done_testing
