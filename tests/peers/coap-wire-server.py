#!/usr/bin/python3
"""A raw-wire CoAP server for hcproxy's conformance tests (tests/conformance/): it records every
datagram hcproxy sends it and answers with exactly the datagrams a scenario scripts, so a test sees
what hcproxy put on the wire and how it takes answers that libcoap's own servers would never give.

Usage: coap-wire-server.py RECORD
       coap-wire-server.py show RECORD
Binds a UDP socket on 127.0.0.1, port picked by the kernel, and prints "ready PORT". Every datagram
received is appended to RECORD as "recv MS HEX", every one sent as "sent MS HEX" (MS: a monotonic
clock in milliseconds; each line flushed at once). `show` prints RECORD decoded, a datagram a line:
  recv 1234.5 CON 0.01 mid=4660 tok=0a0b len=23 opts=11:6f6b,16:10 payload=
(options as number:hex value, in the order they came; the payload in hex). Only the standard
library is used.

A well-formed request's first Uri-Path segment names the scenario; later segments are its
arguments. Datagrams that are not requests (ACK, RST, empty) are only recorded.

  ok                     piggybacked 2.05, Content-Format 0, "ok"
  code/C.DD              piggybacked response code C.DD with the payload "code C.DD"
                         (2.03 and 2.02/2.04 when followed by /empty: no payload)
  rawcode/HEX            piggybacked response whose code byte is HEX (e.g. e1 = 7.01)
  opt/NUMBER/HEX[/NUMBER/HEX...]
                         piggybacked 2.05 "ok" that also carries option NUMBER with value HEX
                         ("-" for an empty value), whatever its format says, once per pair
  separate               empty ACK, then a CON 2.05 "separate" with a fresh message ID
  separate-dup           empty ACK, then the same CON 2.05 twice, 0.2 s apart (one message ID:
                         the second is a duplicate, RFC 7252 s4.5)
  separate-non           empty ACK, then a NON 2.05 "separate non"
  rst                    a Reset
  wrong-mid              an ACK 2.05 "wrong" with another message ID, then the right one, "right"
  version2               the ACK 2.05 "wrong" with version 2, then the right one, "right"
  stray                  piggybacked 2.05 "ok", then a CON 2.05 "stray" whose token (the request's,
                         inverted) matches no request
  drop-first             ignores the first transmission of each message ID, answers the second
  block2/N/SZX/MODE      a body of N bytes (i % 251) in Block2 blocks of 16 << SZX bytes; MODE:
                           piggy      every block piggybacked, one ETag
                           separate   block 0 as empty ACK + CON, the rest piggybacked
                           etag       every block with another ETag
                           endless    every block says more follow (the body never ends)
  echo                   4.01 with an Echo option (RFC 9175 s2) unless the request carries it back;
                         then 2.05 "fresh"
  upload[/SZX]           Block1 blocks (RFC 7959 s2.5): 2.31 Continue while more follow, then
                         2.04 "got"; a request without Block1: 2.04 "whole". With SZX, every
                         2.31 asks for blocks of that size (early negotiation, s2.5)
  too-large/SZX          4.13 with Block1 (SZX) and Size1 1 (RFC 7959 s2.9.3) to a request without
                         Block1; Block1 blocks: 2.31 Continue, the last 2.04 with the body's length
"""
import importlib.machinery
import os
import socket
import sys
import time

# The encoder and decoder are coap-raw.py's: one writer and one reader of CoAP datagrams for every
# raw peer. decode() gives (version, type, code, mid, token, options, payload), or None.
_raw = importlib.machinery.SourceFileLoader(
    "coap_raw", os.path.join(os.path.dirname(os.path.abspath(__file__)), "coap-raw.py")).load_module()
encode, uint, decode = _raw.encode, _raw.uint, _raw.parse

CON, NON, ACK, RST = 0, 1, 2, 3
TYPES = ["CON", "NON", "ACK", "RST"]
OPT_ETAG, OPT_URI_PATH, OPT_CF, OPT_BLOCK2, OPT_BLOCK1, OPT_SIZE1, OPT_ECHO = 4, 11, 12, 23, 27, 60, 252
CONTENT = 0x45


