#!/usr/bin/env bash
# coap.max_inflight and coap.max_inflight_per_client: a client that floods the CoAP listener
# towards a slow origin gets 5.03 beyond its share, at once, and the other clients are still
# served. Clients are told apart by address (127.0.0.1, 127.0.0.2, ...: all loopback), their
# ports aside, through tests/peers/coap-flood.py.
. "$(dirname "$0")/lib.sh"

FLOOD="${FLOOD:-$(dirname "$0")/../peers/coap-flood.py}"
start_origin
# Answers later than 200 ms are separate: the flood sees its empty ACKs well within its wait.
start_hcproxy --coap-max-inflight 6 --coap-max-inflight-per-client 4 --origin-timeout-ms 10000 \
    --coap-piggyback-wait-ms 200
CP=$(grep -o -m1 'listening on coap://[^ "]*' "$WORK/hcproxy.log" | sed 's/.*:\([0-9][0-9]*\).*/\1/')
flood() { timeout 30 "$PY" "$FLOOD" "$1" 127.0.0.1 "$CP" "$2" "$3" "$4"; }

# A floods: 4 of its 8 go in flight, towards an origin that answers after 4 s; 4 get 5.03 now.
flood 127.0.0.1 "$O/slow?ms=4000" 8 1 >"$WORK/a.out" &
PIDS+=($!)
wait_for 10 metric_is hcproxy_reverse_exchanges_inflight 4 ||
    echo "# in flight: $(metric hcproxy_reverse_exchanges_inflight)"
# B, from another address, is answered meanwhile.
out=$(flood 127.0.0.2 "$O/hello" 1 3)
expect_match "another client is answered while one floods" "2.05=1 first=" "$out"
expect_match "... promptly" "first=(0|1)\." "$out"
# C may take only what is left of coap.max_inflight (6): 2 in flight, the third 5.03.
out=$(flood 127.0.0.3 "$O/slow?ms=4000" 3 1)
expect_eq "coap.max_inflight: beyond 6 in all, 5.03 at once" "5.03=1 accepted=2" "${out% first=*}"
wait_for 10 test -s "$WORK/a.out"
expect_eq "coap.max_inflight_per_client: the flooding client's first 4 go in flight, the rest 5.03" \
    "5.03=4 accepted=4" "$(sed 's/ first=.*//' "$WORK/a.out")"
expect_match "... the 5.03s came at once" "first=0\." "$(cat "$WORK/a.out")"
# Once the slow answers are in, the flooding client has its share again.
wait_for 15 metric_is hcproxy_reverse_exchanges_inflight 0
out=$(flood 127.0.0.1 "$O/hello" 1 3)
expect_match "when its exchanges have ended, the client is served again" "2.05=1" "$out"

# origin.max_connections_per_origin: a client flooding an origin that never answers holds at most
# that many of origin.max_connections, so another client's request to another origin finds one.
stop_hcproxy
"$PY" -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
print("ready", s.getsockname()[1], flush=True)
held = []
while True:
    held.append(s.accept()[0])  # accepted, and never answered
' >"$WORK/silent.out" 2>&1 &
PIDS+=($!)
wait_for 10 grep -q '^ready' "$WORK/silent.out" || { echo "Bail out! the silent origin did not start"; exit 1; }
SILENT="http://127.0.0.1:$(sed -n 's/^ready //p' "$WORK/silent.out")"
start_hcproxy --origin-max-connections 4 --origin-max-connections-per-origin 3 \
    --origin-timeout-ms 10000 --coap-piggyback-wait-ms 200
CP=$(grep -o -m1 'listening on coap://[^ "]*' "$WORK/hcproxy.log" | sed 's/.*:\([0-9][0-9]*\).*/\1/')
out=$(flood 127.0.0.1 "$SILENT/x" 8 1)
expect_eq "eight requests towards an origin that never answers are accepted" "accepted=8" "${out% first=*}"
out=$(flood 127.0.0.2 "$O/hello" 1 3)
expect_match "origin.max_connections_per_origin: they hold 3 of the 4 connections, and another client's request to another origin is answered at once" \
    "2.05=1 first=(0|1)\." "$out"

done_testing
