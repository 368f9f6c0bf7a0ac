#!/usr/bin/env bash
# curl -N -> hcproxy -> coap-server-notls's /time, which notifies its observers once a second
# (RFC 7641): the README's recipe for a stream of notifications over HTTP, both framings, and the
# end of the observation when curl stops (over coap+tcp a deregistration; over coap:// the
# server's next notification is Reset, s3.6). The coap+tcp part goes first: its count of late
# answers must not see the Resets of coap:// observations ended just before.
. "$(dirname "$0")/lib.sh"

start_coap_server
start_hcproxy
TIME="http://$PROXY/hc/coap://127.0.0.1:$CS_PORT/time"

# stream SECONDS FILE CURL-ARGS...: curl -N for at most SECONDS, its body in FILE.
stream() {
    local seconds=$1 file=$2
    shift 2
    timeout "$seconds" curl -sN -D "$file.headers" -o "$file" "$@" || true
}

# ---- coap+tcp (RFC 8323 s7): no Reset there, so hcproxy deregisters (RFC 7641 s3.6) --------------
late=$(metric hcproxy_late_responses_total)
stream 2.5 "$WORK/tcp" -H 'Accept: text/event-stream' "http://$PROXY/hc/coap+tcp://127.0.0.1:$CS_PORT/time"
n=$(grep -c '^id: ' "$WORK/tcp" || true)
if [ "$n" -ge 2 ]; then ok "coap+tcp: a stream of notifications ($n in 2.5 s)"
else not_ok "coap+tcp: a stream of notifications" "$(head -c 300 "$WORK/tcp")"; fi
wait_for 5 metric_is hcproxy_observe_observations 0
sleep 2.5 # two more notifications, were the server still notifying
expect_eq "rfc7641-3.6 coap+tcp: curl stopped, hcproxy deregisters (GET, Observe: 1): only its answer comes after" \
    "$((late + 1))" "$(metric hcproxy_late_responses_total)"

# ---- server-sent events ----------------------------------------------------------------------
stream 3.5 "$WORK/sse" -H 'Accept: text/event-stream' "$TIME"
expect_match "rfc7641-3.1 Accept: text/event-stream registers and opens a stream: 200, text/event-stream" \
    $'200.*\ncontent-type: text/event-stream' "$(tr -d '\r' <"$WORK/sse.headers" | tr A-Z a-z)"
ids=$(sed -n 's/^id: //p' "$WORK/sse" | tr '\n' ' ')
n=$(wc -w <<<"$ids")
if [ "$n" -ge 3 ] && [ "$n" -le 5 ]; then
    ok "one event a second in 3.5 s ($n: ids $ids)"
else
    not_ok "one event a second in 3.5 s" "ids: $ids" "$(head -c 600 "$WORK/sse")"
fi
increasing=yes
prev=-1
for id in $ids; do [ "$id" -gt "$prev" ] || increasing=no; prev=$id; done
expect_eq "... their ids (the Observe values) increase" yes "$increasing"
# libcoap 4.3.1's /time says no Content-Format (base64: the type is unknown); 4.3.4's says
# text/plain (the text itself).
expect_match "... each one a notification event whose data is the status and the payload" \
    '^data: \{"status":200,"content_type":(null|"text/plain; charset=utf-8"),"etag":null,"max_age":1,"observe":[0-9]+,"oscore":null,("base64":"[A-Za-z0-9+/=]+"|"text":"[^"]+")\}$' \
    "$(grep -m1 '^data: ' "$WORK/sse")"
data=$(grep -m1 '^data: ' "$WORK/sse")
if [[ $data == *'"base64":'* ]]; then
    payload=$(sed 's/.*"base64":"\([^"]*\)".*/\1/' <<<"$data" | base64 -d || true)
else
    payload=$(sed 's/.*"text":"\([^"]*\)".*/\1/' <<<"$data")
fi
expect_match "... the payload is the server's time of day" '^[A-Z][a-z]{2} [0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$' "$payload"

# curl is gone: hcproxy lets the observation go, and the server's next notification draws a
# Reset, after which the server sends no more.
if wait_for 5 metric_is hcproxy_observe_observations 0 && wait_for 5 metric_is hcproxy_observe_streams 0; then
    ok "rfc7641-3.6 curl stopped: no stream and no observation left (/metrics)"
else
    not_ok "curl stopped: no stream and no observation left" "$(metric hcproxy_observe_observations) $(metric hcproxy_observe_streams)"