def describe(data):
    msg = decode(data)
    if msg is None:
        return f"malformed len={len(data)} hex={data.hex()}"
    version, mtype, code, mid, token, options, payload = msg
    opts = ",".join(f"{n}:{v.hex()}" for n, v in options)
    return (f"{TYPES[mtype]} {code >> 5}.{code & 31:02d} mid={mid} tok={token.hex()} "
            f"len={len(data)} opts={opts} payload={payload.hex()}")


class Server:
    def __init__(self, record):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.record = open(record, "a", buffering=1)
        self.mid = int.from_bytes(os.urandom(2), "big")
        self.seen = set()  # (peer, mid) of drop-first requests already dropped once
        self.etag = 0

    def next_mid(self):
        self.mid = (self.mid + 1) & 0xFFFF
        return self.mid

    def send(self, data, peer):
        self.record.write(f"sent {time.monotonic() * 1000:.1f} {data.hex()}\n")
        self.sock.sendto(data, peer)

    def serve(self):
        print(f"ready {self.sock.getsockname()[1]}", flush=True)
        while True:
            data, peer = self.sock.recvfrom(65536)
            self.record.write(f"recv {time.monotonic() * 1000:.1f} {data.hex()}\n")
            msg = decode(data)
            if msg is None or msg[0] != 1 or msg[1] not in (CON, NON) or not 1 <= msg[2] < 32:
                continue
            _, mtype, code, mid, token, options, payload = msg
            path = [v.decode("utf-8", "replace") for n, v in options if n == OPT_URI_PATH]
            handler = SCENARIOS.get(path[0] if path else "", Server.not_found)
            handler(self, Request(self, peer, mtype, mid, token, options, payload, path[1:]))

    # ---- scenarios: each answers one request ------------------------------------------------
    def not_found(self, req):
        req.answer(0x84, payload=b"no such scenario")

    def ok(self, req):
        req.answer(CONTENT, [(OPT_CF, b"")], b"ok")

    def code(self, req):
        c, dd = req.args[0].split(".")
        empty = len(req.args) > 1 and req.args[1] == "empty"
        req.answer(int(c) << 5 | int(dd), payload=b"" if empty else f"code {req.args[0]}".encode())

    def rawcode(self, req):
        req.answer(int(req.args[0], 16), payload=b"raw code")

    def opt(self, req):
        pairs = zip(req.args[0::2], req.args[1::2])
        extra = [(int(n), b"" if v == "-" else bytes.fromhex(v)) for n, v in pairs]
        req.answer(CONTENT, [(OPT_CF, b"")] + extra, b"ok")

    def separate(self, req):
        req.empty_ack()
        self.send(encode(CON, CONTENT, self.next_mid(), req.token, [(OPT_CF, b"")], b"separate"),
                  req.peer)

    def separate_dup(self, req):
        req.empty_ack()
        con = encode(CON, CONTENT, self.next_mid(), req.token, [(OPT_CF, b"")], b"separate")
        self.send(con, req.peer)
        time.sleep(0.2)
        self.send(con, req.peer)

    def separate_non(self, req):
        req.empty_ack()
        self.send(encode(NON, CONTENT, self.next_mid(), req.token, [(OPT_CF, b"")],
                         b"separate non"), req.peer)

    def rst(self, req):
        self.send(encode(RST, 0, req.mid, b""), req.peer)

    def wrong_mid(self, req):
        self.send(encode(ACK, CONTENT, (req.mid + 1) & 0xFFFF, req.token, [(OPT_CF, b"")], b"wrong"),
                  req.peer)
        req.answer(CONTENT, [(OPT_CF, b"")], b"right")

    def version2(self, req):
        self.send(encode(ACK, CONTENT, req.mid, req.token, [(OPT_CF, b"")], b"wrong", version=2),
                  req.peer)
        req.answer(CONTENT, [(OPT_CF, b"")], b"right")

    def stray(self, req):
        req.answer(CONTENT, [(OPT_CF, b"")], b"ok")
        stray_token = bytes(b ^ 0xFF for b in req.token) or b"\x01"
        self.send(encode(CON, CONTENT, self.next_mid(), stray_token, [(OPT_CF, b"")], b"stray"),
                  req.peer)

    def drop_first(self, req):
        if (req.peer, req.mid) not in self.seen:
            self.seen.add((req.peer, req.mid))
            return
        req.answer(CONTENT, [(OPT_CF, b"")], b"second")

    def block2(self, req):
        n, szx, mode = int(req.args[0]), int(req.args[1]), req.args[2]
        body = bytes(i % 251 for i in range(n))
        asked = next((int.from_bytes(v, "big") for k, v in req.options if k == OPT_BLOCK2), 0)
        num, size = asked >> 4, 16 << szx
        more = mode == "endless" or (num + 1) * size < n
        chunk = body[num * size:(num + 1) * size] if mode != "endless" else bytes(size)
        if mode == "etag":
            self.etag += 1
        options = [(OPT_CF, bytes([42])), (OPT_ETAG, uint(self.etag) or b"\x00"),
                   (OPT_BLOCK2, uint(num << 4 | more << 3 | szx) or b"")]
        if mode == "separate" and num == 0:
            req.empty_ack()
            self.send(encode(CON, CONTENT, self.next_mid(), req.token, options, chunk), req.peer)
            return
        req.answer(CONTENT, options, chunk)

    def echo(self, req):
        value = b"\x5e\xc0\x11\xe0"
        if any(k == OPT_ECHO and v == value for k, v in req.options):
            req.answer(CONTENT, [(OPT_CF, b"")], b"fresh")
        else:
            req.answer(0x81, [(OPT_ECHO, value)])

    def upload(self, req):
        block1 = next((int.from_bytes(v, "big") for k, v in req.options if k == OPT_BLOCK1), None)
        if block1 is None:
            req.answer(0x44, payload=b"whole")
        elif block1 & 8:
            if req.args:
                block1 = block1 & ~7 | int(req.args[0])
            req.answer(0x5F, [(OPT_BLOCK1, uint(block1))])
        else:
            req.answer(0x44, [(OPT_BLOCK1, uint(block1) or b"")], b"got")

    def too_large(self, req):
        szx = int(req.args[0])
        block1 = next((int.from_bytes(v, "big") for k, v in req.options if k == OPT_BLOCK1), None)
        if block1 is None:
            req.answer(0x8D, [(OPT_BLOCK1, uint(szx)), (OPT_SIZE1, b"\x01")], b"too large")
        elif block1 & 8:
            req.answer(0x5F, [(OPT_BLOCK1, uint(block1))])  # 2.31 Continue
        else:
            req.answer(0x44, [(OPT_BLOCK1, uint(block1) or b"")], b"got it")


