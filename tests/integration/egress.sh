#!/usr/bin/env bash
# The reverse direction through a forward proxy (origin.http_proxy), as behind a corporate
# firewall: coap-client-notls -> hcproxy -> tinyproxy (Debian's, run in the foreground with a
# configuration of its own on an ephemeral port) -> tests/peers/http-origin.py. https origins
# through a CONNECT tunnel, http ones as absolute-form requests, origin.no_proxy origins direct,
# origin.allow judging names before anything is sent, a name this host cannot resolve reached all
# the same, the proxy's failures and silences, and the environment's http_proxy never read.
. "$(dirname "$0")/lib.sh"

command -v tinyproxy >/dev/null || { echo "Bail out! tinyproxy is not installed (.ci/setup installs it)"; exit 1; }

free_tcp_port() {
    "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# start_peer NAME ARGS...: http-origin.py recording in $WORK/NAME.record; sets PEER_PORT.
start_peer() {
    local name=$1
    shift
    "$PY" "$ORIGIN" "$WORK/$name.record" "$@" >"$WORK/$name.out" 2>&1 &
    PIDS+=($!)
    wait_for 10 grep -q '^ready' "$WORK/$name.out" || { echo "Bail out! $name did not start"; exit 1; }
    PEER_PORT=$(sed -n 's/^ready //p' "$WORK/$name.out")
}
coap_port() { grep -o -m1 'listening on coap://[^ "]*' "$WORK/hcproxy.log" | sed 's/.*:\([0-9][0-9]*\).*/\1/'; }
restart_with() {
    if [ -n "${PROXY_PID:-}" ]; then stop_hcproxy || true; fi
    start_hcproxy "$@"
    P="coap://127.0.0.1:$(coap_port)"
}
# proxy_saw TEXT: whether tinyproxy logged a request line with TEXT in it.
proxy_saw() { grep -F 'Request (file descriptor' "$WORK/tinyproxy.log" | grep -q -F -- "$1"; }

# The peers: an http origin, an https one with a certificate for 127.0.0.1 from the test's own CA,
# a second http origin to be reached directly, and the "corporate network" tinyproxy forwards
# every *.test name to (its Upstream rule): so the proxy resolves nothing either, and
# origin.test, which no resolver here knows, is still reached.
start_origin
test_ca ca
test_cert origin 127.0.0.1 "subjectAltName = IP:127.0.0.1"
start_peer tls "$WORK/origin.pem" "$WORK/origin.key"
SP=$PEER_PORT
S="https://127.0.0.1:$SP"
start_peer direct
DP=$PEER_PORT
start_peer corp
UP=$PEER_PORT

# start_tinyproxy NAME [CONFIG LINE...]: tinyproxy on a fresh port, logging to $WORK/NAME.log;
# sets TINY_PORT. CONNECT goes only to the https origin's port, as corporate proxies allow 443
# alone, and every *.test name to the "corporate network" peer.
start_tinyproxy() {
    local name=$1 line
    shift
    TINY_PORT=$(free_tcp_port)
    {
        printf '%s\n' "Port $TINY_PORT" "Listen 127.0.0.1" "Allow 127.0.0.1" "Timeout 10" \
            "MaxClients 50" "LogFile \"$WORK/$name.log\"" "LogLevel Connect" "ConnectPort $SP" \
            "Upstream http 127.0.0.1:$UP \".test\""
        for line in "$@"; do printf '%s\n' "$line"; done
    } >"$WORK/$name.conf"
    tinyproxy -d -c "$WORK/$name.conf" >"$WORK/$name.out" 2>&1 &
    PIDS+=($!)
    wait_for 10 curl -s --max-time 2 -o /dev/null -x "http://127.0.0.1:$TINY_PORT" "$O/hello" ||
        { echo "Bail out! tinyproxy did not start"; sed 's/^/# /' "$WORK/$name.log"; exit 1; }
}
start_tinyproxy tinyproxy
TP=$TINY_PORT
start_tinyproxy locked "BasicAuth hc s3cret-pass"
LP=$TINY_PORT
rm -f "$WORK/origin.record" # the probe went through tinyproxy
DEAD=$(free_tcp_port)

# ---- no origin.http_proxy: the environment's proxy variables are not read -------------------
# Each names a proxy that is down: a libcurl that read them would fail every exchange.
for v in http_proxy https_proxy HTTPS_PROXY all_proxy ALL_PROXY; do export "$v=http://127.0.0.1:$DEAD"; done
restart_with --origin-ca-file "$WORK/ca.pem"
coap -P "$P" "$O/hello"
expect_eq "without origin.http_proxy, http_proxy in the environment is ignored: the origin is reached" \
    "hello from http" "$OUT"
# hcproxy's own Via (RFC 8768 s5) is there; a proxy would add itself to it.
proxy_via() { grep '^via:' "$WORK/$1.record" | grep -c tinyproxy || true; }
expect_eq "... directly (no proxy in Via)" "0" "$(proxy_via origin)"
coap -P "$P" "$S/hello"
expect_eq "... and https_proxy, ALL_PROXY too: the https origin is reached" "hello from http" "$OUT"

# ---- through the proxy ----------------------------------------------------------------------
# The loopback origins are proxied here (origin.no_proxy has only the direct peer), and the
# environment's NO_PROXY=* does not send them around it.
export NO_PROXY='*' no_proxy='*'
restart_with --origin-http-proxy "http://127.0.0.1:$TP" --origin-no-proxy "127.0.0.1:$DP" \
    --origin-ca-file "$WORK/ca.pem" --origin-allow "*://127.0.0.0/8,http://origin.test" --origin-redirects 1
coap -P "$P" "$O/hello"
expect_eq "an http origin is reached through origin.http_proxy" "hello from http" "$OUT"
expect_eq "... which forwarded it (in Via on the origin's side)" "1" "$(proxy_via origin)"
if proxy_saw "GET http://127.0.0.1:$OP/hello"; then ok "... as an absolute-form GET, in tinyproxy's log"
else not_ok "... as an absolute-form GET, in tinyproxy's log" "$(grep Request "$WORK/tinyproxy.log")"; fi
coap -P "$P" -m post -t 0 -e 'through the proxy' "$O/echo"
expect_eq "a POST body goes through it too" "through the proxy" "$OUT"

coap -P "$P" "$S/hello"
expect_eq "an https origin is reached through a CONNECT tunnel" "hello from http" "$OUT"
if proxy_saw "CONNECT 127.0.0.1:$SP"; then ok "... tinyproxy logged the CONNECT"
else not_ok "... tinyproxy logged the CONNECT" "$(grep Request "$WORK/tinyproxy.log")"; fi
expect_eq "... and the origin got the request inside TLS, origin-form, no proxy in Via" "GET /hello|0" \
    "$(head -n1 "$WORK/tls.record")|$(proxy_via tls)"

coap -P "$P" "http://127.0.0.1:$DP/hello"
expect_eq "an origin in origin.no_proxy is reached" "hello from http" "$OUT"
expect_eq "... directly: no proxy in Via, and tinyproxy never saw it" "0|no" \
    "$(proxy_via direct)|$(proxy_saw ":$DP/" && echo yes || echo no)"

# A name: hcproxy does not resolve it (the proxy does; here its upstream takes every *.test).
if getent hosts origin.test >/dev/null 2>&1; then echo "# note: this host resolves origin.test"; fi
coap -P "$P" "http://origin.test/hello"
expect_eq "a name this host cannot resolve is reached through the proxy" "hello from http" "$OUT"
expect_eq "... which received it by name, unresolved" "GET http://origin.test:80/hello" \
    "$(head -n1 "$WORK/corp.record")"
coap -P "$P" "http://blocked.test/hello"
expect_eq "a name origin.allow does not name is refused: 4.03" "4.03" "$CODE"
expect_eq "... before anything is sent: tinyproxy never saw it" "no" \
    "$(proxy_saw "GET http://blocked.test" && echo yes || echo no)"
coap -P "$P" "https://origin.test/hello"
expect_eq "... as is a scheme the name's rule does not allow" "4.03" "$CODE"
coap -P "$P" "http://192.0.2.1/"
expect_eq "an IP address is judged by the CIDR rules as before: 4.03" "4.03" "$CODE"
enc() { "$PY" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
# tinyproxy 1.11 closes each client connection after one answer without saying so (no
# "Connection: close"); when its close comes after libcurl took the connection for the followed
# request, that request meets a reset, which libcurl retries on a new connection.
coap -P "$P" "$O/redirect?to=$(enc http://origin.test/hello)"
expect_eq "a redirect to an allowed name is followed through the proxy" "hello from http" "$OUT"
coap -P "$P" "$O/redirect?to=$(enc http://blocked.test/hello)"
expect_eq "a redirect to a name origin.allow does not name: 4.03, and the proxy never saw it" "4.03|no" \
    "$CODE|$(proxy_saw "GET http://blocked.test" && echo yes || echo no)"

coap -P "$P" "https://127.0.0.1:$OP/hello"
expect_eq "a CONNECT the proxy refuses (a port it does not tunnel to) gives 5.02" "5.02" "$CODE"
expect_match "... saying the proxy refused the tunnel" "egress proxy .origin.http_proxy. refused" \
    "$(cat "$WORK/coap.err")"
expect_match "... and libcurl's words in the log" "through http://127.0.0.1:$TP: .*CONNECT.*403" \
    "$(cat "$WORK/hcproxy.log")"

# ---- a proxy that resets the connection hcproxy reuses ---------------------------------------
# The race above, lost every time: http-origin.py --reset-reused stands in for the proxy (it
# answers the absolute-form requests itself) and resets each connection when the next request
# arrives on it. Each such request is sent again on a new connection.
start_peer resetting --reset-reused
restart_with --origin-http-proxy "http://127.0.0.1:$PEER_PORT" --origin-no-proxy "" \
    --origin-allow "http://origin.test" --origin-redirects 3
coap -P "$P" -m put -t 0 -e 'three hops' "http://origin.test/hops/3"
expect_eq "through a proxy that resets each connection when it is reused, three 308s are followed" \
    "PUT three hops" "$OUT"
expect_eq "... each hop answered once" "4" "$(grep -c '^PUT http://origin.test/hops/' "$WORK/resetting.record.all")"
coap -P "$P" "http://origin.test/hello"
expect_eq "... and the next exchange, on the connection the last one left open" "hello from http" "$OUT"

# ---- the proxy down, or silent --------------------------------------------------------------
restart_with --origin-http-proxy "http://127.0.0.1:$DEAD" --origin-no-proxy ""
coap -P "$P" "$O/hello"
expect_eq "a proxy that is down gives 5.02" "5.02" "$CODE"
expect_match "... saying the egress proxy cannot be reached" "egress proxy .origin.http_proxy. cannot be reached" \
    "$(cat "$WORK/coap.err")"

"$PY" -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print("ready", s.getsockname()[1], flush=True); time.sleep(120)' >"$WORK/mute.out" 2>&1 &
PIDS+=($!)
wait_for 10 grep -q '^ready' "$WORK/mute.out" || { echo "Bail out! the silent proxy did not start"; exit 1; }
restart_with --origin-http-proxy "http://127.0.0.1:$(sed -n 's/^ready //p' "$WORK/mute.out")" \
    --origin-no-proxy "" --origin-timeout-ms 1000
coap -P "$P" "$S/hello"
expect_eq "a proxy that accepts and never answers gives 5.04 after origin.timeout_ms" "5.04" "$CODE"

# ---- a proxy that wants credentials: HTTP Basic (RFC 7617), origin.http_proxy_auth -----------
restart_with --origin-http-proxy "http://127.0.0.1:$LP" --origin-no-proxy "" --origin-ca-file "$WORK/ca.pem"
coap -P "$P" "$O/hello"
expect_eq "a proxy that wants credentials, given none: 5.02, its 407 not taken for the origin's" \
    "5.02" "$CODE"
expect_match "... saying what it wants" "egress proxy wants credentials" "$(cat "$WORK/coap.err")"
coap -P "$P" "$S/hello"
expect_eq "... the same for an https origin (a 407 to the CONNECT)" "5.02" "$CODE"
export EGRESS_PASS=s3cret-pass
restart_with --origin-http-proxy "http://127.0.0.1:$LP" --origin-no-proxy "" --origin-ca-file "$WORK/ca.pem" \
    --origin-http-proxy-auth "hc key_env=EGRESS_PASS"
coap -P "$P" "$O/hello"
expect_eq "with origin.http_proxy_auth from a variable, an http origin is reached" "hello from http" "$OUT"
coap -P "$P" "$S/hello"
expect_eq "... and an https one through CONNECT" "hello from http" "$OUT"
printf 's3cret-pass\n' >"$WORK/proxy.pass"
restart_with --origin-http-proxy "http://127.0.0.1:$LP" --origin-no-proxy "" \
    --origin-http-proxy-auth "hc key_file=$WORK/proxy.pass"
coap -P "$P" "$O/hello"
expect_eq "... from a file, its line end not part of the password" "hello from http" "$OUT"
export EGRESS_PASS=wrong
restart_with --origin-http-proxy "http://127.0.0.1:$LP" --origin-no-proxy "" --origin-ca-file "$WORK/ca.pem" \
    --origin-http-proxy-auth "hc key_env=EGRESS_PASS"
coap -P "$P" "$S/hello"
expect_eq "a password the proxy refuses (to a CONNECT) gives 5.02" "5.02" "$CODE"
expect_match "... saying the proxy wants credentials" "egress proxy wants credentials" "$(cat "$WORK/coap.err")"
expect_eq "the password never reaches hcproxy's log" "0" "$(grep -c -e s3cret -e wrong "$WORK/hcproxy.log" || true)"
unset EGRESS_PASS
"$HCPROXY" --http-listen 127.0.0.1:0 --coap-listen 127.0.0.1:0 --origin-http-proxy "http://127.0.0.1:$LP" \
    --origin-http-proxy-auth "hc key_env=EGRESS_PASS" >"$WORK/nopass.log" 2>&1 &
PIDS+=($!)
status=0
wait $! || status=$?
expect_eq "an unset password variable stops hcproxy at start (exit 2, as --check-config), naming it" "2|1" \
    "$status|$(grep -c 'origin-http-proxy-auth: key_env: the variable EGRESS_PASS is not set' "$WORK/nopass.log")"

# ---- configuration ---------------------------------------------------------------------------
check() { "$HCPROXY" "$@" --check-config 2>&1 | head -n1; }
expect_eq "an https:// proxy URL is refused with the form expected" \
    "hcproxy: --origin-http-proxy: https://proxy.corp:3128: must be http://host:port (an HTTP proxy; https origins go through it in a CONNECT tunnel)" \
    "$(check --origin-http-proxy https://proxy.corp:3128)"
expect_eq "a password in the proxy URL is refused, and not repeated" \
    "hcproxy: HCPROXY_ORIGIN_HTTP_PROXY: origin.http_proxy: must not carry user:password" \
    "$(HCPROXY_ORIGIN_HTTP_PROXY=http://u:secret@proxy.corp:3128 check)"
expect_eq "origin.http_proxy_auth needs origin.http_proxy" \
    "hcproxy: --origin-http-proxy-auth: needs origin.http_proxy" \
    "$(check --origin-http-proxy-auth "hc key_env=EGRESS_PASS")"

done_testing
