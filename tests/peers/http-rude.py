#!/usr/bin/python3
"""HTTP clients that misbehave, for hcproxy's fault tests (tests/integration/faults_clients.sh).

Usage: http-rude.py HOST:PORT MODE COUNT [TARGET [SECONDS]]
Opens COUNT connections to HOST:PORT, all at once, and does MODE on each:

  headers    sends the request line and half a header field, then closes
  body       sends a request announcing 1000 bytes of body, 100 of them, then closes
  waiting    sends a whole GET TARGET, prints "sent", waits for SIGUSR1 (the test sees the
             exchanges in flight first), then closes; hcproxy must cancel each exchange
  reset      as waiting, but closes with a TCP RST (SO_LINGER 0) instead of a FIN
  response   sends GET TARGET with a small receive buffer, reads the first bytes of the answer,
             then resets the connection while hcproxy is still sending
  stall      sends half a request, then nothing: the idle timeout must close it; SECONDS later
             prints "open=N closed=M" (closed: hcproxy closed the connection)
  trickle    sends half a request, then one more header byte a second; SECONDS later prints
             "open=N closed=M"

Prints "done" when every connection has been dealt with. Only the standard library is used.
"""
import select
import signal
import socket
import struct
import sys
import time

HOST, PORT = sys.argv[1].rsplit(":", 1)
MODE, COUNT = sys.argv[2], int(sys.argv[3])
TARGET = sys.argv[4] if len(sys.argv) > 4 else "/healthz"
SECONDS = float(sys.argv[5]) if len(sys.argv) > 5 else 5.0
HEAD = f"GET {TARGET} HTTP/1.1\r\nHost: {HOST}\r\n".encode()


def connect(rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect((HOST, int(PORT)))
    return s


def reset(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def wait_for_usr1():
    got = []
    signal.signal(signal.SIGUSR1, lambda signum, frame: got.append(1))
    print("sent", flush=True)
    while not got:
        signal.pause()


def slow(socks, trickle):
    """Keeps |socks| half-sent for SECONDS; returns how many the server closed."""
    closed = set()
    deadline = time.monotonic() + SECONDS
    next_byte = time.monotonic() + 1
    while time.monotonic() < deadline:
        live = [s for s in socks if s not in closed]
        timeout = max(0.0, min(deadline, next_byte) - time.monotonic())
        readable, _, _ = select.select(live, [], [], timeout) if live else ([], [], [])
        for s in readable:
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:  # EOF or reset: the server gave up on this client
                closed.add(s)
        if trickle and time.monotonic() >= next_byte:
            next_byte += 1
            for s in socks:
                if s not in closed:
                    try:
                        s.send(b"a")
                    except OSError:
                        closed.add(s)
    print(f"open={len(socks) - len(closed)} closed={len(closed)}", flush=True)


def main():
    if MODE == "headers":
        for _ in range(COUNT):
            s = connect()
            s.sendall(HEAD + b"X-Half: ab")
            s.close()
    elif MODE == "body":
        for _ in range(COUNT):
            s = connect()
            s.sendall(f"POST {TARGET} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: text/plain\r\n"
                      "Content-Length: 1000\r\n\r\n".encode() + b"x" * 100)
            s.close()
    elif MODE in ("waiting", "reset"):
        socks = [connect() for _ in range(COUNT)]
        for s in socks:
            s.sendall(HEAD + b"\r\n")
        wait_for_usr1()
        for s in socks:
            reset(s) if MODE == "reset" else s.close()
    elif MODE == "response":
        for _ in range(COUNT):
            s = connect(rcvbuf=4096)
            s.sendall(HEAD + b"\r\n")
            s.recv(1024)  # the status line is in: the answer is being sent
            reset(s)
    elif MODE in ("stall", "trickle"):
        socks = [connect() for _ in range(COUNT)]
        for s in socks:
            s.sendall(HEAD + b"X-Slow: ")
        slow(socks, MODE == "trickle")
    else:
        sys.exit(f"unknown mode {MODE}")
    print("done", flush=True)


if __name__ == "__main__":
    main()