class Request:
    def __init__(self, server, peer, mtype, mid, token, options, payload, args):
        self.server, self.peer, self.mtype, self.mid = server, peer, mtype, mid
        self.token, self.options, self.payload, self.args = token, options, payload, args

    def answer(self, code, options=(), payload=b""):
        """Piggybacked on the ACK of a CON; a NON of its own to a NON (RFC 7252 s5.2.3)."""
        if self.mtype == CON:
            data = encode(ACK, code, self.mid, self.token, options, payload)
        else:
            data = encode(NON, code, self.server.next_mid(), self.token, options, payload)
        self.server.send(data, self.peer)

    def empty_ack(self):
        self.server.send(encode(ACK, 0, self.mid, b""), self.peer)


SCENARIOS = {
    "ok": Server.ok, "code": Server.code, "rawcode": Server.rawcode, "opt": Server.opt,
    "separate": Server.separate, "separate-dup": Server.separate_dup,
    "separate-non": Server.separate_non, "rst": Server.rst, "wrong-mid": Server.wrong_mid,
    "version2": Server.version2, "stray": Server.stray, "drop-first": Server.drop_first, "block2": Server.block2,
    "echo": Server.echo, "too-large": Server.too_large, "upload": Server.upload,
}


def main(argv):
    if len(argv) == 3 and argv[1] == "show":
        with open(argv[2]) as f:
            for line in f:
                direction, ms, hexdata = line.split()
                print(direction, ms, describe(bytes.fromhex(hexdata)))
        return 0
    if len(argv) != 2:
        sys.exit(__doc__)
    Server(argv[1]).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
