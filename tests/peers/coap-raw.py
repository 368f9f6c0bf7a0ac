#!/usr/bin/python3
"""A raw-wire CoAP client for hcproxy's tests: it builds every datagram itself (RFC 7252 s3), so a
test controls exactly what reaches hcproxy's CoAP listener, and sees exactly what comes back,
without libcoap (hcproxy's own library) deciding either.

Usage: coap-raw.py COMMAND HOST PORT ...

  upload HOST PORT METHOD URI NBYTES [--size1] [--szx N] [--token HEX] [--repeat K]
        A Block1 upload (RFC 7959 s2.5) of NBYTES bytes (i % 251) to Proxy-Uri URI, one block a
        confirmable request, each sent when the one before was answered. Size1 (s4) only with
        --size1. Prints "block N -> CODE" for each answer and, at the end, "final CODE PAYLOAD".
        With --repeat, K such uploads one after the other from the same socket.
  uploads HOST PORT METHOD URI NBYTES COUNT [--size1] [--szx N]
        COUNT Block1 uploads of NBYTES bytes each from one socket, each with its own token and
        its own body (upload i's bytes are (i + j) % 251), their blocks interleaved: block N of
        every upload goes before block N+1 of any. Against http-origin.py's /sha256, which
        answers the SHA-256 of the body it got, prints "upload I ok" when that is the hash of
        upload I's whole body, else "upload I wrong CODE PAYLOAD"; then "uploads OK/COUNT".
  get HOST PORT URI [--szx N]
        A GET with Proxy-Uri URI whose answer is fetched block by block (RFC 7959 s2.4), with
        Block2 of size 16 << N from the first request on when --szx is given (early
        negotiation); later blocks are of the size the server's answers chose. Prints
        "block N -> CODE SIZE" for each answer, then "got CODE LENGTH SHA256"
        of the whole body.
  request HOST PORT METHOD URI [PAYLOAD]
        One confirmable request with Proxy-Uri URI; prints "final CODE PAYLOAD".
  send HOST PORT SPEC... [--gap S] [--wait S] [--stop N] [--no-ack] [--sizes] [--echo] [--from A]
        Sends each SPEC, a datagram described field by field, from one socket, --gap seconds
        apart (0), and prints every datagram that comes back, one a line, as
        "TYPE C.DD mid=N tok=HEX opts=NUMBER:HEX,... payload=TEXT" (or "malformed HEX"), until
        --stop N responses (datagrams with a response code, or Resets) have come, then 0.3 s
        more, or --wait seconds (5) after the last send. A CON that comes back is acknowledged
        unless --no-ack. With --sizes, a line "sent N" gives the bytes of each datagram sent, and
        every line of one received ends in " len=N", its bytes. With --echo, a 4.01 carrying an Echo
        option (RFC 9175 s2.4) gets the last request sent again, once, with that Echo option
        added and the next Message ID. With --from, the socket is bound to address A (a
        loopback address of its own is a client hcproxy has never seen). SPEC fields, separated by spaces: the type (CON, NON, ACK, RST), the
        code (GET ... IPATCH, C.DD, or 0xHH), then any of mid=N tok=HEX oN=TEXT xN=HEX uN=INT
        (option N as text, hex or uint; repeat for repeated options) p=TEXT (payload) ver=V
        tkl=N (header fields as given, whatever the rest says), or raw=HEX alone.

Answers are awaited up to 10 s each. A separate response (an empty ACK, then a CON) is
acknowledged as RFC 7252 s5.2.2 asks. Only the standard library is used.
"""
import os
import select
import socket
import sys
import time

CON, NON, ACK, RST = 0, 1, 2, 3
METHODS = {"GET": 1, "POST": 2, "PUT": 3, "DELETE": 4, "FETCH": 5, "PATCH": 6, "IPATCH": 7}
OPT_PROXY_URI, OPT_BLOCK1, OPT_BLOCK2, OPT_SIZE1 = 35, 27, 23, 60


def uint(value):
    """The shortest big-endian form of |value| (RFC 7252 s3.2 uint)."""
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def ext(n):
    """An option delta or length nibble and its extended bytes (RFC 7252 s3.1)."""
    if n < 13:
        return n, b""
    if n < 269:
        return 13, bytes([n - 13])
    return 14, (n - 269).to_bytes(2, "big")


