#!/usr/bin/env bash
# OSCORE observations through hcproxy, end to end (RFC 8613 s4.1.3.5 and s11; RFC 7641): the
# client side of oscore-peer protects a registration (inner GET /obs with Observe 0), real curl
# sends it as a user would (outer FETCH, `Observe: 0`, the OSCORE header, application/oscore, the
# ciphertext) and reads the stream, `oscore-peer server` registers it and sends its protected
# notifications, and `oscore-peer verify-notification` checks each one the client got, in order
# (s7.4.1: each Partial IV greater than the last). hcproxy holds no key: all it can do is carry
# the registration and every notification unchanged, both framings (README "Observe over HTTP").
#
# OSCORE_PEER names the peer; without it, the build tree's tests/peers/oscore-peer is used.
. "$(dirname "$0")/lib.sh"

OSCORE_PEER=${OSCORE_PEER:-"$(dirname "$HCPROXY")/../tests/peers/oscore-peer"}
[ -x "$OSCORE_PEER" ] || { echo "Bail out! no oscore-peer at $OSCORE_PEER"; exit 1; }

# frames.py multipart|sse FILE PREFIX [BOUNDARY]: splits a stream body as hcproxy frames it (README
# "Observe over HTTP"). For each notification k (1, 2, ...) it writes PREFIX<k>.header (the OSCORE
# header value), PREFIX<k>.body (the ciphertext, exactly) and prints one line
#   multipart: "part <k> <status> ct=<Content-Type> oscore=<OSCORE> observe=<Observe> part-ct=<type>"
#   sse:       "event <k> id=<id> status=<status> ct=<content_type> observe=<observe> oscore=<oscore>"
# then "closed" (multipart: the close delimiter ends the body, nothing after it) or "end <reason>"
# (sse: the end event, the last thing in the body); anything malformed is a line "bad: ...".
cat >"$WORK/frames.py" <<'EOF'
import base64, json, sys

mode, path, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
data = open(path, "rb").read()

def save(k, header, body):
    open(f"{prefix}{k}.header", "w").write(header or "")
    open(f"{prefix}{k}.body", "wb").write(body)

def headers_of(block):
    out = {}
    for line in block.split(b"\r\n"):
        name, _, value = line.decode("latin-1").partition(": ")
        out[name.lower()] = value
    return out

def multipart(boundary):
    delim = b"--" + boundary.encode()
    at, k = 0, 0
    while True:
        if not data.startswith(delim, at):
            return print(f"bad: no delimiter at byte {at}")
        at += len(delim)
        if data[at:at + 4] == b"--\r\n":
            return print("closed" if at + 4 == len(data) else f"bad: {len(data) - at - 4} bytes after the close delimiter")
        if data[at:at + 2] != b"\r\n":
            return print(f"bad: junk after a delimiter at byte {at}")
        end = data.find(b"\r\n\r\n", at + 2)
        part_headers = headers_of(data[at + 2:end])
        head_end = data.find(b"\r\n\r\n", end + 4)
        status_line, _, rest = data[end + 4:head_end].partition(b"\r\n")
        h = headers_of(rest)
        length = int(h.get("content-length", "0"))
        body = data[head_end + 4:head_end + 4 + length]
        at = head_end + 4 + length
        if data[at:at + 2] != b"\r\n":
            return print(f"bad: the body of part {k + 1} is not {length} bytes")
        at += 2
        k += 1
        save(k, h.get("oscore"), body)
        print(f"part {k} {status_line.decode().split(' ')[1]} ct={h.get('content-type')} "
              f"oscore={h.get('oscore')} observe={h.get('observe')} "
              f"part-ct={part_headers.get('content-type')}")

