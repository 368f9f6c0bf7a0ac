#!/usr/bin/python3
"""A raw-wire CoAP server for hcproxy's conformance tests (tests/conformance/): it records every
datagram hcproxy sends it and answers with exactly the datagrams a scenario scripts, so a test sees
what hcproxy put on the wire and how it takes answers that libcoap's own servers would never give.

Usage: coap-wire-server.py RECORD
       coap-wire-server.py show RECORD
       coap-wire-server.py ctl PORT COMMAND... (see "Observation" below)
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
  obs/NAME               an observable resource (RFC 7641), named NAME (the rest of the path); its
                         state (below) is set by the control channel, before or after it is
                         observed. A GET or FETCH with Observe 0 registers (s3.1; the same
                         peer and token again re-registers, s3.3.1; a Block2 other than block 0
                         is 4.00, s2.6 of RFC 7959) and is answered with the current
                         representation and its Observe value; Observe 1 deregisters (s3.6) and
                         gets the representation without Observe, as does a request without
                         Observe. A request with Block2 gets that block of a big representation
                         (below), without Observe.

Observation, driven from the test: the server also listens on a TCP port of 127.0.0.1 (printed
"control PORT", before "ready") for command lines, each answered with one line, "ok ..." or
"error WHY", after everything the command sends has been sent (so a test that has its answer
knows the datagrams are out). `coap-wire-server.py ctl PORT COMMAND...` sends one and prints the
answer (exit status 0 for "ok"). RES is the NAME of obs/NAME; KEY=VALUE settings are
  obs=N        the Observe value (24 bits: RFC 7641 s4.4; a notification with no obs= takes the
               last one plus 1, modulo 2^24)
  p=TEXT       the payload (percent-decoded: %20 is a space)
  code=C.DD    the response code (2.05)
  cf=N|-       Content-Format (0, text/plain; - for none)
  maxage=S|-   Max-Age (none: 60 s, RFC 7252 s5.10.5)
  etag=HEX|-   ETag (none)
  observable=yes|no   no: a registration is answered without Observe and not recorded as an
               observer (a resource that is not observable, RFC 7641 s3.1 / s4.1)
  silent=yes|no       yes: requests for RES are recorded and never answered (a server that went
               away: no more notifications, no answer to a re-registration)
  type=CON|NON the type of notifications (CON)
Settings stay until set again, whichever command set them.
Commands:
  set RES KEY=VALUE...        the resource's state, for registrations to come
  notify RES [KEY=VALUE...]   sets them, then sends every observer of RES a notification of
                              the new state; answers "ok MID,MID..." (one per observer)
  notify-big RES N [szx=S] [KEY=VALUE...]
                              the same with a representation of N bytes of text (byte I a
                              newline when I % 65 is 64, else 'a' + I % 26) of which the
                              notification carries
                              Block2 block 0 (size 16 << S, 2 by default) with M=1 and an ETag
                              (RFC 7959 s2.6); GETs with Block2 get the other blocks, same ETag;
                              a later notify without N makes the representation small again
  end RES CODE [KEY=VALUE...] every observer gets a final response CODE without Observe (with
                              one if obs= is given), CON unless type=NON; the observers are gone
  repeat RES                  the last notification sent again, byte for byte (a duplicate:
                              the same Message ID, RFC 7252 s4.5)
  max-age RES S               set RES maxage=S
  observers RES               "ok COUNT TOKEN,TOKEN..." (hex) of the current observers
  forget RES                  the observers are dropped silently (their notifications stop)
For every step of an observation, RECORD also gets a line "note MS WHAT RES tok=HEX mid=N" (the
Message ID of the request, or of the notification), WHAT one of: register, reregister,
deregister, unobservable (Observe 0 answered without Observe), get (no Observe), block (a Block2
request; the line ends in " num=N"), ignored (silent=yes), notify, end, ack and reset (an ACK or
RST whose Message ID is a notification's: the observer is gone after a reset, RFC 7641 s3.6).
`show` prints note lines as they are.
"""
import importlib.machinery
import os
import select
import socket
import sys
import time
import urllib.parse

