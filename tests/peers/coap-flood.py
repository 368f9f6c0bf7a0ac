#!/usr/bin/python3
"""Sends N confirmable GETs with Proxy-Uri URI at once from one source address, each with its own
token and Message ID, and reports how each was answered within a bounded wait: for hcproxy's
tests of coap.max_inflight and coap.max_inflight_per_client.

Usage: coap-flood.py SOURCE_ADDRESS HOST PORT URI N WAIT_SECONDS
A request counts as "accepted" when its only answer so far is an empty ACK (the separate answer
is still to come), or as the code of its response (piggybacked or separate, e.g. "5.03",
"2.05"). Prints one line, "accepted=A 5.03=B 2.05=C ..." (codes in order), and the seconds the
first non-empty answer took. Uses tests/peers/coap-raw.py's encoder; standard library only.
"""
import importlib.machinery
import os
import select
import socket
import sys
import time

raw = importlib.machinery.SourceFileLoader(
    "coap_raw", os.path.join(os.path.dirname(os.path.abspath(__file__)), "coap-raw.py")).load_module()


def main(argv):
    source, host, port, uri, n, wait = argv[1], argv[2], int(argv[3]), argv[4], int(argv[5]), float(argv[6])
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # Room for every answer of a large flood: a full buffer would drop them, and they would
    # count as unanswered (net.core.rmem_max caps it).
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind((source, 0))
    peer = (host, port)
    start = time.monotonic()
    by_token, first_code_at = {}, None
    for i in range(n):
        token = os.urandom(4) + i.to_bytes(4, "big")
        by_token[token] = "unanswered"
        sock.sendto(raw.encode(raw.CON, 1, (0x1000 + i) & 0xFFFF, token,
                               [(raw.OPT_PROXY_URI, uri.encode())]), peer)
    mids = {(0x1000 + i) & 0xFFFF: t for i, t in enumerate(by_token)}
    deadline = start + wait
    while time.monotonic() < deadline:
        if not select.select([sock], [], [], deadline - time.monotonic())[0]:
            break
        data, _ = sock.recvfrom(65536)
        mtype, code, mid, token, _, _ = raw.decode(data)
        if mtype == raw.CON:
            sock.sendto(raw.encode(raw.ACK, 0, mid, b"", []), peer)
        if code == 0 and mtype == raw.ACK and mids.get(mid) in by_token:
            if by_token[mids[mid]] == "unanswered":
                by_token[mids[mid]] = "accepted"
        elif token in by_token:
            by_token[token] = raw.code_text(code)
            if first_code_at is None:
                first_code_at = time.monotonic() - start
    counts = {}
    for outcome in by_token.values():
        counts[outcome] = counts.get(outcome, 0) + 1
    print(" ".join(f"{k}={counts[k]}" for k in sorted(counts)),
          f"first={first_code_at:.3f}" if first_code_at is not None else "first=none")


if __name__ == "__main__":
    main(sys.argv)
