#!/usr/bin/env bash
# libcoap's retransmission timer lives in its epoll set, which hcproxy watches from the libuv
# loop: when the first datagram is lost, the confirmable request must be sent again.
. "$(dirname "$0")/lib.sh"

# -l 1: coap-server-notls drops the first datagram it sends, here the answer to the first GET.
start_coap_server -l 1
# With one retransmission after ~100-150 ms the answer comes long before the 5 s timeout; with
# none, the exchange would end in 504.
start_hcproxy --upstream-ack-timeout-ms 100 --upstream-timeout-ms 5000
http "http://$PROXY/hc/coap://127.0.0.1:$CS_PORT/"
expect_eq "a request whose first answer was lost is retransmitted and answered" 200 "$STATUS"
expect_match "... with the server's resource" "libcoap" "$BODY"
done_testing
