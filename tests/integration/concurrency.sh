#!/usr/bin/env bash
# Many exchanges in flight at once to one CoAP server, each matched to its own answer by token;
# a client that hangs up cancels its exchange; a dropped datagram is retransmitted.
. "$(dirname "$0")/lib.sh"

start_testserver
start_hcproxy --upstream-timeout-ms 20000
T="coap://127.0.0.1:$TS_PORT"

N=200
echo_url() { echo "http://$PROXY/hc/$T/echo?n=$1"; }
echo_body() { echo "n=$1"; }
parallel_gets $N echo_url echo_body
expect_eq "$N concurrent requests all answered 200" "$N" "$ANSWERED"
expect_eq "each of the $N answers belongs to its own request" 0 "$WRONG"

# A client that hangs up while its exchange waits: the exchange is cancelled, nothing leaks.
curl -s --max-time 0.5 "http://$PROXY/hc/$T/silent" >/dev/null || true
wait_for 10 metric_is hcproxy_exchanges_cancelled_total 1 && ok "a hung-up client cancels its exchange" \
    || not_ok "a hung-up client cancels its exchange" "cancelled: $(metric hcproxy_exchanges_cancelled_total)"
expect_eq "nothing is left in flight after the hang-up" 0 "$(metric hcproxy_exchanges_inflight)"
http "http://$PROXY/hc/$T/echo?after"
expect_eq "the next request is served normally" "200 n=after" "$STATUS n=${BODY#n=}"
done_testing
