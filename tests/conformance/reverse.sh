#!/usr/bin/env bash
# Conformance, CoAP -> HTTP: a raw-wire CoAP client (tests/peers/coap-raw.py send) -> hcproxy's CoAP
# listener -> tests/peers/http-origin.py. The client sends exactly the datagrams a test describes
# (bad versions, ACKs carrying requests, duplicates, malformed options) and prints every datagram
# that comes back. Each test name starts with the clause it checks; CONFORMANCE.md lists them.
. "$(dirname "$0")/conf.sh"

start_origin
# An answer that takes longer than 100 ms is a separate response; faster ones are piggybacked.
# /r/ is a route for the smallest requests there are.
# A coap+tcp listener too: libcoap's message layer (reverse_libcoap.c), where coap:// is hcproxy's.
start_hcproxy --coap-piggyback-wait-ms 100 --coap-routes "/r/=$O/" \
    --coap-listen '127.0.0.1:0,coap+tcp://127.0.0.1:0'
coap_port
TCP_PORT=$(grep -o -m1 'listening on coap+tcp://[^ "]*' "$WORK/hcproxy.log" | sed 's/.*:\([0-9][0-9]*\).*/\1/')

# answer: the first response (or Reset) among send's lines, as "TYPE C.DD".
answer() { grep -E '^(RST|(CON|NON|ACK) [1-7]\.)' | head -n1 | cut -d' ' -f1,2; }
count() { grep -c -E "$1" || true; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
# ask SPEC: sends one request and waits up to 5 s for its answer; what came back is in $out.
ask() { out=$(send "$1" --stop 1 --wait 5); }
# code: the code of the answer in $out ("C.DD").
code() { answer <<<"$out" | cut -d' ' -f2; }
# expect_code DESCRIPTION CODE SPEC: the request SPEC is answered CODE.
expect_code() { ask "$3"; expect_eq "$1" "$2" "$(code)"; }
# expect_refused DESCRIPTION CODE SPEC TEXT: ... and no request with TEXT in its target reached
# the origin.
expect_refused() { ask "$3"; expect_eq "$1" "$2 0" "$(code) $(forwarded "$4")"; }
# expect_answer DESCRIPTION REGEX SPEC: the answer's "TYPE C.DD" matches REGEX.
expect_answer() { ask "$3"; expect_match "$1" "$2" "$(answer <<<"$out")"; }

# ---- RFC 7252 s3, s4: the message layer -----------------------------------------------------
out=$(send "CON GET mid=300 tok=0301 o35=$O/hello?v2 ver=2" --wait 1)
expect_eq "rfc7252-3 a datagram of version 2 is silently ignored: no answer, nothing forwarded" \
    "0 0" "$(count . <<<"$out") $(forwarded '/hello?v2')"
out=$(send "CON GET mid=301 tok=0302 o35=$O/hello?tkl tkl=9" --stop 1 --wait 2)
expect_eq "rfc7252-3 a token length of 9 is a message format error: the CON is rejected with a Reset" \
    "RST mid=301 0" "$(head -n1 <<<"$out" | cut -d' ' -f1,3) $(forwarded '/hello?tkl')"
out=$(send "CON 0.00 mid=302" --stop 1 --wait 2)
expect_eq "rfc7252-4.3 an empty CON (a CoAP ping) gets a Reset of its Message ID" "RST 0.00 mid=302" \
    "$(head -n1 <<<"$out" | cut -d' ' -f1-3)"
out=$(send "CON 0.00 mid=303 tok=01" --stop 1 --wait 2)
expect_eq "rfc7252-4.1 an empty message with a token is a format error: Reset" "RST 0.00 mid=303" \
    "$(head -n1 <<<"$out" | cut -d' ' -f1-3)"
out=$(send "CON 0x20 mid=304 tok=0303 o35=$O/hello?class1" --stop 1 --wait 2)
expect_eq "rfc7252-4.2 a CON with a code of the reserved class 1 is rejected: Reset, nothing forwarded" \
    "RST 0" "$(answer <<<"$out" | cut -d' ' -f1) $(forwarded '/hello?class1')"
out=$(send "ACK GET mid=305 tok=0304 o35=$O/hello?ack" --wait 1)
expect_eq "rfc7252-4.2 an ACK carrying a request is not a request: not executed, not answered" "0 0" \
    "$(count '2\.05' <<<"$out") $(forwarded '/hello?ack')"
out=$(send "CON 2.05 mid=306 tok=0305 p=unexpected" --stop 1 --wait 2)
expect_eq "rfc7252-5.3.2 a CON response that matches no request is rejected with a Reset (rfc7252-4.2)" \
    "RST mid=306" "$(head -n1 <<<"$out" | cut -d' ' -f1,3)"

ask "CON GET mid=310 tok=0310 o35=$O/hello"
expect_eq "rfc7252-5.2.1 an answer within coap.piggyback_wait_ms is piggybacked: one ACK 2.05 with the request's Message ID, nothing else" \
    "ACK 2.05 mid=310 1" "$(head -n1 <<<"$out" | cut -d' ' -f1-3) $(count . <<<"$out")"
expect_eq "rfc7252-5.3.2 a CON GET is answered 2.05 with the request's token" "2.05 0310" \
    "$(code) $(grep ' 2\.05 ' <<<"$out" | field tok)"
expect_eq "rfc7252-10.1.1 ... with the Content-Format of the origin's text/plain; charset=utf-8 (0)" \
    "12:" "$(grep ' 2\.05 ' <<<"$out" | field opts | grep -o '12:[0-9a-f]*')"
ask "NON GET mid=311 tok=0311 o35=$O/hello"
expect_eq "rfc7252-5.2.3 a NON request is answered in a NON" "NON 2.05" "$(answer <<<"$out")"

# A separate response: 300 ms of origin time, then 3.5 s to see what else comes.
out=$(send "CON GET mid=312 tok=0312 o35=$O/slow?ms=300" --wait 3.8)
expect_eq "rfc7252-5.2.2 a slow answer comes as a separate CON response, acknowledged, and not sent again" \
    "1 2.05" "$(count '^CON ' <<<"$out") $(grep '^CON ' <<<"$out" | cut -d' ' -f2)"
expect_eq "rfc7252-5.2.2 ... after exactly one empty ACK, which carries the request's Message ID" \
    "ACK 0.00 mid=312" "$(grep '^ACK 0.00' <<<"$out" | cut -d' ' -f1-3 | tr '\n' ' ' | sed 's/ $//')"
out=$(send "CON GET mid=313 tok=0313 o35=$O/slow?ms=100" --no-ack --wait 4.2)
expect_eq "rfc7252-4.2 a separate CON response left unacknowledged is retransmitted with its Message ID" \
    "1 yes" "$(grep '^CON ' <<<"$out" | field mid | sort -u | wc -l) $([ "$(count '^CON ' <<<"$out")" -ge 2 ] && echo yes)"

# ---- RFC 7252 s4.5: duplicates ------------------------------------------------------------
out=$(send "CON POST mid=320 tok=0320 o35=$O/slow?ms=600 p=a" "CON POST mid=320 tok=0320 o35=$O/slow?ms=600 p=a" \
    --gap 0.2 --stop 1 --wait 4)
expect_eq "rfc7252-4.5 a duplicate CON within the exchange is acknowledged, and the request forwarded once" \
    "2 1" "$(count '^ACK 0.00 mid=320 ' <<<"$out") $(forwarded '/slow?ms=600')"
out=$(send "CON POST mid=321 tok=0321 o35=$O/echo?dup p=unlock" "CON POST mid=321 tok=0321 o35=$O/echo?dup p=unlock" \
    --gap 2.5 --stop 2 --wait 5)
# The origin answers at once: the answer is piggybacked, and the duplicate gets that ACK again.
expect_eq "rfc7252-4.5 a CON repeated 2.5 s after its answer (its ACK lost) is answered again: the same ACK 2.04" \
    "2" "$(count '^ACK 2\.04 mid=321 ' <<<"$out")"
expect_eq "rfc7252-4.5 ... from the cache: the origin got the request once, within EXCHANGE_LIFETIME" "1" \
    "$(forwarded '/echo?dup')"
send "NON POST mid=322 tok=0322 o35=$O/echo?nondup p=x" "NON POST mid=322 tok=0322 o35=$O/echo?nondup p=x" \
    --gap 1 --stop 2 --wait 3 >/dev/null
expect_eq "rfc7252-4.5 a NON repeated after its answer is not forwarded again (NON_LIFETIME)" "1" \
    "$(forwarded '/echo?nondup')"

# ---- RFC 7252 s11.3: amplification (coap.amplification_factor, 3 by default) ----------------------
# A request from an address that never acknowledges anything asks for 4 KiB: whatever hcproxy sends
# back, piggybacked or separate and retransmitted, stays within 3 times the request's bytes.
# (A separate CON is first due again 2 to 3 s after it went: 4 s see whether it is.)
# Each unverified client sends from a loopback address of its own: an ephemeral port an earlier
# client here had, and had verified (for an hour), would make it verified too.
i=0
for how in "piggybacked:" "separate:&ms=300"; do
    i=$((i + 1))
    out=$(send "CON GET mid=37$i tok=037$i o35=$O/bytes?n=4096${how#*:}" --no-ack --sizes --wait 4 \
        --from "127.0.0.$((10 + i))")
    sent=$(sed -n 's/^sent //p' <<<"$out")
    sizes=$(grep -o ' len=[0-9]*$' <<<"$out" | cut -d= -f2 || true)
    largest=$(sort -n <<<"$sizes" | tail -n1)
    total=$(( $(paste -sd+ <<<"$sizes") + 0 ))
    echo "# ${how%%:*}: a request of $sent bytes; answered with ${sizes//$'\n'/ } bytes"
    expect_eq "rfc7252-11.3 ${how%%:*}: to an unverified client no datagram is larger than 3 times its request" \
        "yes" "$([ -n "$largest" ] && [ "$largest" -le $((3 * sent)) ] && echo yes || echo "no: $largest > 3 x $sent")"
    expect_eq "rfc7252-11.3 ${how%%:*}: ... nor are all of them together" \
        "yes" "$([ "$total" -le $((3 * sent)) ] && echo yes || echo "no: $total > 3 x $sent")"
    expect_match "rfc7252-11.3 ${how%%:*}: ... and what is sent is the first block of the answer, 2.05" \
        '^(ACK|CON) 2\.05$' "$(answer <<<"$out")"
done

# An answer not even a 16-byte block of which fits (a 6-byte request by route, and a 23-byte 4.04
# from the origin): a 4.01 with an Echo option; the client repeats its request with it, which
# shows it is there, and gets the answer, kept meanwhile: the origin was asked once.
out=$(send "CON GET mid=380 o11=r" --echo --stop 1 --wait 3 --from 127.0.0.20)
expect_match "rfc9175-2.4 an answer too large for an unverified client: 4.01 with an Echo option" \
    '^ACK 4\.01 mid=380 tok= opts=252:[0-9a-f]{16} ' "$(grep -m1 ' 4\.01 ' <<<"$out")"
expect_eq "rfc9175-2.4 ... the request repeated with that Echo gets the answer kept for it: the origin's 4.04, asked once" \
    "ACK 4.04 mid=381 no such origin resource 1" \
    "$(grep ' 4\.04 ' <<<"$out" | cut -d' ' -f1-3) $(grep ' 4\.04 ' <<<"$out" | sed 's/.*payload=//') $(grep -c -x 'GET /' "$WORK/origin.record.all" || true)"

# ---- RFC 7252 s5.4, s5.7, s5.8: options and methods ---------------------------------------------
expect_refused "rfc7252-5.4.1 an unrecognized critical option in a CON request: 4.02, nothing forwarded" \
    4.02 "CON GET mid=330 tok=0330 o35=$O/hello?crit x65001=01" '/hello?crit'
expect_eq "rfc7252-5.2.1 ... piggybacked in the ACK (an answer known at once)" "ACK 4.02" "$(answer <<<"$out")"
out=$(send "NON GET mid=339 tok=0339 o35=$O/hello?noncrit x65001=01" --stop 1 --wait 2)
expect_match "rfc7252-5.4.1 an unrecognized critical option in a NON request: rejected (Reset, silence or a NON 4.02), nothing forwarded" \
    '^(RST|NON 4\.02|none) 0$' "$(answer <<<"$out" | grep . || echo none) $(forwarded '/hello?noncrit')"
expect_code "rfc7252-5.4.1 an unrecognized elective option is ignored: 2.05" 2.05 \
    "CON GET mid=331 tok=0331 o35=$O/hello?elect x65000=01"
expect_answer "rfc7252-5.4.3 an Accept of 3 bytes (critical, 0-2) is 4.02, not a Reset" '^(ACK|CON) 4\.02$' \
    "CON GET mid=332 tok=0332 o35=$O/hello?acc x17=000000"
expect_answer "rfc7252-5.4.3 a Uri-Port of 3 bytes (critical, 0-2) is 4.02, not a Reset" '^(ACK|CON) 4\.02$' \
    "CON GET mid=333 tok=0333 o39=http o3=127.0.0.1 x7=00$(printf %04x "$OP") o11=hello"
expect_answer "rfc7252-5.4.3 a Max-Age of 5 bytes (elective, 0-4) is ignored: 2.05" '^(ACK|CON) 2\.05$' \
    "CON GET mid=334 tok=0334 o35=$O/hello?maxage x14=0102030405"
expect_code "rfc7252-5.4.5 a repeated Accept (critical, not repeatable) is 4.02" 4.02 \
    "CON GET mid=335 tok=0335 o35=$O/hello?acc2 u17=0 u17=50"
expect_refused "rfc7252-5.8 an unknown method code (0.09) is 4.05, nothing forwarded" 4.05 \
    "CON 0.09 mid=336 tok=0336 o35=$O/hello?m9" '/hello?m9'
expect_code "rfc7252-5.7.2 a scheme this proxy cannot forward to (Proxy-Scheme gopher) is 5.05" 5.05 \
    "CON GET mid=337 tok=0337 o39=gopher o3=127.0.0.1 o11=x"
ask "CON GET mid=338 tok=0338 o39=http o3=127.0.0.1 u7=$OP o11=hello"
expect_eq "rfc7252-5.7.2 Proxy-Scheme + Uri-Host + Uri-Port + Uri-Path name the origin: 2.05" \
    "2.05 hello from http" "$(code) $(grep ' 2\.05 ' <<<"$out" | sed 's/.*payload=//')"

ask "CON GET mid=344 tok=0344 o35=$O/hello o11=elsewhere"
expect_eq "rfc7252-5.10.2 Proxy-Uri takes precedence over a Uri-Path sent with it: 2.05 from the Proxy-Uri" \
    "2.05 hello from http" "$(code) $(grep -E ' [245]\.[0-9]+ ' <<<"$out" | sed 's/.*payload=//')"

# ---- RFC 8768 s3: Hop-Limit -------------------------------------------------------------------
expect_answer "rfc8768-3 Hop-Limit 0 from a CoAP client is 4.00, not a Reset" '^(ACK|CON) 4\.00$' \
    "CON GET mid=340 tok=0340 o35=$O/hello?hop0 u16=0"
expect_answer "rfc8768-3 a Hop-Limit of 2 bytes (it is 1) is 4.00 or 4.02, not a Reset" '^(ACK|CON) 4\.0[02]$' \
    "CON GET mid=341 tok=0341 o35=$O/hello?hop2 x16=0010"
expect_refused "rfc8768-3 Hop-Limit 1 is not forwarded: 5.08 Hop Limit Reached" 5.08 \
    "CON GET mid=342 tok=0342 o35=$O/hello?hop1 u16=1" '/hello?hop1'
expect_eq "rfc8768-3 ... naming the proxy in its diagnostic payload" "127.0.0.1" \
    "$(grep ' 5\.08 ' <<<"$out" | sed 's/.*payload=//')"

# ---- RFC 8132: PATCH, iPATCH, FETCH -------------------------------------------------------------
for m in PATCH IPATCH; do
    ask "CON $m mid=35$((${#m} - 5)) tok=035$((${#m} - 5)) o35=$O/echo?$m x12=32 p=[1]"
    expect_eq "rfc8132-3 CoAP $m reaches the origin as HTTP PATCH with its body: 2.04" "2.04 PATCH /echo?$m 5b315d" \
        "$(code) $(head -n1 "$WORK/origin.record") $(sed -n 's/^body://p' "$WORK/origin.record")"
done
expect_refused "rfc8132-2 CoAP FETCH has no HTTP method: 5.01, nothing forwarded (documented)" 5.01 \
    "CON FETCH mid=353 tok=0353 o35=$O/echo?fetch x12=32 p=[1]" '/echo?fetch'

# ---- RFC 7641 s4.1: Observe to an HTTP origin ----------------------------------------------------
# HTTP has no notifications: a registration through hcproxy is served as the resource were not
# observable (s3.1, s4.1): one ordinary answer, no Observe option in it, nothing after it.
# has_observe: "yes" if a line of $out with a response code carries option 6 (Observe).
has_observe() { grep -E ' [2-5]\.[0-9]{2} ' <<<"$out" | field opts | grep -q -E '(^|,)6:' && echo yes || echo no; }
out=$(send "CON GET mid=500 tok=0500 o35=$O/hello?obs u6=0" --wait 2.5)
expect_eq "rfc7641-4.1 a CON GET with Observe 0 for an HTTP origin: one piggybacked 2.05, without Observe, and nothing after it" \
    "ACK 2.05 mid=500 1 no" "$(head -n1 <<<"$out" | cut -d' ' -f1-3) $(count . <<<"$out") $(has_observe)"
expect_eq "rfc7641-4.1 ... the origin got one ordinary GET, no Observe header" "1 0" \
    "$(forwarded '/hello?obs') $(grep -c -i '^observe:' "$WORK/origin.record" || true)"
out=$(send "NON GET mid=501 tok=0501 o35=$O/hello?obsnon u6=0" --wait 2)
expect_eq "rfc7641-4.1 a NON GET with Observe 0: one NON 2.05 without Observe" "NON 2.05 1 no" \
    "$(answer <<<"$out") $(count . <<<"$out") $(has_observe)"
out=$(send "CON GET mid=502 tok=0502 o35=$O/slow?ms=300&obs u6=0" --wait 3)
expect_eq "rfc7641-4.1 ... a separate response (a slow origin): one CON 2.05 without Observe" "CON 2.05 1 no" \
    "$(grep '^CON ' <<<"$out" | cut -d' ' -f1,2) $(count '^CON ' <<<"$out") $(has_observe)"
out=$(send "CON GET mid=503 tok=0503 o35=$O/bytes?n=3000&obs u6=0" --stop 1 --wait 2)
expect_eq "rfc7641-4.1 ... a large answer: its first block (Block2) without Observe" "ACK 2.05 yes no" \
    "$(answer <<<"$out") $(field opts <<<"$out" | grep -q -E '(^|,)23:' && echo yes || echo no) $(has_observe)"
out=$(send "CON FETCH mid=504 tok=0504 o35=$O/echo?obsfetch x12=32 p=[1] u6=0" --stop 1 --wait 2)
expect_eq "rfc7641-4.1 ... a FETCH with Observe 0 (RFC 8132 s2.4): no Observe in the answer (5.01, FETCH has no HTTP method)" \
    "ACK 5.01 no" "$(answer <<<"$out") $(has_observe)"
out=$(send "CON GET mid=505 tok=0505 o35=$O/hello?obs1 u6=1" --stop 1 --wait 2)
expect_eq "rfc7641-3.6 a GET with Observe 1 (deregister) for an HTTP origin: an ordinary 2.05 without Observe" \
    "ACK 2.05 no" "$(answer <<<"$out") $(has_observe)"
# coap+tcp (RFC 8323): libcoap's server; hcproxy's resources are not observable, so libcoap adds
# no Observe and keeps no observer. coap-client -s 2 registers and waits 2 s for notifications.
timeout 20 coap-client-notls -v 7 -B 5 -s 2 -U -O "35,$O/hello?obstcp" "coap+tcp://127.0.0.1:$TCP_PORT" \
    >"$WORK/tcp.out" 2>&1 || true
received=$(grep -a -E 'c:2\.05' "$WORK/tcp.out" | sort -u)
expect_eq "rfc7641-4.1 coap+tcp: a GET with Observe 0 gets one 2.05, without Observe" "1 no" \
    "$(grep -c . <<<"$received") $(grep -q 'Observe' <<<"$received" && echo yes || echo no)"

# ---- RFC 7959 s2.2 ------------------------------------------------------------------------------
expect_code "rfc7959-2.2 a Block2 number past the end of the representation is 4.02" 4.02 \
    "CON GET mid=360 tok=0360 o35=$O/bytes?n=3000 u23=$((100 << 4 | 6))"

# ---- what /metrics says of the message layer ----------------------------------------------------
curl -s --max-time 5 -o "$WORK/metrics" "http://$PROXY/metrics"
m() { sed -n "s/^$1 //p" "$WORK/metrics"; }
expect_eq "/metrics: the duplicates above (a CON after its answer, a NON) were answered from the cache" \
    "yes" "$([ "$(m hcproxy_coap_duplicates_total)" -ge 2 ] && echo yes || echo "$(m hcproxy_coap_duplicates_total)")"
expect_eq "/metrics: the Resets above (a bad token length, a ping, a bad empty message, class 1, a CON response)" \
    "yes" "$([ "$(m hcproxy_coap_resets_sent_total)" -ge 5 ] && echo yes || echo "$(m hcproxy_coap_resets_sent_total)")"
expect_eq "/metrics: the retransmissions of the unacknowledged separate response, and the give-up at the amplification bound" \
    "yes yes" "$([ "$(m hcproxy_coap_retransmissions_total)" -ge 1 ] && echo yes || echo no) $([ "$(m hcproxy_coap_give_ups_total)" -ge 1 ] && echo yes || echo no)"
expect_match "/metrics: the requests remembered for duplicates, and their answers' bytes" \
    '^[1-9][0-9]* [1-9][0-9]*$' "$(m hcproxy_coap_dedup_entries) $(m hcproxy_coap_dedup_bytes)"

# ---- the log ---------------------------------------------------------------------------------------
# Refused or ignored datagrams are logged at most once a second: a burst of 20 is one line, and the
# next line, a second later, counts the 19 not logged.
before=$(grep -c 'refused or ignored' "$WORK/hcproxy.log" || true)
specs=()
for n in $(seq 20); do specs+=("CON GET mid=$((400 + n)) ver=2"); done
send "${specs[@]}" --wait 0.5 >/dev/null
sleep 1.1
send "CON GET mid=421 ver=2" --wait 0.5 >/dev/null
wait_for 5 test "$(grep -c 'refused or ignored' "$WORK/hcproxy.log")" -ge $((before + 2)) || true
lines=$(grep 'refused or ignored' "$WORK/hcproxy.log" | tail -n +$((before + 1)))
expect_eq "a burst of malformed datagrams is logged once a second: two lines for 21, the second counting 19 more" \
    "2 1" "$(grep -c . <<<"$lines") $(tail -n1 <<<"$lines" | grep -c '(19 more since the last line)')"

done_testing
