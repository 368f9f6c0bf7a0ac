#!/usr/bin/python3
"""A misbehaving CoAP peer for hcproxy's fault tests (tests/integration/faults_upstream.sh).

Usage: coap-faulty.py MODE [ARGS]
Binds a UDP socket on 127.0.0.1, port picked by the kernel, and prints "ready PORT". On SIGTERM
it prints one line of counts ("stats received=R sent=S dropped=D") and exits.

  silent                  reads every datagram and never answers: no ACK, no RST, no ICMP
  rst                     answers every confirmable request with a Reset for its message ID
  malformed               answers every confirmable request with the malformed datagram its
                          first Uri-Path names (the request's message ID and token are used, so
                          each would match the request if it were well formed):
                            garbage   version 0 and random bytes
                            short     3 bytes: shorter than the fixed header
                            tkl       token length 9 (reserved, RFC 7252 s3)
                            overrun   an option whose length runs past the end of the datagram
                            marker    a payload marker followed by no payload (s3)
                            delta15   option delta 15 that is not the payload marker (s3.1)
                            cf5       well framed, but a 5-byte Content-Format (s5.10: 0-2)
                            valid203  well formed: 2.03 Valid, to a request that sent no ETag
                            opt128    well formed: 2.05 with option 128, reserved (s5.10.7)
                            then-ok   garbage first, then the correct answer: 2.05 "ok"
  loss PORT PERCENT SEED  a relay to 127.0.0.1:PORT that drops PERCENT % of the datagrams in each
                          direction, chosen by a PRNG seeded with SEED; one relay socket per
                          client address, so the server sees a distinct peer per client;
                          SIGUSR1 turns a blackout on or off (every datagram dropped),
                          "blackout on|off" is printed once the switch is made, and
                          "blackout drop N" for the Nth datagram dropped in blackouts

Only the standard library is used, and tests/peers/coap-raw.py's decoder.
"""
import importlib.machinery
import os
import random
import select
import signal
import socket
import sys

raw = importlib.machinery.SourceFileLoader(
    "coap_raw", os.path.join(os.path.dirname(os.path.abspath(__file__)), "coap-raw.py")).load_module()

COAP_CON, COAP_NON, COAP_ACK, COAP_RST = 0, 1, 2, 3
OPT_URI_PATH = 11


class Stats:
    received = 0
    sent = 0
    dropped = 0
    blackout = False
    blackout_dropped = 0


def on_term(signum, frame):
    print(f"stats received={Stats.received} sent={Stats.sent} dropped={Stats.dropped}", flush=True)
    sys.exit(0)


def on_usr1(signum, frame):
    Stats.blackout = not Stats.blackout
    print("blackout " + ("on" if Stats.blackout else "off"), flush=True)


def bind():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    return s


def parse(dgram):
    """(type, mid, token, uri_path list) of a well-formed request, or None."""
    msg = raw.parse(dgram)
    if msg is None or msg[0] != 1:
        return None
    _, mtype, _, mid, token, options, _ = msg
    path = [v.decode("utf-8", "replace") for n, v in options if n == OPT_URI_PATH]
    return mtype, mid.to_bytes(2, "big"), token, path


def header(mtype, code, mid, token, tkl=None):
    """The fixed header and token; |tkl| overrides the token length field."""
    n = len(token) if tkl is None else tkl
    return bytes([0x40 | mtype << 4 | n, code]) + mid + token


CONTENT = 0x45  # 2.05


def malformed(kind, mid, token):
    """The datagrams answering a request, as listed in the module comment."""
    if kind == "garbage":
        return [bytes([0x00]) + os.urandom(15)]
    if kind == "short":
        return [bytes([0x60, CONTENT]) + mid[:1]]
    if kind == "tkl":
        return [header(COAP_ACK, CONTENT, mid, token + b"\x00", tkl=9) + b"\xffok"]
    if kind == "overrun":
        # Content-Format (12): delta 12, length 13 + 200, and then only 2 bytes of value.
        return [header(COAP_ACK, CONTENT, mid, token) + bytes([0xCD, 200, 0, 0])]
    if kind == "marker":
        return [header(COAP_ACK, CONTENT, mid, token) + b"\xff"]
    if kind == "delta15":
        return [header(COAP_ACK, CONTENT, mid, token) + bytes([0xF1, 0x00]) + b"\xffok"]
    if kind == "cf5":
        return [header(COAP_ACK, CONTENT, mid, token) + bytes([0xC5, 1, 2, 3, 4, 5]) + b"\xffok"]
    if kind == "valid203":
        return [header(COAP_ACK, 0x43, mid, token)]
    if kind == "opt128":
        return [header(COAP_ACK, CONTENT, mid, token) + bytes([0xD1, 128 - 13]) + b"x\xffok"]
    if kind == "then-ok":
        return [bytes([0x00]) + os.urandom(15),
                header(COAP_ACK, CONTENT, mid, token) + bytes([0xC0]) + b"\xffok"]
    return []


def serve(mode):
    s = bind()
    print(f"ready {s.getsockname()[1]}", flush=True)
    while True:
        dgram, peer = s.recvfrom(65536)
        Stats.received += 1
        req = parse(dgram)
        if mode == "silent" or req is None or req[0] != COAP_CON:
            continue
        mtype, mid, token, path = req
        if mode == "rst":
            answers = [header(COAP_RST, 0, mid, b"")]
        else:
            answers = malformed(path[0] if path else "", mid, token)
        for a in answers:
            s.sendto(a, peer)
            Stats.sent += 1


def relay(port, percent, seed):
    rng = random.Random(seed)
    server = ("127.0.0.1", port)
    front = bind()
    print(f"ready {front.getsockname()[1]}", flush=True)
    back_of, client_of = {}, {}  # client address -> relay socket, and back
    while True:
        try:
            readable, _, _ = select.select([front] + list(client_of), [], [])
        except InterruptedError:
            continue
        for sock in readable:
            dgram, peer = sock.recvfrom(65536)
            Stats.received += 1
            if Stats.blackout:
                Stats.blackout_dropped += 1
                print(f"blackout drop {Stats.blackout_dropped}", flush=True)
            if rng.random() * 100 < percent or Stats.blackout:
                Stats.dropped += 1
                continue
            if sock is front:
                if peer not in back_of:
                    back_of[peer] = bind()
                    client_of[back_of[peer]] = peer
                back_of[peer].sendto(dgram, server)
            else:
                front.sendto(dgram, client_of[sock])
            Stats.sent += 1


def main():
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGUSR1, on_usr1)
    mode = sys.argv[1]
    if mode == "loss":
        relay(int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]))
    elif mode in ("silent", "rst", "malformed"):
        serve(mode)
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