fi
resets_sent_at_least() { [ "$(metric hcproxy_upstream_resets_sent_total)" -ge "$1" ]; }
if wait_for 5 resets_sent_at_least 1; then
    ok "rfc7641-3.6 ... the server's next notification is answered with a Reset"
else
    not_ok "... the server's next notification is answered with a Reset" \
        "resets: $(metric hcproxy_upstream_resets_sent_total)"
fi
notified=$(metric hcproxy_observe_notifications_total)
sleep 2.5 # long enough for two more notifications if the server still had the observer
expect_eq "... and the server notifies no more" "$notified $(metric hcproxy_upstream_resets_sent_total)" \
    "$(metric hcproxy_observe_notifications_total) $(metric hcproxy_upstream_resets_sent_total)"

# ---- multipart/mixed ---------------------------------------------------------------------------
stream 2.5 "$WORK/mp" -H 'Observe: 0' -H 'Accept: multipart/mixed' "$TIME"
ctype=$(tr -d '\r' <"$WORK/mp.headers" | sed -n 's/^[Cc]ontent-[Tt]ype: //p')
boundary=${ctype#*boundary=}
expect_match "Observe: 0 with Accept: multipart/mixed opens a multipart stream" \
    '^multipart/mixed; boundary=hcproxy-[A-Za-z0-9_-]{24}$' "$ctype"
parts=$(grep -c -- "^--$boundary"$'\r'"$" "$WORK/mp")
if [ "$parts" -ge 2 ]; then ok "... one part a notification ($parts)"; else not_ok "... one part a notification" "$(head -c 400 "$WORK/mp")"; fi
expect_match "... each an application/http response with its Observe and Content-Length" \
    $'Content-Type: application/http\r\n\r\nHTTP/1.1 200 OK\r\n(Content-Type: text/plain; charset=utf-8\r\n)?Cache-Control: max-age=1\r\nObserve: [0-9]+\r\nContent-Length: 15\r\n\r\n' \
    "$(head -c 300 "$WORK/mp")"

# ---- fan-out: two streams, one observation ----------------------------------------------------
stream 3 "$WORK/a" -H 'Accept: text/event-stream' "$TIME" &
a=$!
wait_for 5 metric_is hcproxy_observe_streams 1
stream 2 "$WORK/b" -H 'Accept: text/event-stream' "$TIME" &
b=$!
if wait_for 5 metric_is hcproxy_observe_streams 2; then
    expect_eq "rfc7641-5 two streams on one resource share one CoAP observation" 1 "$(metric hcproxy_observe_observations)"
else
    not_ok "two streams on one resource share one CoAP observation" "streams: $(metric hcproxy_observe_streams)"
fi
wait "$a" "$b"
ids_a=$(sed -n 's/^id: //p' "$WORK/a" | tr '\n' ' ')
ids_b=$(sed -n 's/^id: //p' "$WORK/b" | tr '\n' ' ')
first_b=$(sed -n 's/^id: //p' "$WORK/b" | head -n1)
if [ -n "$first_b" ] && grep -q "^id: $first_b$" "$WORK/a"; then
    ok "... the second one starts with the latest notification the first one had ($first_b)"
else
    not_ok "... the second one starts with the latest notification" "a: $(sed -n 's/^id: //p' "$WORK/a" | tr '\n' ' ') b: $first_b"
fi
if [ "$(wc -w <<<"$ids_b")" -ge 2 ] && [[ " $ids_a" == *" $ids_b"* ]]; then
    ok "... and then the same ones as the first, in order ($ids_b)"
else
    not_ok "... and then the same ones as the first, in order" "a: $ids_a" "b: $ids_b"
fi

# ---- a resource that is not observable, and an error --------------------------------------------
http -H 'Accept: text/event-stream' "http://$PROXY/hc/coap://127.0.0.1:$CS_PORT/"
expect_match "rfc7641-3.2 a resource without Observe: one event, then the end event, then the body ends" \
    $'^event: notification\ndata: \\{"status":200.*"observe":null.*\n\nevent: end\ndata: \\{"reason":"the CoAP server ended the observation"\\}$' \
    "$BODY"
http -H 'Accept: text/event-stream' "http://$PROXY/hc/coap://127.0.0.1:$CS_PORT/no-such-resource"
expect_eq "an error as the first answer is the ordinary answer, no stream" "404 text/plain; charset=utf-8" \
    "$STATUS $(header content-type)"
http -X POST -H 'Observe: 0' "$TIME"
expect_eq "Observe: 0 on a POST is 400 with its reason" \
    "400 Observe registers with GET or FETCH only (RFC 7641 s2, RFC 8132 s2.4)" "$STATUS $BODY"

expect_clean_exit
done_testing