def encode(mtype, code, mid, token, options=(), payload=b"", version=1):
    out = bytearray([version << 6 | mtype << 4 | len(token), code]) + mid.to_bytes(2, "big") + token
    last = 0
    for number, value in sorted(options, key=lambda o: o[0]):
        d, dx = ext(number - last)
        n, nx = ext(len(value))
        out += bytes([d << 4 | n]) + dx + nx + value
        last = number
    if payload:
        out += b"\xff" + payload
    return bytes(out)


def parse(data):
    """(version, type, code, mid, token, [(number, value)], payload) of a datagram, or None if it
    is malformed (RFC 7252 s3, s3.1): the one decoder of every raw peer."""
    try:
        tkl = data[0] & 0x0F
        if len(data) < 4 + tkl or tkl > 8:
            return None
        i, number, options = 4 + tkl, 0, []
        while i < len(data) and data[i] != 0xFF:
            d, n = data[i] >> 4, data[i] & 0x0F
            i += 1
            vals = []
            for v in (d, n):
                if v == 13:
                    v, i = data[i] + 13, i + 1
                elif v == 14:
                    v, i = int.from_bytes(data[i:i + 2], "big") + 269, i + 2
                elif v == 15:
                    return None
                vals.append(v)
            number += vals[0]
            if i + vals[1] > len(data):
                return None
            options.append((number, data[i:i + vals[1]]))
            i += vals[1]
        if i < len(data) and i + 1 == len(data):
            return None  # a payload marker with no payload (s3)
        payload = data[i + 1:] if i < len(data) else b""
        return (data[0] >> 6, data[0] >> 4 & 3, data[1], int.from_bytes(data[2:4], "big"),
                data[4:4 + tkl], options, payload)
    except IndexError:
        return None


def decode(data):
    """(type, code, mid, token, [(number, value)], payload) of a well-formed datagram; ValueError
    if it is malformed."""
    msg = parse(data)
    if msg is None:
        raise ValueError(f"malformed datagram {data.hex()}")
    return msg[1:]


def code_text(code):
    return f"{code >> 5}.{code & 0x1F:02d}"


class Client:
    def __init__(self, host, port, source=None):
        self.peer = (host, int(port))
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                                  socket.SOCK_DGRAM)
        if source is not None:  # an address of its own: a peer hcproxy has never seen
            self.sock.bind((source, 0))
        self.mid = int.from_bytes(os.urandom(2), "big")

    def next_mid(self):
        self.mid = (self.mid + 1) & 0xFFFF
        return self.mid

    def receive(self, deadline):
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                return None
            data, _ = self.sock.recvfrom(65536)
            if len(data) >= 4 and data[0] >> 6 == 1:
                return decode(data)

    def exchange(self, code, token, options, payload=b""):
        """Sends one CON and returns the response (code, options, payload), or None."""
        mid = self.next_mid()
        self.sock.sendto(encode(CON, code, mid, token, options, payload), self.peer)
        deadline = time.monotonic() + 10
        while True:
            msg = self.receive(deadline)
            if msg is None:
                return None
            mtype, rcode, rmid, rtoken, ropts, rpayload = msg
            if mtype == RST and rmid == mid:
                return ("RST", [], b"")
            if mtype == ACK and rmid == mid and rcode == 0:
                continue  # a separate response follows
            if rtoken != token or rcode == 0:
                continue
            if mtype == CON:
                self.sock.sendto(encode(ACK, 0, rmid, b"", []), self.peer)
            return (code_text(rcode), ropts, rpayload)


def option(options, number):
    return next((v for n, v in options if n == number), None)


def send_block(client, method, uri, body, num, token, size1=False, szx=6):
    """Block |num| of |body|; the answer (code, options, payload) or None."""
    size = 16 << szx
    chunk = body[num * size:(num + 1) * size]
    more = (num + 1) * size < len(body)
    opts = [(OPT_PROXY_URI, uri.encode()), (OPT_BLOCK1, uint(num << 4 | more << 3 | szx))]
    if size1 and num == 0:
        opts.append((OPT_SIZE1, uint(len(body))))
    return client.exchange(METHODS[method], token, opts, chunk)


