#!/usr/bin/env bash
# Block-wise transfers from CoAP clients (RFC 7959) in the reverse direction, driven by a raw-wire
# client (tests/peers/coap-raw.py) that sends exactly the blocks a test asks for: uploads are
# forwarded whole and once, never split or merged, and answers are served block by block from
# one origin answer.
. "$(dirname "$0")/lib.sh"

RAW="${RAW:-$(dirname "$0")/../peers/coap-raw.py}"
start_origin
start_hcproxy --coap-max-body-bytes 65536
CP=$(grep -o -m1 'listening on coap://[^ "]*' "$WORK/hcproxy.log" | sed 's/.*:\([0-9][0-9]*\).*/\1/')
raw() { timeout 120 "$PY" "$RAW" "$1" 127.0.0.1 "$CP" "${@:2}" 2>&1 || true; }
sha() { "$PY" -c "import hashlib,sys; print(hashlib.sha256(bytes((int(sys.argv[2]) + i) % int(sys.argv[3]) for i in range(int(sys.argv[1])))).hexdigest())" "$@"; }
# forwarded PATH: how many requests for PATH hcproxy sent to the origin so far.
forwarded() { grep -c -F -- "$O$1 -> HTTP" "$WORK/hcproxy.log" || true; }
healthy() { curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://$PROXY/healthz"; }

# RFC 7959 s4: Size1 is optional. An upload without it once crashed hcproxy on its last block
# (libcoap 4.3.1 handed each block to the handler as a request of its own).
out=$(raw upload POST "$O/sha256" 3000)
expect_eq "rfc7959-2.5 a 3000-byte Block1 upload without Size1 arrives whole" \
    "final 2.04 $(sha 3000 0 251)" "$(tail -n1 <<<"$out")"
expect_eq "... in one request to the origin" "1" "$(forwarded /sha256)"
expect_eq "... and hcproxy still answers" "200" "$(healthy)"
out=$(raw upload POST "$O/sha256" 3000 --repeat 3)
expect_eq "rfc7959-2.5 three uploads without Size1, one after the other from one socket, all whole" \
    "3" "$(grep -c "^final 2.04 $(sha 3000 0 251)$" <<<"$out")"
out=$(raw upload POST "$O/sha256" 3000 --size1)
expect_eq "rfc7959-2.5 ... and one with Size1" "final 2.04 $(sha 3000 0 251)" "$(tail -n1 <<<"$out")"
out=$(raw upload POST "$O/sha256" 1000 --szx 2)
expect_eq "rfc7959-2.5 an upload in 64-byte blocks arrives whole" \
    "final 2.04 $(sha 1000 0 251)" "$(tail -n1 <<<"$out")"
expect_eq "... every upload was one request to the origin" "6" "$(forwarded /sha256)"

# Concurrent uploads from one endpoint, each with its own token, blocks interleaved: never mixed.
for n in 2 20 200; do
    before=$(forwarded /sha256)
    out=$(raw uploads POST "$O/sha256" 3000 "$n")
    expect_eq "rfc7959-2.5 $n interleaved uploads from one endpoint all arrive whole" \
        "uploads $n/$n" "$(tail -n1 <<<"$out")"
    expect_eq "... each once" "$n" "$(( $(forwarded /sha256) - before ))"
done

# RFC 7959 s2.9.2: a block that no upload waits for is 4.08, and nothing reaches the origin.
before=$(forwarded /sha256)
out=$(RAWLIB="$RAW" "$PY" -c '
import importlib.machinery, os, sys
raw = importlib.machinery.SourceFileLoader("raw", os.environ["RAWLIB"]).load_module()
c = raw.Client("127.0.0.1", sys.argv[1])
body = bytes(4000)
print(raw.send_block(c, "POST", sys.argv[2], body, 2, b"\x09\x09")[0])
' "$CP" "$O/sha256")
expect_eq "rfc7959-2.9.2 a Block1 block that no upload waits for is 4.08 Request Entity Incomplete" \
    "4.08" "$out"
expect_eq "... and nothing reaches the origin" "$before" "$(forwarded /sha256)"

# RFC 7959 s2.9.3: over coap.max_body_bytes (65536 here), 4.13 with Size1 saying the limit,
# at once by Size1, else as soon as the blocks pass it; nothing is forwarded.
out=$(RAWLIB="$RAW" "$PY" -c '
import importlib.machinery, os, sys
raw = importlib.machinery.SourceFileLoader("raw", os.environ["RAWLIB"]).load_module()
c = raw.Client("127.0.0.1", sys.argv[1])
code, opts, _ = raw.send_block(c, "POST", sys.argv[2], bytes(1 << 20), 0, b"\x07", size1=True)
print(code, int.from_bytes(raw.option(opts, raw.OPT_SIZE1) or b"", "big"))
' "$CP" "$O/sha256")
expect_eq "rfc7959-2.9.3 Size1 over the limit on block 0: 4.13 with Size1 = the limit" "4.13 65536" "$out"
out=$(raw upload POST "$O/sha256" 100000)
expect_eq "rfc7959-2.9.3 an upload without Size1 that grows past the limit: 4.13" "final 4.13" \
    "$(tail -n1 <<<"$out" | cut -d' ' -f1-2)"
expect_eq "... stopped at the block that passed it" "block 64 -> 4.13" "$(grep -v '^final' <<<"$out" | tail -n1)"
expect_eq "... and neither reached the origin" "$before" "$(forwarded /sha256)"

# RFC 7959 s2.4: a large answer is served block by block from one origin answer.
"$PY" -c "import sys; sys.stdout.buffer.write(bytes(i % 256 for i in range(1048576)))" >"$WORK/pattern"
want=$("$PY" -c "import hashlib; print(hashlib.sha256(open('$WORK/pattern','rb').read()).hexdigest())")
out=$(raw get "$O/bytes?n=1048576")
expect_eq "rfc7959-2.4 a 1 MiB answer reaches the raw client block by block, byte for byte" \
    "got 2.05 1048576 $want" "$(tail -n1 <<<"$out")"
# (hcproxy's log redacts query values: README.md, Logs)
expect_eq "... from one request to the origin" "1" "$(forwarded '/bytes?n=REDACTED')"
out=$(raw get "$O/bytes?n=300" --szx 2)
expect_eq "rfc7959-2.4 early negotiation: Block2 asking for 64-byte blocks gets them" \
    "block 0 -> 2.05 64" "$(head -n1 <<<"$out")"
expect_eq "... five of them, the whole body" \
    "got 2.05 300 $(sha 300 0 256)" "$(tail -n1 <<<"$out")"
out=$(raw get "$O/hello")
expect_eq "rfc7959-2.4 an answer that fits one block comes without Block2" "block 0 -> 2.05 -" \
    "$(head -n1 <<<"$out")"
expect_eq "hcproxy answers /healthz after all of it" "200" "$(healthy)"

done_testing