def sse():
    k = 0
    events = data.decode().split("\n\n")
    if events[-1] != "":
        return print("bad: the body does not end with a blank line")
    for i, event in enumerate(events[:-1]):
        fields = {}
        for line in event.split("\n"):
            name, _, value = line.partition(": ")
            fields[name] = value
        if fields.get("event") == "end":
            last = i == len(events) - 2
            return print("end " + json.loads(fields["data"])["reason"] if last else "bad: events after the end")
        if fields.get("event") != "notification":
            continue  # a comment (": keep-alive")
        n = json.loads(fields["data"])
        k += 1
        save(k, n["oscore"], base64.b64decode(n["base64"]) if "base64" in n else n["text"].encode())
        print(f"event {k} id={fields.get('id')} status={n['status']} ct={n['content_type']} "
              f"observe={n['observe']} oscore={n['oscore']}")
    print("bad: no end event")

multipart(sys.argv[4]) if mode == "multipart" else sse()
EOF

# start_server NAME [server options...]: a fresh `oscore-peer server` on a new port; sets OS_PORT,
# SERVER_PID, SERVER_LOG; the last request it got is kept in $WORK/NAME.record (--record), its first
# observation's notifications in $WORK/NAME.n<K>.header and .body (--record-notifications).
start_server() {
    local name=$1
    shift
    OS_PORT=$(free_udp_port)
    SERVER_LOG="$WORK/$name.out"
    SERVER_NAME=$name
    "$OSCORE_PEER" server -A 127.0.0.1 -p "$OS_PORT" --record "$WORK/$name.record" \
        --record-notifications "$WORK/$name.n" "$@" >"$SERVER_LOG" 2>&1 &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
    wait_for 10 grep -q '^ready' "$SERVER_LOG" || {
        echo "Bail out! oscore-peer server did not start"; sed 's/^/# /' "$SERVER_LOG"; exit 1; }
}

stop_server() { kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; }
server_count() { grep -c -- "$1" "$SERVER_LOG" || true; }
server_has() { [ "$(server_count "$2")" -ge "$1" ]; } # server_has N PATTERN, for wait_for

start_hcproxy
SEQ=0 # the client's Sender Sequence Number: every registration takes the next one (s4.1.3.5.1)

# protect_registration NAME: a new registration (inner GET /obs, Observe 0) at the next sequence
# number; its ciphertext in $WORK/NAME.req, its OSCORE header value in $WORK/NAME.req.header.
protect_registration() {
    SEQ=$((SEQ + 1))
    "$OSCORE_PEER" protect --method GET --path /obs --observe 0 --seq "$SEQ" \
        --out-body "$WORK/$1.req" >"$WORK/$1.req.header"
}

# observe_through NAME ACCEPT [curl options...]: curl sends registration NAME through hcproxy, as
# s4.1.3.5.1 and s11 have it, and reads the stream until it ends (at most 30 s); the status in
# $WORK/NAME.status, the headers in $WORK/NAME.headers, the body in $WORK/NAME.stream.
observe_through() {
    local name=$1 accept=$2
    shift 2
    : >"$WORK/$name.headers"
    # -S: a curl error (its exit status too) goes to stderr, which meson keeps for a failed run.
    curl -sS -N --max-time 30 -X FETCH -H "OSCORE: $(cat "$WORK/$name.req.header")" \
        -H 'Content-Type: application/oscore' -H 'Observe: 0' -H "Accept: $accept" \
        --data-binary @"$WORK/$name.req" -D "$WORK/$name.headers" -o "$WORK/$name.stream" \
        -w '%{http_code}' "$@" "http://$PROXY/hc/coap://127.0.0.1:$OS_PORT/" \
        >"$WORK/$name.status" || echo "observe_through $name: curl exit status $?" >&2
}
# stream_header NAME FIELD: a response header of stream NAME (the field name in any case).
stream_header() {
    tr -d '\r' <"$WORK/$1.headers" |
        awk -v n="$2" 'tolower($0) ~ "^" tolower(n) ": " { sub(/^[^:]*: /, ""); print; exit }'
}