def upload(client, method, uri, nbytes, size1=False, szx=6, token=None):
    body = bytes(i % 251 for i in range(nbytes))
    size = 16 << szx
    token = token or os.urandom(8)
    num, answer = 0, None
    while True:
        more = (num + 1) * size < len(body)
        answer = send_block(client, method, uri, body, num, token, size1, szx)
        if answer is None:
            print(f"block {num} -> timeout")
            return 1
        print(f"block {num} -> {answer[0]}")
        if not more or answer[0] != "2.31":
            break
        num += 1
    print(f"final {answer[0]} {answer[2].decode('utf-8', 'replace')}")
    return 0


def uploads(client, method, uri, nbytes, count, size1=False, szx=6):
    import hashlib
    bodies = [bytes((i + j) % 251 for j in range(nbytes)) for i in range(count)]
    tokens = [os.urandom(8) for _ in range(count)]
    nblocks = max(1, -(-nbytes // (16 << szx)))
    answers = [None] * count
    for num in range(nblocks):
        for i in range(count):
            if num == 0 or (answers[i] and answers[i][0] == "2.31"):
                answers[i] = send_block(client, method, uri, bodies[i], num, tokens[i], size1, szx)
    good = 0
    for i, answer in enumerate(answers):
        want = hashlib.sha256(bodies[i]).hexdigest()
        if answer and answer[0] == "2.04" and answer[2].decode() == want:
            good += 1
            print(f"upload {i} ok")
        else:
            print(f"upload {i} wrong {answer and answer[0]} {answer and answer[2][:80]}")
    print(f"uploads {good}/{count}")
    return 0 if good == count else 1


def get(client, uri, szx=None):
    import hashlib
    body, num = b"", 0
    while True:
        opts = [(OPT_PROXY_URI, uri.encode())]
        if szx is not None or num > 0:  # later blocks: of the size the server chose (s2.4)
            opts.append((OPT_BLOCK2, uint(num << 4 | (6 if szx is None else szx))))
        answer = client.exchange(METHODS["GET"], os.urandom(8), opts)
        if answer is None:
            print(f"block {num} -> timeout")
            return 1
        code, ropts, payload = answer
        block2 = option(ropts, OPT_BLOCK2)
        print(f"block {num} -> {code} {16 << (block2[-1] & 7) if block2 else '-'}")
        body += payload
        if not block2 or not int.from_bytes(block2, "big") & 8:
            break
        num, szx = (int.from_bytes(block2, "big") >> 4) + 1, block2[-1] & 7
    print(f"got {code} {len(body)} {hashlib.sha256(body).hexdigest()}")
    return 0


def request(client, method, uri, payload=b""):
    answer = client.exchange(METHODS[method], os.urandom(8), [(OPT_PROXY_URI, uri.encode())],
                             payload)
    if answer is None:
        print("final timeout")
        return 1
    print(f"final {answer[0]} {answer[2].decode('utf-8', 'replace')}")
    return 0


def parse_spec(spec):
    """The datagram a SPEC describes (see the module comment)."""
    fields = spec.split(" ")
    if fields[0].startswith("raw="):
        return bytes.fromhex(fields[0][4:])
    mtype = ["CON", "NON", "ACK", "RST"].index(fields[0])
    name = fields[1]
    if name in METHODS:
        code = METHODS[name]
    elif name.startswith("0x"):
        code = int(name, 16)
    else:
        c, dd = name.split(".")
        code = int(c) << 5 | int(dd)
    mid, token, options, payload, ver, tkl = None, b"", [], b"", 1, None
    for field in fields[2:]:
        key, value = field.split("=", 1)
        if key == "mid":
            mid = int(value)
        elif key == "tok":
            token = bytes.fromhex(value)
        elif key == "p":
            payload = value.encode()
        elif key == "ver":
            ver = int(value)
        elif key == "tkl":
            tkl = int(value)
        elif key[0] in "oxu":
            raw = {"o": lambda v: v.encode(), "x": bytes.fromhex, "u": lambda v: uint(int(v))}
            options.append((int(key[1:]), raw[key[0]](value)))
    if mid is None:
        mid = int.from_bytes(os.urandom(2), "big")
    data = bytearray(encode(mtype, code, mid, token, options, payload))
    data[0] = (ver & 3) << 6 | (data[0] & 0x30) | (len(token) if tkl is None else tkl)
    return bytes(data)


def describe(data):
    try:
        if len(data) < 4 or data[0] >> 6 != 1 or data[0] & 0x0F > 8:
            raise ValueError
        mtype, code, mid, token, options, payload = decode(data)
    except (IndexError, ValueError):
        return f"malformed {data.hex()}"
    opts = ",".join(f"{n}:{v.hex()}" for n, v in options)
    text = payload.decode("utf-8", "replace").replace("\n", " ")
    return (f"{['CON', 'NON', 'ACK', 'RST'][mtype]} {code_text(code)} mid={mid} "
            f"tok={token.hex()} opts={opts} payload={text}")


OPT_ECHO = 252


def with_echo(request, echo):
    """|request| (a datagram) again with option Echo = |echo| and the next Message ID."""
    mtype, code, mid, token, options, payload = decode(request)
    return encode(mtype, code, (mid + 1) & 0xFFFF, token, options + [(OPT_ECHO, echo)], payload)


def send(client, specs, gap=0.0, wait=5.0, stop=None, ack=True, sizes=False, echo=False):
    """Sends the datagrams SPECS describe; prints what comes back (see the module comment)."""
    for i, spec in enumerate(specs):
        if i and gap:
            time.sleep(gap)
        sent = parse_spec(spec)
        client.sock.sendto(sent, client.peer)
        if sizes:
            print(f"sent {len(sent)}", flush=True)
    deadline, responses = time.monotonic() + wait, 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([client.sock], [], [], left)[0]:
            return 0
        data, _ = client.sock.recvfrom(65536)
        print(describe(data) + (f" len={len(data)}" if sizes else ""), flush=True)
        if len(data) >= 4 and data[0] >> 6 == 1:
            mtype, code = data[0] >> 4 & 3, data[1]
            if ack and mtype == CON:
                client.sock.sendto(encode(ACK, 0, int.from_bytes(data[2:4], "big"), b"", []),
                                   client.peer)
            if echo and code == 0x81 and option(decode(data)[4], OPT_ECHO) is not None:
                client.sock.sendto(with_echo(sent, option(decode(data)[4], OPT_ECHO)), client.peer)
                echo = False
                continue
            if code >= 0x40 or mtype == RST:
                responses += 1
                if stop is not None and responses >= stop:
                    deadline = min(deadline, time.monotonic() + 0.3)


def main(argv):
    if len(argv) >= 5 and argv[1] == "get":
        rest = argv[5:]
        szx = int(rest[rest.index("--szx") + 1]) if "--szx" in rest else None
        return get(Client(argv[2], argv[3]), argv[4], szx)
    if len(argv) >= 5 and argv[1] == "send":
        flags = {"--gap": 0.0, "--wait": 5.0, "--stop": None}
        specs, rest, ack, sizes, echo, source = [], argv[4:], True, False, False, None
        while rest:
            if rest[0] in flags:
                flags[rest[0]], rest = float(rest[1]), rest[2:]
            elif rest[0] == "--from":
                source, rest = rest[1], rest[2:]
            elif rest[0] == "--no-ack":
                ack, rest = False, rest[1:]
            elif rest[0] == "--sizes":
                sizes, rest = True, rest[1:]
            elif rest[0] == "--echo":
                echo, rest = True, rest[1:]
            else:
                specs, rest = specs + [rest[0]], rest[1:]
        return send(Client(argv[2], argv[3], source), specs, flags["--gap"], flags["--wait"],
                    flags["--stop"], ack, sizes, echo)
    if len(argv) < 6:
        sys.exit(__doc__)
    command, host, port, method, uri = argv[1:6]
    client = Client(host, port)
    if command == "upload":
        rest = argv[7:]
        szx = int(rest[rest.index("--szx") + 1]) if "--szx" in rest else 6
        token = bytes.fromhex(rest[rest.index("--token") + 1]) if "--token" in rest else None
        times = int(rest[rest.index("--repeat") + 1]) if "--repeat" in rest else 1
        status = 0
        for _ in range(times):
            status |= upload(client, method, uri, int(argv[6]), "--size1" in rest, szx, token)
        return status
    if command == "uploads":
        rest = argv[8:]
        szx = int(rest[rest.index("--szx") + 1]) if "--szx" in rest else 6
        return uploads(client, method, uri, int(argv[6]), int(argv[7]), "--size1" in rest, szx)
    if command == "request":
        return request(client, method, uri, argv[6].encode() if len(argv) > 6 else b"")
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