# The encoder and decoder are coap-raw.py's: one writer and one reader of CoAP datagrams for every
# raw peer. decode() gives (version, type, code, mid, token, options, payload), or None.
_raw = importlib.machinery.SourceFileLoader(
    "coap_raw", os.path.join(os.path.dirname(os.path.abspath(__file__)), "coap-raw.py")).load_module()
encode, uint, decode = _raw.encode, _raw.uint, _raw.parse

CON, NON, ACK, RST = 0, 1, 2, 3
TYPES = ["CON", "NON", "ACK", "RST"]
OPT_ETAG, OPT_URI_PATH, OPT_CF, OPT_BLOCK2, OPT_BLOCK1, OPT_SIZE1, OPT_ECHO = 4, 11, 12, 23, 27, 60, 252
OPT_OBSERVE, OPT_MAX_AGE = 6, 14
CONTENT = 0x45
GET, FETCH = 1, 5


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
        self.control = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.control.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.control.bind(("127.0.0.1", 0))
        self.control.listen(8)
        self.clients = {}  # control connections: socket -> bytes received, not yet a line
        self.resources = {}  # obs/NAME: NAME -> Resource
        self.notified = {}  # Message ID of a notification sent -> (Resource, peer, token)

    def next_mid(self):
        self.mid = (self.mid + 1) & 0xFFFF
        return self.mid

    def send(self, data, peer):
        self.record.write(f"sent {time.monotonic() * 1000:.1f} {data.hex()}\n")
        self.sock.sendto(data, peer)

    def note(self, what, res, token, extra=""):
        self.record.write(f"note {time.monotonic() * 1000:.1f} {what} {res.name} "
                          f"tok={token.hex()}{extra}\n")

    def serve(self):
        print(f"control {self.control.getsockname()[1]}", flush=True)
        print(f"ready {self.sock.getsockname()[1]}", flush=True)
        while True:
            readable = select.select([self.sock, self.control] + list(self.clients), [], [])[0]
            for sock in readable:
                if sock is self.sock:
                    self.datagram(*self.sock.recvfrom(65536))
                elif sock is self.control:
                    self.clients[self.control.accept()[0]] = b""
                else:
                    self.control_input(sock)

    def datagram(self, data, peer):
        self.record.write(f"recv {time.monotonic() * 1000:.1f} {data.hex()}\n")
        msg = decode(data)
        if msg is not None and msg[0] == 1 and msg[1] in (ACK, RST):
            self.answered_notification(msg[1], msg[3], peer)
        if msg is None or msg[0] != 1 or msg[1] not in (CON, NON) or not 1 <= msg[2] < 32:
            return
        _, mtype, code, mid, token, options, payload = msg
        path = [v.decode("utf-8", "replace") for n, v in options if n == OPT_URI_PATH]
        handler = SCENARIOS.get(path[0] if path else "", Server.not_found)
        handler(self, Request(self, peer, mtype, mid, token, options, payload, path[1:], code))

    def answered_notification(self, mtype, mid, peer):
        """An ACK or a Reset of a notification is noted; a Reset ends its observer (RFC 7641 s3.6)."""
        if mid not in self.notified or self.notified[mid][1] != peer:
            return
        res, _, token = self.notified[mid]
        self.note("ack" if mtype == ACK else "reset", res, token, f" mid={mid}")
        if mtype == RST:
            res.observers.pop((peer, token), None)

    # ---- the control channel -------------------------------------------------------------------
    def control_input(self, sock):
        data = sock.recv(4096)
        if not data:
            del self.clients[sock]
            sock.close()
            return
        self.clients[sock] += data
        while b"\n" in self.clients[sock]:
            line, self.clients[sock] = self.clients[sock].split(b"\n", 1)
            try:
                reply = self.command(line.decode().split())
            except (ValueError, IndexError, KeyError) as e:
                reply = f"error {type(e).__name__}: {e}"
            sock.sendall((reply + "\n").encode())

    def command(self, words):
        name, args = words[0], words[1:]
        if name not in COMMANDS:
            return f"error unknown command {name}"
        res = self.resources.setdefault(args[0], Resource(args[0]))
        return COMMANDS[name](self, res, args[1:])

    def cmd_set(self, res, args):
        res.configure(args)
        return "ok"

    def cmd_notify(self, res, args):
        if "obs" not in dict(a.split("=", 1) for a in args):
            res.seq = (res.seq + 1) & 0xFFFFFF
        res.big = None
        res.configure(args)
        return self.notify_all(res, res.notification(with_block=False))

    def cmd_notify_big(self, res, args):
        n, settings = int(args[0]), dict(a.split("=", 1) for a in args[1:])
        res.big = bytes((b"\n"[0] if i % 65 == 64 else 97 + i % 26) for i in range(n))
        res.szx = int(settings.pop("szx", 2))
        res.etag = res.etag or uint(len(res.big)) + b"\xb1"
        if "obs" not in settings:
            res.seq = (res.seq + 1) & 0xFFFFFF
        res.configure(f"{k}={v}" for k, v in settings.items())
        return self.notify_all(res, res.notification(with_block=True))

    def cmd_end(self, res, args):
        code = args[0].split(".")
        settings = dict(a.split("=", 1) for a in args[1:])
        res.configure(f"{k}={v}" for k, v in settings.items() if k != "obs")
        options = res.content_options()
        if "obs" in settings:
            options.append((OPT_OBSERVE, uint(int(settings["obs"]) & 0xFFFFFF)))
        payload = res.payload if "p" in settings else f"end {args[0]}".encode()
        reply = self.notify_all(res, (int(code[0]) << 5 | int(code[1]), options, payload), "end")
        res.observers.clear()
        return reply

    def cmd_repeat(self, res, args):
        for data, peer in res.last:
            self.send(data, peer)
        return f"ok {len(res.last)}"

    def cmd_max_age(self, res, args):
        res.configure([f"maxage={args[0]}"])
        return "ok"

    def cmd_observers(self, res, args):
        return f"ok {len(res.observers)} " + ",".join(t.hex() for _, t in res.observers)

    def cmd_forget(self, res, args):
        res.observers.clear()
        return "ok"

    def notify_all(self, res, message, what="notify"):
        """Sends (code, options, payload) to every observer of |res|, each with its token and a
        Message ID of its own; the datagrams are kept for `repeat`."""
        code, options, payload = message
        res.last, mids = [], []
        for peer, token in list(res.observers):
            mid = self.next_mid()
            data = encode(res.type, code, mid, token, options, payload)
            self.notified[mid] = (res, peer, token)
            self.note(what, res, token, f" mid={mid}")
            self.send(data, peer)
            res.last.append((data, peer))
            mids.append(str(mid))
        return "ok " + ",".join(mids)

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


    def obs(self, req):
        res = self.resources.setdefault("/".join(req.args), Resource("/".join(req.args)))
        if res.silent:
            self.note("ignored", res, req.token, f" mid={req.mid}")
            return
        observe = next((int.from_bytes(v, "big") for k, v in req.options if k == OPT_OBSERVE), None)
        block2 = next((int.from_bytes(v, "big") for k, v in req.options if k == OPT_BLOCK2), None)
        key = (req.peer, req.token)
        if observe == 0 and req.code in (GET, FETCH):
            if block2 is not None and block2 >> 4 != 0:
                req.answer(0x80, payload=b"Observe with a Block2 past block 0")
                return
            if not res.observable or res.code >> 5 != 2:
                self.note("unobservable", res, req.token, f" mid={req.mid}")
                req.answer(*res.notification(with_block=True, observe=False))
                return
            self.note("reregister" if key in res.observers else "register", res, req.token,
                      f" mid={req.mid}")
            res.observers[key] = req.code
            req.answer(*res.notification(with_block=True))
            return
        if observe == 1 and res.observers.pop(key, None) is not None:
            self.note("deregister", res, req.token, f" mid={req.mid}")
        elif block2 is not None:
            self.note("block", res, req.token, f" mid={req.mid} num={block2 >> 4}")
        else:
            self.note("get", res, req.token, f" mid={req.mid}")
        req.answer(*res.notification(with_block=True, observe=False, block2=block2))


