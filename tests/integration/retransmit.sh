#!/usr/bin/env bash
# libcoap's retransmission timer lives in its epoll set, which hcproxy watches from the libuv
# loop: when the first datagram is lost, the confirmable request must be sent again.
. "$(dirname "$0")/lib.sh"

# -l 1: coap-server-notls drops the first datagram it sends, here the answer to the first GET.
start_coap_server -l 1
# With one retransmission after 1 s (ACK_TIMEOUT 1 s, the least libcoap 4.3.1 takes, and a random
# factor of 1) the answer comes long before the 5 s timeout; with none, the exchange would end in 504.
start_hcproxy --upstream-ack-timeout-ms 1000 --upstream-ack-random-factor 1 --upstream-timeout-ms 5000
http "http://$PROXY/hc/coap://127.0.0.1:$CS_PORT/"
expect_eq "a request whose first answer was lost is retransmitted and answered" 200 "$STATUS"
expect_match "... with the server's resource" "libcoap" "$BODY"
done_testing
