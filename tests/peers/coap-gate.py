#!/usr/bin/python3
"""A CoAP server whose acknowledgements the test controls, for NSTART (RFC 7252 s4.7).

Usage: coap-gate.py RECORD_FILE
Binds 127.0.0.1 on a port the kernel picks and prints "ready PORT". Every datagram received is
written to RECORD_FILE, one Python bytes repr per line, so a test can see what was sent (the
Uri-Path and Uri-Query bytes are readable there).

  a CON request whose path is /hold   no ACK: the request stays outstanding, holding NSTART,
                                      until the datagram "release" arrives; then an empty ACK
                                      (the answer itself never comes)
  any other CON request               a piggybacked 2.05 "gate"
"""
import socket
import sys

CON, ACK = 0, 2


def parse(datagram):
    """(type, message id, token) of a CoAP message, or None."""
    if len(datagram) < 4 or datagram[0] >> 6 != 1:
        return None
    tkl = datagram[0] & 0x0F
    return (datagram[0] >> 4) & 0x03, datagram[2:4], datagram[4 : 4 + tkl]


def main():
    record = open(sys.argv[1], "w", buffering=1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    print("ready", sock.getsockname()[1], flush=True)
    held = []  # (address, message id) of /hold requests not yet acknowledged
    while True:
        datagram, peer = sock.recvfrom(65536)
        if datagram == b"release":
            for address, mid in held:
                sock.sendto(bytes([0x40 | ACK << 4, 0]) + mid, address)
            held.clear()
            continue
        record.write(repr(datagram) + "\n")
        message = parse(datagram)
        if message is None or message[0] != CON:
            continue
        _, mid, token = message
        if b"hold" in datagram[4 + len(token) :]:  # in the options: Uri-Path "hold"
            if (peer, mid) not in held:  # a retransmission is held once
                held.append((peer, mid))
            continue
        sock.sendto(bytes([0x40 | ACK << 4 | len(token), 0x45]) + mid + token + b"\xffgate", peer)


if __name__ == "__main__":
    main()
