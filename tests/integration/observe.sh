#!/usr/bin/env bash
# Observe across hcproxy (RFC 7641; README.md "Observe over HTTP"): HTTP clients (curl -N) hold
# streams of server-sent events or multipart/mixed parts open, and tests/peers/coap-wire-server.py
# is the CoAP server, its notifications sent one at a time from here through its control channel
# (wire_ctl), every datagram hcproxy answers recorded (notes "register", "ack", "reset", ...).
# Each check looks at both ends: what the HTTP client got, and what hcproxy put on the wire.
. "$(dirname "$0")/lib.sh"

# ---- reading the streams ------------------------------------------------------------------------
# streams.py sse FILE: one line per complete event of a text/event-stream body:
#   notification ID STATUS TEXT   (ID "-" when the event has none; TEXT JSON-escaped, or
#                                  "base64:..." for a binary payload)
#   end - - REASON
#   comment TEXT                  (a comment-only block, ": keep-alive")
# streams.py multipart FILE BOUNDARY: one line per complete part, "part STATUS TEXT", and "close"
# after the close delimiter.
cat >"$WORK/streams.py" <<'EOF'
import json, sys

def sse(data):
    text = data.decode("utf-8", "replace").replace("\r\n", "\n")
    for block in text.split("\n\n")[:-1]:  # the last one is not complete yet
        fields, comments = {}, []
        for line in block.split("\n"):
            if line.startswith(":"):
                comments.append(line[1:].strip())
            elif ":" in line:
                k, v = line.split(":", 1)
                fields[k] = v[1:] if v.startswith(" ") else v
        if "data" not in fields:
            for c in comments:
                print("comment", c)
            continue
        d = json.loads(fields["data"])
        if fields.get("event") == "end":
            print("end - -", d.get("reason"))
            continue
        body = ("base64:" + d["base64"]) if d.get("base64") is not None else \
            json.dumps(d.get("text") or "")[1:-1]
        print(fields.get("event", "message"), fields.get("id", "-"), d.get("status"), body)

def multipart(data, boundary):
    segments = (b"\r\n" + data).split(b"\r\n--" + boundary.encode())
    for seg in segments[1:]:
        if seg.startswith(b"--"):
            print("close")
            break
        if b"\r\n\r\n" not in seg:
            break
        message = seg.split(b"\r\n\r\n", 1)[1]  # past the part's own headers
        if b"\r\n\r\n" not in message:
            break
        head, body = message.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        length = next((int(l.split(":", 1)[1]) for l in lines[1:]
                       if l.lower().startswith("content-length:")), 0)
        if len(body) < length:
            break
        print("part", lines[0].split(" ")[1], json.dumps(body[:length].decode("utf-8", "replace"))[1:-1])

data = open(sys.argv[2], "rb").read()
sse(data) if sys.argv[1] == "sse" else multipart(data, sys.argv[3])
EOF
events() { "$PY" "$WORK/streams.py" sse "$WORK/$1.out"; }
parts() { "$PY" "$WORK/streams.py" multipart "$WORK/$1.out" "$(boundary "$1")"; }
boundary() { tr -d '\r' <"$WORK/$1.h" | sed -n 's/^[Cc]ontent-[Tt]ype: multipart\/mixed; *boundary=//p' | tr -d '"'; }
# has_event NAME LINE: stream NAME has an event printed as LINE (for wait_for).
has_event() { events "$1" | grep -q -x -F -- "$2"; }
has_part() { parts "$1" | grep -q -x -F -- "$2"; }
# notifications NAME: the notification events of stream NAME, "ID TEXT" a line, in order.
notifications() { events "$1" | sed -n 's/^notification \([^ ]*\) [^ ]* /\1 /p'; }
# last_two NAME: the last two events of stream NAME but comments, as "EVENT STATUS TEXT|end".
last_two() { events "$1" | grep -v '^comment' | tail -n 2 | sed 's/^end .*/end/; s/^\([a-z]*\) [^ ]* /\1 /' | paste -sd'|'; }