# split_stream NAME: the frames of stream NAME (frames.py), multipart or SSE by its Content-Type, into
# FRAMES and $WORK/NAME.f<K>.header / .body.
split_stream() {
    local type boundary
    type=$(stream_header "$1" content-type)
    if [[ "$type" == multipart/mixed* ]]; then
        boundary=${type#*boundary=}
        FRAMES=$("$PY" "$WORK/frames.py" multipart "$WORK/$1.stream" "$WORK/$1.f" "$boundary" 2>&1)
    else
        FRAMES=$("$PY" "$WORK/frames.py" sse "$WORK/$1.stream" "$WORK/$1.f" 2>&1)
    fi
}

# verify_all NAME SEQ FROM TO: verify-notification on frames FROM..TO of stream NAME as
# notifications to registration SEQ, each after the last one accepted (--last-piv); one line each
# in VERIFIED ("notification piv=0 code=2.05 payload=n=1", or the failure).
verify_all() {
    local name=$1 seq=$2 k last= out piv
    VERIFIED=
    for k in $(seq "$3" "$4"); do
        if [ ! -f "$WORK/$name.f$k.body" ]; then
            VERIFIED+="no frame $k"$'\n'
            continue
        fi
        out=$("$OSCORE_PEER" verify-notification --seq "$seq" ${last:+--last-piv "$last"} \
            --header "$(cat "$WORK/$name.f$k.header")" --body-file "$WORK/$name.f$k.body" 2>&1) || true
        piv=$(printf '%s\n' "$out" | sed -n 's/^notification piv=\([0-9]*\) .*/\1/p')
        [ -n "$piv" ] && last=$piv
        VERIFIED+="$out"$'\n'
    done
    VERIFIED=${VERIFIED%$'\n'}
}

# same_bytes NAME K FILE: frame K of stream NAME carries FILE's ciphertext, byte for byte, and
# FILE's .header value as its OSCORE header.
same_bytes() {
    cmp -s "$WORK/$1.f$2.body" "$3.body" &&
        [ "$(cat "$WORK/$1.f$2.header")" = "$(cat "$3.header")" ]
}

# expect_registration NAME: the server got registration NAME exactly as the client protected it:
# outer FETCH, outer Observe 0 (empty), the OSCORE option the header decodes to, the ciphertext,
# and nothing else (no Uri-Path, no Hop-Limit, no Content-Format: s4.1.3.3, s11).
expect_registration() {
    local want
    want=$("$PY" -c '
import base64, sys
h = open(sys.argv[1]).read().strip()
opt = base64.urlsafe_b64decode(h + "=" * (-len(h) % 4))
if opt == b"\x00": opt = b""
print("code:0.05\nopt:6:\nopt:9:" + opt.hex() + "\npayload:" + open(sys.argv[2], "rb").read().hex())' \
        "$WORK/$1.req.header" "$WORK/$1.req")
    expect_eq "... the server got the registration byte for byte: outer FETCH, Observe 0, the OSCORE option and ciphertext the client sent, nothing else" \
        "$want" "$(cat "$WORK/$SERVER_NAME.record" 2>/dev/null)"
}

# The lines verify-notification prints for notifications 1..N ("n=K", Partial IV K-1), then the
# final response ("end", Partial IV N) when FINAL is set: the peer server's protection of them.
want_verified() {
    local k
    for k in $(seq 1 "$1"); do echo "notification piv=$((k - 1)) code=2.05 payload=n=$k"; done
    [ -z "${2:-}" ] || echo "notification piv=$1 code=2.05 payload=end"
}

# ---- multipart/mixed: every notification, byte for byte, verified in order -------------------------
start_server mp --count 3 --interval-ms 150
protect_registration mp
observe_through mp multipart/mixed
expect_eq "multipart: Observe 0 with OSCORE (outer FETCH) opens a stream: 200" 200 "$(cat "$WORK/mp.status")"
expect_match "... multipart/mixed with a boundary" '^multipart/mixed; boundary=hcproxy-' \
    "$(stream_header mp content-type)"
expect_registration mp
split_stream mp
expect_eq "... three notifications, each an OSCORE response (200, OSCORE, application/oscore; Observe = the outer one)" \
    "part 1 200 ct=application/oscore oscore=$(cat "$WORK/mp.n1.header") observe=0 part-ct=application/http
part 2 200 ct=application/oscore oscore=$(cat "$WORK/mp.n2.header") observe=1 part-ct=application/http
part 3 200 ct=application/oscore oscore=$(cat "$WORK/mp.n3.header") observe=2 part-ct=application/http" \
    "$(head -n 3 <<<"$FRAMES")"
expect_match "... then the final response as a fourth part, and the close delimiter ends the body" \
    $'^part 4 200 ct=application/oscore oscore=[A-Za-z0-9_-]+ observe=[^ ]* part-ct=application/http\nclosed$' \
    "$(tail -n +4 <<<"$FRAMES")"
n_same=0
for k in 1 2 3; do same_bytes mp "$k" "$WORK/mp.n$k" && n_same=$((n_same + 1)); done
expect_eq "... each notification's ciphertext and OSCORE value exactly as the server protected it" 3 "$n_same"
verify_all mp "$SEQ" 1 4
expect_eq "... every one verifies as a notification to the registration, each Partial IV newer than the last (s4.1.3.5.2, s7.4.1), the final response too" \
    "$(want_verified 3 final)" "$VERIFIED"
verify_all mp "$((SEQ + 1))" 2 2
expect_eq "... and not as one to another registration (s5.4: bound to this one's Partial IV)" \
    "oscore-peer: notification 1: Decryption failed" "$VERIFIED"
wait_for 5 server_has 1 'observation ended: final response sent after 3 notifications' || true
expect_eq "... the server registered one observation and ended it with its final response" "1 1" \
    "$(server_count 'observe registered: outer 0.05 with outer Observe 0') $(server_count 'observation ended: final response sent after 3 notifications')"
stop_server

# ---- server-sent events: the oscore field and the base64 ciphertext ------------------------------
start_server sse --count 3 --interval-ms 150
protect_registration sse
observe_through sse text/event-stream
expect_eq "SSE: Observe 0 with OSCORE opens an event stream: 200 text/event-stream" \
    "200 text/event-stream" "$(cat "$WORK/sse.status") $(stream_header sse content-type)"
expect_registration sse
split_stream sse
# The outer Observe the peer sends is its Partial IV's low 24 bits (s4.1.3.5.2 allows it).
pivs=$(sed -n 's/^notification n=[0-9]* piv=\([0-9]*\)$/\1/p' "$SERVER_LOG" | tr '\n' ' ')
expect_eq "... three notification events (id = observe = the outer Observe), status 200, application/oscore, the oscore field" \
    "event 1 id=0 status=200 ct=application/oscore observe=0 oscore=$(cat "$WORK/sse.n1.header")
event 2 id=1 status=200 ct=application/oscore observe=1 oscore=$(cat "$WORK/sse.n2.header")
event 3 id=2 status=200 ct=application/oscore observe=2 oscore=$(cat "$WORK/sse.n3.header")" \
    "$(head -n 3 <<<"$FRAMES")"
expect_eq "... the outer Observe values were the server's: 0 1 2" "0 1 2 " "$pivs"
expect_match "... then the final response as an event without id or Observe (it has none: RFC 7641 s3.2), and the end event" \
    $'^event 4 id=None status=200 ct=application/oscore observe=None oscore=[A-Za-z0-9_-]+\nend the CoAP server ended the observation$' \
    "$(tail -n +4 <<<"$FRAMES")"
n_same=0
for k in 1 2 3; do same_bytes sse "$k" "$WORK/sse.n$k" && n_same=$((n_same + 1)); done
expect_eq "... each base64 payload decodes to the ciphertext the server sent, byte for byte" 3 "$n_same"
verify_all sse "$SEQ" 1 4
expect_eq "... and each verifies in order, the final response too" "$(want_verified 3 final)" "$VERIFIED"
stop_server

# ---- two clients: two registrations, never one shared ---------------------------------------------
start_server two --count 3 --interval-ms 200
protect_registration a
protect_registration b
observe_through a multipart/mixed &
pid_a=$!
observe_through b text/event-stream &
pid_b=$!
wait "$pid_a" "$pid_b" || true
expect_eq "two clients registering at once: both streams open (200 200)" "200 200" \
    "$(cat "$WORK/a.status") $(cat "$WORK/b.status")"
expect_eq "... the server saw two registrations, with two tokens" "2 2" \
    "$(server_count 'observe registered: outer 0.05') $(sed -n 's/^observe registered: .*(token \(.*\))$/\1/p' "$SERVER_LOG" | sort -u | wc -l)"
# The two observations take turns with the server's Sender Sequence Number: each one's Partial IVs
# increase (verify_all checks it), but not one by one.
split_stream a
verify_all a "$((SEQ - 1))" 1 4
expect_eq "... client A's notifications verify as its own registration's, in order" \
    "$(want_verified 3 final | sed 's/piv=[0-9]*/piv=N/')" "$(sed 's/piv=[0-9]*/piv=N/' <<<"$VERIFIED")"
split_stream b
verify_all b "$SEQ" 1 4
expect_eq "... client B's as its own" "$(want_verified 3 final | sed 's/piv=[0-9]*/piv=N/')" \
    "$(sed 's/piv=[0-9]*/piv=N/' <<<"$VERIFIED")"
verify_all b "$((SEQ - 1))" 1 1
expect_eq "... and not as A's: each got its own observation's notifications" \
    "oscore-peer: notification 1: Decryption failed" "$VERIFIED"
# The same registration twice (a client that retries) is forwarded again, not joined to the first
# observation: the server refuses the copy as a replay (s7.4), unprotected, and only that client
# hears of it.
protect_registration dup
observe_through dup multipart/mixed &
pid_a=$!
wait_for 10 server_has 3 'observe registered:'
cp "$WORK/dup.req" "$WORK/dup2.req"
cp "$WORK/dup.req.header" "$WORK/dup2.req.header"
observe_through dup2 multipart/mixed
wait "$pid_a" || true
expect_eq "the same OSCORE registration sent again while the first is observed is not joined to it: it reaches the server, which refuses the replay (4.01 -> 403)" \
    "403 1" "$(cat "$WORK/dup2.status") $(server_count 'request refused: Replay detected')"
split_stream dup
expect_eq "... while the first stream goes on to the end" "4 closed" \
    "$(grep -c '^part ' <<<"$FRAMES") $(tail -n 1 <<<"$FRAMES")"
stop_server

# ---- a tampered notification reaches the client as it is; the client refuses it ------------------
start_server tamper --count 3 --interval-ms 150 --tamper-notification 2
protect_registration tamper
observe_through tamper multipart/mixed
split_stream tamper
expect_eq "tampered notification 2: hcproxy (which cannot check it) delivers all four parts" \
    "4 closed" "$(grep -c '^part ' <<<"$FRAMES") $(tail -n 1 <<<"$FRAMES")"
if same_bytes tamper 2 "$WORK/tamper.n2"; then
    ok "... notification 2 exactly as the server sent it, the flipped byte included"
else
    not_ok "... notification 2 exactly as the server sent it" "$(cmp "$WORK/tamper.f2.body" "$WORK/tamper.n2.body" 2>&1)"
fi
verify_all tamper "$SEQ" 1 4
expect_eq "... and the client's verification refuses it, and only it (s8.4)" \
    "notification piv=0 code=2.05 payload=n=1
oscore-peer: notification 1: Decryption failed
notification piv=2 code=2.05 payload=n=3
notification piv=3 code=2.05 payload=end" "$VERIFIED"
stop_server

# ---- a replayed notification: older by its outer Observe, dropped by hcproxy (RFC 7641 s3.4) ------
# The server sends notification 1 again (same ciphertext, outer Observe 0) after notification 2
# (outer Observe 1), as a new confirmable message. hcproxy orders by the outer Observe, as an
# intermediary must (RFC 8613 s4.1.3.5.2: the outer Observe is there for intermediaries); the old
# one is not newer (s3.4), so it is acknowledged and not delivered. Had it been delivered, the
# client would have refused it by its Partial IV (s7.4.1): the order check is the client's.
start_server replay --count 3 --interval-ms 150 --replay-notification 2 -v
protect_registration replay
observe_through replay multipart/mixed
split_stream replay
expect_eq "replayed notification 1 (outer Observe 0 after 1): not delivered; the stream has notifications 1, 2, 3 and the final response" \
    "oscore=$(cat "$WORK/replay.n1.header") oscore=$(cat "$WORK/replay.n2.header") oscore=$(cat "$WORK/replay.n3.header") 4 closed" \
    "$(head -n 3 <<<"$FRAMES" | grep -o 'oscore=[^ ]*' | tr '\n' ' ')$(grep -c '^part ' <<<"$FRAMES") $(tail -n 1 <<<"$FRAMES")"
verify_all replay "$SEQ" 1 4
expect_eq "... all of which verify in order" "$(want_verified 3 final)" "$VERIFIED"
# The server's -v log: every confirmable notification it sent ("t:CON c:2.0x") and every ACK it got
# (the last one may still be on its way when curl's stream has ended).
cons_acked() { [ "$(grep -c 't:CON c:2\.0' "$SERVER_LOG")" = "$(grep -c 't:ACK c:0\.00' "$SERVER_LOG")" ]; }
wait_for 5 cons_acked || true
expect_eq "... and hcproxy acknowledged every confirmable notification, the replay too (RFC 7252 s4.2)" \
    "$(grep -c 't:CON c:2\.0' "$SERVER_LOG") ACKs" "$(grep -c 't:ACK c:0\.00' "$SERVER_LOG") ACKs"
"$OSCORE_PEER" verify-notification --seq "$SEQ" --last-piv 1 --header "$(cat "$WORK/replay.n1.header")" \
    --body-file "$WORK/replay.n1.body" >/dev/null 2>"$WORK/replay.verify" || true
expect_match "... (delivered, the client would have refused it: Partial IV 0 after 1, s7.4.1)" \
    'Partial IV 0 is not newer than the Notification Number 1' "$(cat "$WORK/replay.verify")"
stop_server

# ---- the client goes away: hcproxy Resets the next notification (RFC 7641 s3.6) ------------------
# hcproxy cannot send a protected deregistration (s4.1.3.5.1: it cannot make one that verifies),
# so it ends the server's observation the way RFC 7641 s3.6 leaves to any client.
start_server gone --count 1000 --interval-ms 200
protect_registration gone
observe_through gone multipart/mixed --max-time 1
if wait_for 10 grep -q 'observation ended: reset by the client' "$SERVER_LOG"; then
    ok "the HTTP client gone: the server's next notification is Reset and its observation ends"
else
    not_ok "the HTTP client gone: the server's next notification is Reset" "$(tail -n 5 "$SERVER_LOG")"
fi
stop_server

# ---- Max-Age: hcproxy must not send the registration again (RFC 8613 s4.1.3.5.1) -----------------
# RFC 7641 s3.3.1 lets a client register again once a notification's Max-Age has passed, and
# hcproxy does so for plain observations (2 s after it). An OSCORE registration sent again would
# be a replay (s7.4): the server would refuse it unprotected, and the observation would end,
# although nothing was wrong with it; s4.1.3.5.1 says an OSCORE-aware intermediary SHALL NOT
# initiate registrations. Notifications with an outer Max-Age of 1 s, 4.5 s apart: the
# observation must last to its final response.
start_server maxage --count 1 --interval-ms 4500 --max-age 1
protect_registration maxage
observe_through maxage text/event-stream
split_stream maxage
verify_all maxage "$SEQ" 1 2
expect_eq "rfc8613-4.1.3.5.1 an OSCORE observation quiet past Max-Age is not registered again: the server sees one registration and no replay" \
    "1 0" "$(server_count 'observe registered:') $(server_count 'request refused: Replay detected')"
expect_eq "... and the stream goes on to the final response, which verifies" \
    "$(want_verified 1 final)
end the CoAP server ended the observation" "$VERIFIED
$(tail -n 1 <<<"$FRAMES")"
stop_server

if [ "$TAP_FAILED" -gt 0 ]; then
    echo "# the last oscore-peer server's log:"
    grep -v '^v:1' "$SERVER_LOG" | tail -n 20 | sed 's/^/#   /'
fi
done_testing