class Resource:
    """The state of obs/NAME (see the module comment) and who observes it: (peer, token) -> the
    method (GET or FETCH) of the registration."""

    def __init__(self, name):
        self.name, self.seq, self.payload, self.code = name, 1, None, CONTENT
        self.cf, self.max_age, self.etag, self.type = 0, None, None, CON
        self.observable, self.silent = True, False
        self.big, self.szx = None, 2
        self.observers, self.last = {}, []

    def configure(self, settings):
        for setting in settings:
            key, value = setting.split("=", 1)
            none = value == "-"
            if key == "obs":
                self.seq = int(value) & 0xFFFFFF
            elif key == "p":
                self.payload = urllib.parse.unquote(value).encode()
            elif key == "code":
                c, dd = value.split(".")
                self.code = int(c) << 5 | int(dd)
            elif key == "cf":
                self.cf = None if none else int(value)
            elif key == "maxage":
                self.max_age = None if none else int(value)
            elif key == "etag":
                self.etag = None if none else bytes.fromhex(value)
            elif key in ("observable", "silent"):
                setattr(self, key, value == "yes")
            elif key == "type":
                self.type = TYPES.index(value.upper())
            else:
                raise KeyError(key)

    def content_options(self):
        options = [] if self.cf is None else [(OPT_CF, uint(self.cf))]
        if self.max_age is not None:
            options.append((OPT_MAX_AGE, uint(self.max_age)))
        if self.etag is not None:
            options.append((OPT_ETAG, self.etag))
        return options

    def notification(self, with_block, observe=True, block2=None):
        """(code, options, payload) of the current state: with Observe unless |observe| is
        false; of a big representation, the block |block2| asks for (block 0 by default)."""
        options = self.content_options()
        if observe:
            options.append((OPT_OBSERVE, uint(self.seq)))
        payload = self.payload if self.payload is not None else f"n={self.seq}".encode()
        if self.big is not None and (with_block or block2 is not None):
            # Blocks of the size asked for, or of the server's if that is smaller: block NUM of
            # the asked size then starts at block NUM << (difference) of the smaller (s2.2).
            asked = self.szx if block2 is None else block2 & 7
            szx = min(self.szx, asked)
            num = (0 if block2 is None else block2 >> 4) << (asked - szx)
            size = 16 << szx
            more = (num + 1) * size < len(self.big)
            payload = self.big[num * size:(num + 1) * size]
            options.append((OPT_BLOCK2, uint(num << 4 | more << 3 | szx) or b""))
        return self.code, options, payload