# subscribe NAME RESOURCE [curl args...]: an SSE stream of obs/RESOURCE (by default; other
# headers in the curl args), in the background; its body goes to $WORK/NAME.out, its header to
# $WORK/NAME.h, its pid to SUB[NAME]. curl -N writes what comes as it comes.
declare -A SUB
subscribe() {
    local name=$1 res=$2
    shift 2
    local accept=(-H 'Accept: text/event-stream')
    [ $# -gt 0 ] && accept=()
    : >"$WORK/$name.out"
    : >"$WORK/$name.h"
    curl -s -N --max-time 90 "${accept[@]}" "$@" -D "$WORK/$name.h" -w '%{http_code}' \
        -o "$WORK/$name.out" "http://$PROXY/hc/$C/obs/$res" >"$WORK/$name.code" 2>/dev/null &
    SUB[$name]=$!
    PIDS+=($!)
}
# unsubscribe NAME: the HTTP client goes away (curl killed, its connection closed).
unsubscribe() { kill "${SUB[$1]}" 2>/dev/null || true; wait "${SUB[$1]}" 2>/dev/null || true; }
# ended NAME: curl has finished (the body ended).
ended() { ! kill -0 "${SUB[$1]}" 2>/dev/null; }
status_of() { sed -n '1s/^HTTP\/[0-9.]* \([0-9]*\).*/\1/p' "$WORK/$1.h"; }
header_of() { tr -d '\r' <"$WORK/$1.h" | sed -n "s/^$2: //Ip" | head -n1; }

# observers RES: how many observers of obs/RES the wire server holds.
observers() { wire_ctl observers "$1" | cut -d' ' -f2; }
observers_are() { [ "$(observers "$1")" = "$2" ]; }
# notes WHAT RES: the wire server's note lines "WHAT RES ...", as "tok=... mid=..." a line.
notes() { grep -E "^note [0-9.]+ $1 $2 " "$WORK/wire.record" | cut -d' ' -f5- || true; }
note_count() { notes "$1" "$2" | grep -c . || true; }
note_is() { [ "$(note_count "$1" "$2")" = "$3" ]; }
# noted WHAT RES MID: the wire server noted WHAT (ack, reset) for the notification MID.
noted() { notes "$1" "$2" | grep -q " mid=$3\$"; }
# notify RES SETTINGS...: one notification (wire_ctl notify); sets MID to its Message ID (the
# first observer's).
notify() { MID=$(wire_ctl notify "$@" | cut -d' ' -f2 | cut -d, -f1); }
delta() { echo $(( $(metric "$1") - $2 )); }
# reset_after_notify RESOURCE PAYLOAD: one more notification; "yes" once hcproxy has answered it
# with a Reset (RFC 7641 s3.6), "no" if it has not within 10 s.
reset_after_notify() {
    notify "$1" "p=$2"
    wait_for 10 noted reset "$1" "$MID" || true
    noted reset "$1" "$MID" && echo yes || echo no
}

start_wire
# A keep-alive after 1 s of silence.
start_hcproxy --observe-heartbeat-s 1

# ---- a stream of server-sent events: registration, first answer ----------------------------------
wire_ctl set a obs=5 p=one maxage=600 >/dev/null
subscribe s1 a
wait_for 10 observers_are a 1 || true
reg=$(wire_show | grep -E '^recv [0-9.]+ CON 0\.01 ' | grep '11:6f6273,11:61' | head -n1)
expect_match "rfc7641-3.1 hcproxy registers with a CON GET carrying Observe 0 (option 6, empty) and an 8-byte token" \
    '^recv [0-9.]+ CON 0\.01 mid=[0-9]+ tok=[0-9a-f]{16} len=[0-9]+ opts=([^ ]*,)?6:(,| )' "$reg"
wait_for 10 has_event s1 "notification 5 200 one" || true
expect_eq "the first answer (2.05, Observe 5) is the first event: id 5, status 200, its payload" \
    "5 one" "$(notifications s1)"
expect_eq "... in a 200 text/event-stream, Cache-Control: no-store" "200 text/event-stream no-store" \
    "$(status_of s1) $(header_of s1 content-type | cut -d';' -f1) $(header_of s1 cache-control)"
expect_eq "... and the stream stays open" "yes" "$(ended s1 && echo no || echo yes)"

# ---- later notifications: order, freshness, duplicates, ACKs ---------------------------------------
before_notes=$(metric hcproxy_observe_notifications_total)
before_events=$(metric hcproxy_observe_events_total)
notify a p=two
con_mid=$MID
wait_for 10 has_event s1 "notification 6 200 two" || true
expect_eq "a CON notification (Observe 6) is one more event, id 6" "5 one
6 two" "$(notifications s1)"
wait_for 5 noted ack a "$con_mid" || true
expect_eq "rfc7641-4.5 ... and hcproxy acknowledges it (an empty ACK of its Message ID)" \
    "1" "$(notes ack a | grep -c " mid=$con_mid\$" || true)"
notify a obs=4 p=old
old_mid=$MID
notify a obs=7 p=three
wait_for 10 has_event s1 "notification 7 200 three" || true
expect_eq "rfc7641-3.4 a notification older than the newest (Observe 4 after 6) is not delivered; 7 is" \
    "5 one
6 two
7 three" "$(notifications s1)"
wait_for 5 noted ack a "$old_mid" || true
expect_eq "rfc7641-3.4 ... the old one, a CON, is still acknowledged (not Reset)" "1 0" \
    "$(notes ack a | grep -c " mid=$old_mid\$" || true) $(notes reset a | grep -c " mid=$old_mid\$" || true)"
# 24-bit serial numbers (s4.4): 7 -> 8000000 -> 16000000 -> 3 (wrapped: newer) -> 16000001 (older).
notify a obs=8000000 p=big-step
notify a obs=16000000 p=near-the-top
notify a obs=3 p=wrapped
notify a obs=16000001 p=stale
notify a obs=4 p=after-wrap
wait_for 10 has_event s1 "notification 4 200 after-wrap" || true
expect_eq "rfc7641-3.4 (s4.4) Observe values wrap at 2^24: 3 after 16000000 is newer, 16000001 after 3 is older" \
    "8000000 big-step
16000000 near-the-top
3 wrapped
4 after-wrap" "$(notifications s1 | tail -n +4)"
# A duplicate: the same datagram again (same Message ID): acknowledged again, delivered once.
notify a obs=10 p=dup
dup_mid=$MID
wait_for 10 has_event s1 "notification 10 200 dup" || true
wire_ctl repeat a >/dev/null
wait_for 5 test "$(notes ack a | grep -c " mid=$dup_mid\$")" -ge 2 || true
notify a obs=11 p=after-dup
wait_for 10 has_event s1 "notification 11 200 after-dup" || true
expect_eq "rfc7252-4.5 a duplicate CON notification is acknowledged again ..." "2" \
    "$(notes ack a | grep -c " mid=$dup_mid\$" || true)"
expect_eq "... but delivered once" "1" "$(notifications s1 | grep -c -x '10 dup' || true)"
notify a obs=11 p=same-value
notify a obs=12 p=twelve
wait_for 10 has_event s1 "notification 12 200 twelve" || true
expect_eq "rfc7641-3.4 a notification with the newest Observe value again (a new Message ID) is not newer: not delivered" \
    "0" "$(notifications s1 | grep -c -x '11 same-value' || true)"
wire_ctl set a type=NON >/dev/null
notify a obs=13 p=non
wait_for 10 has_event s1 "notification 13 200 non" || true
expect_eq "rfc7641-4.5 a NON notification is delivered, and not acknowledged" "yes 0" \
    "$(has_event s1 'notification 13 200 non' && echo yes || echo no) $(notes ack a | grep -c " mid=$MID\$" || true)"
wire_ctl set a type=CON >/dev/null
# Fresh ones, each once: two, three, big-step, near-the-top, wrapped, after-wrap, dup, after-dup,
# twelve, non = 10 (not old, stale, the duplicate, same-value).
expect_eq "/metrics: hcproxy_observe_notifications_total counts the fresh notifications only (10 of 14 datagrams)" \
    "10" "$(delta hcproxy_observe_notifications_total "$before_notes")"
expect_eq "/metrics: hcproxy_observe_events_total counts the events written (10)" \
    "10" "$(delta hcproxy_observe_events_total "$before_events")"

# ---- heartbeat ------------------------------------------------------------------------------------
# The heartbeat timer ticks every heartbeat_s: the first comment comes within 2 of them.
has_keepalive() { events s1 | grep -q -x 'comment keep-alive'; }
wait_for 3 has_keepalive || true
expect_eq "an SSE stream idle for observe.heartbeat_s (1 s here) gets the comment ': keep-alive'" "yes" \
    "$(has_keepalive && echo yes || echo no)"

# ---- the end: a final response, an error ----------------------------------------------------------
wire_ctl end a 2.05 p=bye >/dev/null
wait_for 10 ended s1 || true
expect_eq "rfc7641-3.2 a response without Observe ends it: that response is the last event, then event: end, then the body ends" \
    "notification 200 bye|end|yes" "$(last_two s1)|$(ended s1 && echo yes || echo no)"
expect_match "... the end event's data names a reason" '^end - - .+' "$(events s1 | grep '^end ' || true)"
expect_eq "... that last response carried no Observe option: its event has no id (RFC 7641 s3.2; README: id is the Observe value)" \
    "notification - 200 bye" "$(events s1 | grep '^notification .* bye$' || true)"
expect_eq "... and the curl transfer ended cleanly (the chunked body was closed, exit 0, status 200)" "200" \
    "$(cat "$WORK/s1.code")"

wire_ctl set e p=first >/dev/null
subscribe s2 e
wait_for 10 has_event s2 "notification 1 200 first" || true
wire_ctl end e 4.04 p=gone >/dev/null
wait_for 10 ended s2 || true
expect_eq "rfc7641-4.2 an error response (4.04) ends it: a last event with status 404, event: end, the body ends" \
    "notification 404 gone|end|yes" "$(last_two s2)|$(ended s2 && echo yes || echo no)"
wire_ctl set e2 p=first >/dev/null
subscribe s3 e2
wait_for 10 has_event s3 "notification 1 200 first" || true
wire_ctl end e2 5.03 obs=2 p=busy >/dev/null
wait_for 10 ended s3 || true
expect_eq "rfc7641-4.2 ... an error response that carries Observe ends it too" "notification 503 busy|end|yes" \
    "$(last_two s3)|$(ended s3 && echo yes || echo no)"

# ---- registrations that open no stream --------------------------------------------------------------
wire_ctl set nf code=4.04 p=no-such >/dev/null
http --max-time 5 -H 'Accept: text/event-stream' "http://$PROXY/hc/$C/obs/nf"
expect_eq "a registration answered 4.04 is the ordinary mapped answer: 404, no stream" "404 no" \
    "$STATUS $(header content-type | grep -q event-stream && echo yes || echo no)"
wire_ctl set u observable=no p=plain >/dev/null
http --max-time 5 -H 'Accept: text/event-stream' "http://$PROXY/hc/$C/obs/u"
cp "$WORK/body" "$WORK/u.out"
expect_eq "rfc7641-3.1 an answer without Observe (a resource that is not observable): one event, then event: end, the body ends" \
    "200 notification 200 plain|end" "$STATUS $(last_two u)"
expect_eq "... an event with no id: that answer had no Observe value" "notification - 200 plain" \
    "$(events u | grep '^notification' || true)"

# ---- multipart/mixed ---------------------------------------------------------------------------------
wire_ctl set m p=m-one obs=1 >/dev/null
subscribe mp m -H 'Observe: 0' -H 'Accept: multipart/mixed'
wait_for 10 has_part mp "part 200 m-one" || true
expect_match "Observe: 0 with Accept: multipart/mixed: a 200 multipart/mixed stream, boundary hcproxy-..." \
    '^200 multipart/mixed; ?boundary="?hcproxy-[A-Za-z0-9_-]{22,}"?$' "$(status_of mp) $(header_of mp content-type)"
expect_eq "... whose first part is the first answer, as a whole HTTP response" "part 200 m-one" "$(parts mp)"
notify m p=m-two
wait_for 10 has_part mp "part 200 m-two" || true
wire_ctl end m 2.05 p=m-last >/dev/null
wait_for 10 ended mp || true
expect_eq "... one part per notification; a final response is the last part, then the close delimiter" \
    "part 200 m-one|part 200 m-two|part 200 m-last|close|yes" "$(parts mp | paste -sd'|')|$(ended mp && echo yes || echo no)"

# ---- the HTTP client goes away -----------------------------------------------------------------------
streams0=$(metric hcproxy_observe_streams)
wire_ctl set g p=g-one >/dev/null
subscribe s4 g
wait_for 10 has_event s4 "notification 1 200 g-one" || true
unsubscribe s4
wait_for 10 metric_is hcproxy_observe_streams "$streams0" || true
expect_eq "rfc7641-3.6 once the HTTP client has gone, hcproxy answers the next notification with a Reset" "yes" \
    "$(reset_after_notify g g-two)"
expect_eq "... and the wire server holds no observer of it any more" "0" "$(observers g)"

# ---- re-registration when Max-Age passes ---------------------------------------------------------------
before=$(metric hcproxy_observe_reregistrations_total)
wire_ctl set r p=r-one maxage=2 >/dev/null
subscribe s5 r
wait_for 10 has_event s5 "notification 1 200 r-one" || true
wait_for 10 note_is reregister r 1 || true
first=$(grep -E '^note [0-9.]+ register r ' "$WORK/wire.record" | head -n1)
again=$(grep -E '^note [0-9.]+ reregister r ' "$WORK/wire.record" | head -n1)
expect_eq "rfc7641-3.3.1 Max-Age (2 s) after the last notification with none newer, hcproxy registers again with the same token" \
    "$(cut -d' ' -f5 <<<"${first:-x x x x (no-registration)}")" "$(cut -d' ' -f5 <<<"$again")"
waited=$(awk -v a="$(cut -d' ' -f2 <<<"$first")" -v b="$(cut -d' ' -f2 <<<"${again:-note 0}")" 'BEGIN { printf "%d", b - a }')
expect_eq "... not before Max-Age has passed (${waited} ms), nor long after it (within 6 s)" "yes" \
    "$([ "$waited" -ge 2000 ] && [ "$waited" -le 6000 ] && echo yes || echo no)"
expect_eq "... with a Message ID of its own" "yes" \
    "$([ -n "$again" ] && [ "${first##* }" != "${again##* }" ] && echo yes || echo no)"
expect_eq "/metrics: hcproxy_observe_reregistrations_total counts it" "yes" \
    "$([ "$(delta hcproxy_observe_reregistrations_total "$before")" -ge 1 ] && echo yes || echo no)"
notify r obs=9 p=r-after maxage=600
wait_for 10 has_event s5 "notification 9 200 r-after" || true
expect_eq "... and the stream goes on: the next notification is delivered" "yes" \
    "$(has_event s5 'notification 9 200 r-after' && echo yes || echo no)"
wire_ctl end r 2.05 >/dev/null
wait_for 10 ended s5 || true

# ---- a notification in blocks (RFC 7959 s2.6) ------------------------------------------------------------
wire_ctl set b p=b-one >/dev/null
subscribe s6 b
wait_for 10 has_event s6 "notification 1 200 b-one" || true
wire_mark
wire_ctl notify-big b 300 >/dev/null
want=$("$PY" -c 'import json; print(json.dumps("".join("\n" if i % 65 == 64 else chr(97 + i % 26) for i in range(300)))[1:-1])')
wait_for 15 has_event s6 "notification 2 200 $want" || true
expect_eq "rfc7959-2.6 a notification whose Block2 says more follow is delivered whole (300 bytes of 64-byte blocks), once" \
    "1" "$(events s6 | grep -c -x -F "notification 2 200 $want" || true)"
blocks=$(wire_since | grep -E '^recv [0-9.]+ (CON|NON) 0\.01 .*opts=[^ ]*23:' || true)
expect_match "... hcproxy asked for the other blocks (1 to 4) with GETs with Block2 ..." '^(0 )?1 2 3 4$' \
    "$(notes block b | sed 's/.* num=//' | sort -n -u | paste -sd' ')"
expect_eq "... and without Observe" "0" "$(grep -c -E 'opts=6:' <<<"$blocks" || true)"
wire_ctl end b 2.05 >/dev/null
wait_for 10 ended s6 || true

# ---- fan-out: subscribers of one resource share one registration ------------------------------------------
obs0=$(metric hcproxy_observe_observations)
streams0=$(metric hcproxy_observe_streams)
wire_ctl set f p=f-one >/dev/null
subscribe fa f
wait_for 10 has_event fa "notification 1 200 f-one" || true
notify f p=f-two
wait_for 10 has_event fa "notification 2 200 f-two" || true
# The server's state moves on without a notification: a registration of its own would be
# answered "f-unsent"; the latest notification hcproxy holds is "f-two".
wire_ctl set f p=f-unsent >/dev/null
subscribe fb f
wait_for 10 has_event fb "notification 2 200 f-two" || true
expect_eq "fan-out: a second subscriber of the same resource gets the latest notification first (hcproxy's, not a new registration's answer)" \
    "2 f-two" "$(notifications fb)"
expect_eq "... and shares the first one's registration: one at the CoAP server" "1 1" \
    "$(note_count register f) $(observers f)"
expect_eq "/metrics: ... one observation more (gauge), two more streams than before" "1 2" \
    "$(delta hcproxy_observe_observations "$obs0") $(delta hcproxy_observe_streams "$streams0")"
notify f p=f-three
wait_for 10 has_event fb "notification 3 200 f-three" || true
wait_for 10 has_event fa "notification 3 200 f-three" || true
expect_eq "... a notification goes to both" "2 f-two
3 f-three|1 f-one
2 f-two
3 f-three" "$(notifications fb)|$(notifications fa)"
streams=$(metric hcproxy_observe_streams)
unsubscribe fa
wait_for 10 metric_is hcproxy_observe_streams "$((streams - 1))" || true
notify f p=f-four
f4=$MID
wait_for 10 has_event fb "notification 4 200 f-four" || true
expect_eq "... when one leaves, the other still gets them, and the notification is not Reset" "yes no" \
    "$(has_event fb 'notification 4 200 f-four' && echo yes || echo no) $(noted reset f "$f4" && echo yes || echo no)"
unsubscribe fb
wait_for 10 metric_is hcproxy_observe_observations "$obs0" || true
expect_eq "... when the last one has left, the next notification is Reset" "yes" \
    "$(reset_after_notify f f-five)"

# ---- FETCH (RFC 8132 s2.4): a registration with a body, never shared --------------------------------------
wire_ctl set q p=q-one >/dev/null
subscribe qa q -X FETCH -H 'Content-Type: application/json' --data-binary '{"q":1}' \
    -H 'Accept: text/event-stream'
wait_for 10 has_event qa "notification 1 200 q-one" || true
reg=$(wire_show | grep -E '^recv [0-9.]+ CON 0\.05 ' | grep '11:6f6273,11:71' | head -n1)
expect_match "rfc8132-2.4 an HTTP FETCH stream registers with a CON FETCH carrying Observe 0 and the body" \
    "opts=([^ ]*,)?6:(,| ).* payload=$(printf '{"q":1}' | od -An -tx1 | tr -d ' \n')\$" "$reg"
subscribe qb q -X FETCH -H 'Content-Type: application/json' --data-binary '{"q":1}' \
    -H 'Accept: text/event-stream'
wait_for 10 has_event qb "notification 1 200 q-one" || true
expect_eq "... and each FETCH stream has a registration of its own (only GETs are shared)" "2 2" \
    "$(note_count register q) $(observers q)"
wire_ctl end q 2.05 >/dev/null
wait_for 10 ended qa || true
wait_for 10 ended qb || true

# ---- /metrics once every stream is over ------------------------------------------------------------------
wait_for 10 metric_is hcproxy_observe_streams 0 || true
expect_eq "/metrics: no streams and no observations left" "0 0" \
    "$(metric hcproxy_observe_streams) $(metric hcproxy_observe_observations)"
expect_clean_exit

# ---- limits, then SIGTERM ---------------------------------------------------------------------------------
start_hcproxy --observe-max-streams 3 --observe-max-streams-per-client 2 \
    --observe-max-subscribers-per-resource 2 --drain-delay-s 0
subscribe l1 L1 --interface 127.0.0.1 -H 'Accept: text/event-stream'
subscribe l2 L1 --interface 127.0.0.1 -H 'Accept: text/event-stream'
wait_for 10 has_event l1 "notification 1 200 n=1" || true
wait_for 10 has_event l2 "notification 1 200 n=1" || true
http --max-time 5 --interface 127.0.0.2 -H 'Accept: text/event-stream' "http://$PROXY/hc/$C/obs/L1"
expect_eq "observe.max_subscribers_per_resource (2): a third subscriber of one resource gets 503 and the key's name" \
    "503 yes" "$STATUS $(grep -q 'observe.max_subscribers_per_resource' <<<"$BODY" && echo yes || echo no)"
http --max-time 5 --interface 127.0.0.1 -H 'Accept: text/event-stream' "http://$PROXY/hc/$C/obs/L2"
expect_eq "observe.max_streams_per_client (2): a third stream from one address gets 429 and the key's name" \
    "429 yes" "$STATUS $(grep -q 'observe.max_streams_per_client' <<<"$BODY" && echo yes || echo no)"
subscribe l3 L2 --interface 127.0.0.2 -H 'Accept: text/event-stream'
wait_for 10 has_event l3 "notification 1 200 n=1" || true
http --max-time 5 --interface 127.0.0.3 -H 'Accept: text/event-stream' "http://$PROXY/hc/$C/obs/L3"
expect_eq "observe.max_streams (3): one stream more, from another address, of another resource, gets 503 and the key's name" \
    "503 yes" "$STATUS $(grep -q 'observe.max_streams)' <<<"$BODY" && echo yes || echo no)"
expect_eq "... the streams below the limits are open" "200 200 200" "$(status_of l1) $(status_of l2) $(status_of l3)"

# SIGTERM, and up to 15 s for hcproxy to end its streams and exit (then SIGKILL: a failure).
status=0
kill -TERM "$PROXY_PID"
wait_for 15 eval '! kill -0 "$PROXY_PID"' || { kill -KILL "$PROXY_PID"; echo "# hcproxy did not exit in 15 s"; }
wait "$PROXY_PID" || status=$?
for s in l1 l2 l3; do wait_for 10 ended "$s" || true; done
expect_eq "SIGTERM: every stream gets event: end, reason \"proxy is shutting down\", and ends" "3 yes" \
    "$(for s in l1 l2 l3; do events "$s" | grep '^end ' || echo none; done | grep -c -x 'end - - proxy is shutting down') $(ended l1 && ended l2 && ended l3 && echo yes || echo no)"
expect_eq "... and hcproxy exits 0, with no leak or sanitizer report" "0 0" \
    "$status $(grep -c -E 'Sanitizer|runtime error:' "$WORK/hcproxy.log" || true)"

done_testing
