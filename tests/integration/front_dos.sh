#!/usr/bin/env bash
# Connections that fill http.max_connections and then go must give their slots back at once:
# half requests whose client closes (its end of stream arriving with the last bytes, which
# libmicrohttpd's edge-triggered epoll never reports), or resets, and half requests that
# http.request_timeout_s cuts off all in one go; and the same when hcproxy runs out of file
# descriptors first. Once the daemon had been at its limit, it used to accept nothing ever again,
# /healthz included (proxy/front.c, on_connection and on_sweep).
. "$(dirname "$0")/lib.sh"

# flood MODE COUNT: COUNT connections to hcproxy, each sending half a request; MODE close ends
# each with a FIN, reset with an RST (SO_LINGER 0), hold keeps them all open until killed
# (printing "holding" once they are).
flood() {
    "$PY" - "$PROXY" "$1" "$2" <<'PYEOF'
import socket, struct, sys, time
host, port = sys.argv[1].rsplit(":", 1)
mode, count = sys.argv[2], int(sys.argv[3])
held = []
for _ in range(count):
    s = socket.create_connection((host, int(port)), timeout=5)
    if mode == "reset":
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.sendall(b"GET /healthz HTTP/1.1\r\nHo")
    if mode == "hold":
        held.append(s)
    else:
        s.close()
if mode == "hold":
    print("holding", flush=True)
    time.sleep(30)
PYEOF
}

healthz_ok() {
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://$PROXY/healthz")" = 200 ]
}

# served_within SECONDS DESCRIPTION: /healthz answers 200 within SECONDS from now.
served_within() {
    local start=$(date +%s%N)
    if wait_for "$1" healthz_ok; then
        ok "$2"
        echo "# served after $(( ($(date +%s%N) - start) / 1000000 )) ms"
    else
        not_ok "$2" "/healthz still not answered after $1 s"
    fi
}

# Twice the connection limit of half requests, each closed: the slots held by the accepted ones
# come back within a sweep of http.request_timeout_s's timer (1 s), not after
# http.idle_timeout_s (30 s), and the rest, waiting to be accepted, are taken and dropped in turn.
start_hcproxy --http-max-connections 32
flood close 64
served_within 5 "64 half requests closed at http.max_connections 32: /healthz is answered again"
flood close 64
served_within 5 "... and again after a second flood"
flood reset 64
served_within 5 "64 half requests reset at http.max_connections 32: /healthz is answered again"
expect_clean_exit

# Half requests held open at the limit, all cut off by http.request_timeout_s in one sweep: the
# daemon, which took its listening socket out of its epoll set at the limit, takes it back.
start_hcproxy --http-max-connections 8 --http-request-timeout-s 1
flood hold 8 >"$WORK/hold" 2>&1 &
HOLD=$!
PIDS+=($HOLD)
wait_for 5 grep -q holding "$WORK/hold" || not_ok "the holding client connected" "$(cat "$WORK/hold")"
served_within 5 "8 half requests held at http.max_connections 8 and cut off at once: /healthz is answered"
expect_match "... after http.request_timeout_s closed them" "no whole request within 1s" \
    "$(cat "$WORK/hcproxy.log")"
kill "$HOLD" 2>/dev/null || true
wait "$HOLD" 2>/dev/null || true
expect_clean_exit

# Out of file descriptors before http.max_connections: libmicrohttpd stops accepting at the
# first failed accept() just as at its limit, and must start again once half requests have gone.
FDS=$(ulimit -Sn)
ulimit -Sn 64
start_hcproxy
ulimit -Sn "$FDS"
flood close 100
served_within 5 "100 half requests closed with 64 file descriptors: /healthz is answered again"
expect_match "... after libmicrohttpd ran out of them" "Too many open files" "$(cat "$WORK/hcproxy.log")"

done_testing
