#!/usr/bin/env bash
# SIGHUP reloads the configuration from the same file, environment and flags: upstream.allow and
# origin.allow change both ways, a broken or invalid file keeps the running configuration, a key
# that takes a restart is kept with a warning, upstream.credentials' key files are read again,
# and a connection open across the reload is not dropped.
. "$(dirname "$0")/lib.sh"

start_testserver
start_origin
logged() { grep -c -- "$1" "$WORK/hcproxy.log" || true; }
# more_than N: whether hcproxy has logged more than N reload outcomes (for wait_for, which runs
# its command anew each time).
more_than() { [ "$(logged '"msg":"reload: [^u]')" -gt "$1" ]; }
# reload TEXT: writes TEXT as the file, sends SIGHUP, and waits for the reload's outcome line.
reload() {
    local before
    before=$(logged '"msg":"reload: [^u]')
    printf '%s\n' "$1" >"$WORK/hcproxy.conf"
    kill -HUP "$PROXY_PID"
    wait_for 10 more_than "$before" || not_ok "hcproxy logs the reload's outcome"
}
CFG_DENY='upstream: { allow = [ "coap://10.0.0.0/8" ]; };
origin: { allow = [ "http://10.0.0.0/8" ]; };'
CFG_ALLOW='upstream: { allow = [ "coap://127.0.0.0/8" ]; };
origin: { allow = [ "http://127.0.0.0/8" ]; };'

printf '%s\n' "$CFG_DENY" >"$WORK/hcproxy.conf"
start_hcproxy --config "$WORK/hcproxy.conf"
CP=$(grep -o -m1 'listening on coap://[^ "]*' "$WORK/hcproxy.log" | sed 's/.*:\([0-9][0-9]*\).*/\1/')
TARGET="http://$PROXY/hc/coap://127.0.0.1:$TS_PORT/"

http "$TARGET"
expect_eq "upstream.allow from the file refuses loopback" "403" "$STATUS"
coap -P "coap://127.0.0.1:$CP" "$O/hello"
expect_eq "... and origin.allow too" "4.03" "$CODE"

# A connection kept open across the reload: one request before it, one after, on one socket.
"$PY" - "$PROXY" "$PROXY_PID" "$WORK/hcproxy.log" "/hc/coap://127.0.0.1:$TS_PORT/" \
    >"$WORK/keepalive.out" 2>&1 <<'PYEOF' &
import http.client, os, signal, sys, time
proxy, pid, log, path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
host, port = proxy.rsplit(":", 1)
c = http.client.HTTPConnection(host, int(port), timeout=10)
c.request("GET", path)
first = c.getresponse()
first.read()
sock = c.sock.getsockname()
print("first", flush=True)
deadline = time.time() + 10
while 'applied upstream.allow' not in open(log).read() and time.time() < deadline:
    time.sleep(0.02)
c.request("GET", path)
second = c.getresponse()
second.read()
print(first.status, second.status, "same connection" if c.sock.getsockname() == sock else "new connection")
PYEOF
KEEP=$!
wait_for 10 grep -q first "$WORK/keepalive.out"
reload "$CFG_ALLOW"
expect_match "SIGHUP reloads, naming what changed" "reload: $WORK/hcproxy.conf: applied upstream.allow, origin.allow" \
    "$(cat "$WORK/hcproxy.log")"
http "$TARGET"
expect_eq "... and the 403 becomes a 200" "200" "$STATUS"
coap -P "coap://127.0.0.1:$CP" "$O/hello"
expect_eq "... and the reverse direction's 4.03 a 2.05" "2.05 hello from http" "$CODE $OUT"
wait "$KEEP" || true
expect_eq "a connection open across the reload is not dropped, and the new allow list applies to it" \
    "403 200 same connection" "$(tail -n1 "$WORK/keepalive.out")"

reload 'upstream: { allow = [ "coap://127.0.0.0/8" ] };;; broken'
expect_match "a file with a syntax error is refused, with its error" \
    "reload: $WORK/hcproxy.conf:1: syntax error.*keeping the running configuration" "$(cat "$WORK/hcproxy.log")"
http "$TARGET"
expect_eq "... and the running configuration stays" "200" "$STATUS"
reload 'upstream: { allow = [ "coap://10.0.0.1/8" ]; };'
expect_match "a file with a bad value is refused, naming file:line: key" \
    "reload: $WORK/hcproxy.conf:1: upstream.allow: host bits set" "$(cat "$WORK/hcproxy.log")"
http "$TARGET"
expect_eq "... and the running configuration stays" "200" "$STATUS"

reload "$CFG_DENY"
http "$TARGET"
expect_eq "a reload takes an allowed destination away again: 200 becomes 403" "403" "$STATUS"

reload "$CFG_ALLOW
http: { max_connections = 7; };
log: { level = \"debug\"; };"
expect_match "a key that takes a restart is kept, with a warning" \
    "reload: http.max_connections changed, which takes a restart; keeping the running value" \
    "$(cat "$WORK/hcproxy.log")"
expect_match "... while the others apply" "applied upstream.allow, origin.allow, log.level" "$(cat "$WORK/hcproxy.log")"
before=$(logged '"level":"debug"')
http "$TARGET"
expect_eq "log.level is reloaded: debug lines now appear" "1" "$([ "$(logged '"level":"debug"')" -gt "$before" ] && echo 1)"

# The flags given at start are read again too: they still override the file.
stop_hcproxy || true
printf '%s\n' "$CFG_DENY" >"$WORK/hcproxy.conf"
start_hcproxy --config "$WORK/hcproxy.conf" --upstream-allow "coap://127.0.0.1:$TS_PORT"
reload "$CFG_DENY"
http "http://$PROXY/hc/coap://127.0.0.1:$TS_PORT/"
expect_eq "a flag given at start still overrides the reloaded file" "200" "$STATUS"

# ---- a reload cannot make hcproxy an open proxy into loopback ----------------------------------
TOKEN=reload-test-token-0123456789
stop_hcproxy || true
printf 'http: { bearer_tokens = [ "%s" ]; };\n' "$TOKEN" >"$WORK/hcproxy.conf"
start_hcproxy --config "$WORK/hcproxy.conf" --http-listen 0.0.0.0:0
reload 'http: { bearer_tokens = [ ]; };'
expect_match "a reload that drops the tokens of a listener the network reaches is refused" \
    "reload: .*http.listen: 0.0.0.0:0 serves clients without credentials.*keeping the running configuration" \
    "$(cat "$WORK/hcproxy.log")"
http "http://$PROXY/hc/coap://127.0.0.1:$TS_PORT/"
expect_eq "... and a request without the token is still refused" "401" "$STATUS"
http -H "Authorization: Bearer $TOKEN" "http://$PROXY/hc/coap://127.0.0.1:$TS_PORT/"
expect_eq "... one with it still served" "200" "$STATUS"

# ---- upstream.credentials: a key file rotated in place -------------------------------------
# coap-server-gnutls with a PSK on a UDP port P and DTLS on P+1.
port=$(free_udp_port)
while ! "$PY" -c 'import socket,sys; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", int(sys.argv[1])+1))' "$port" 2>/dev/null; do
    port=$(free_udp_port)
done
coap-server-gnutls -A 127.0.0.1 -p "$port" -k psk-secret-0123456789 >"$WORK/dtls.out" 2>&1 &
PIDS+=($!)
wait_for 10 coap_server_answers "$port" || { echo "Bail out! coap-server-gnutls did not start"; exit 1; }
printf 'not-the-secret-000000' >"$WORK/psk"
CREDS="coaps://127.0.0.1:$((port + 1)) psk identity=hcproxy key_file=$WORK/psk"
stop_hcproxy || true
printf 'upstream: { credentials = [ "%s" ]; };\n' "$CREDS" >"$WORK/hcproxy.conf"
start_hcproxy --config "$WORK/hcproxy.conf" --upstream-timeout-ms 1500
http "http://$PROXY/hc/coaps://127.0.0.1:$((port + 1))/"
expect_match "a wrong PSK in the key file: no answer (502 or 504)" "^50[24]$" "$STATUS"
printf 'psk-secret-0123456789' >"$WORK/psk"
reload "upstream: { credentials = [ \"$CREDS\" ]; };"
expect_match "SIGHUP reads the key file again" "reload: upstream.credentials: new keys for new exchanges" \
    "$(cat "$WORK/hcproxy.log")"
http "http://$PROXY/hc/coaps://127.0.0.1:$((port + 1))/"
expect_eq "... and the next exchange uses the new key: 200" "200" "$STATUS"
rm "$WORK/psk"
reload "upstream: { credentials = [ \"$CREDS\" ]; };"
expect_match "a key file gone is refused" "reload: .*psk: cannot read: .*; keeping the running configuration" \
    "$(cat "$WORK/hcproxy.log")"
http "http://$PROXY/hc/coaps://127.0.0.1:$((port + 1))/"
expect_eq "... and the running keys stay" "200" "$STATUS"

done_testing