class Request:
    def __init__(self, server, peer, mtype, mid, token, options, payload, args, code=0):
        self.server, self.peer, self.mtype, self.mid = server, peer, mtype, mid
        self.token, self.options, self.payload, self.args = token, options, payload, args
        self.code = code

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
    "echo": Server.echo, "too-large": Server.too_large, "upload": Server.upload, "obs": Server.obs,
}
COMMANDS = {
    "set": Server.cmd_set, "notify": Server.cmd_notify, "notify-big": Server.cmd_notify_big,
    "end": Server.cmd_end, "repeat": Server.cmd_repeat, "max-age": Server.cmd_max_age,
    "observers": Server.cmd_observers, "forget": Server.cmd_forget,
}


def control(port, words):
    """`ctl`: one command line to a running server's control port; prints its answer."""
    with socket.create_connection(("127.0.0.1", int(port)), timeout=10) as sock:
        sock.sendall((" ".join(words) + "\n").encode())
        reply = b""
        while not reply.endswith(b"\n"):
            data = sock.recv(4096)
            if not data:
                break
            reply += data
    print(reply.decode().strip())
    return 0 if reply.startswith(b"ok") else 1


def main(argv):
    if len(argv) == 3 and argv[1] == "show":
        with open(argv[2]) as f:
            for line in f:
                if line.startswith("note "):
                    print(line, end="")
                    continue
                direction, ms, hexdata = line.split()
                print(direction, ms, describe(bytes.fromhex(hexdata)))
        return 0
    if len(argv) >= 4 and argv[1] == "ctl":
        return control(argv[2], argv[3:])
    if len(argv) != 2:
        sys.exit(__doc__)
    Server(argv[1]).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
