#!/usr/bin/env python3
"""Moves a known byte stream over TCP and prints its length and SHA-256, so a test can
check that what left one host is exactly what reached the other.

  tcp_transfer.py serve PORT            accept one connection, read to EOF, print "LEN SHA256"
  tcp_transfer.py send HOST PORT BYTES  send BYTES pseudo-random bytes (fixed seed), print "LEN SHA256"
"""
import hashlib
import random
import socket
import sys


def serve(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", port))
        s.listen(1)
        s.settimeout(60)
        conn, _ = s.accept()
        conn.settimeout(60)
        digest, total = hashlib.sha256(), 0
        with conn:
            while chunk := conn.recv(1 << 16):
                digest.update(chunk)
                total += len(chunk)
    print(total, digest.hexdigest(), flush=True)


def send(host: str, port: int, count: int) -> None:
    rng = random.Random(20261126)
    digest, sent = hashlib.sha256(), 0
    with socket.create_connection((host, port), timeout=60) as s:
        while sent < count:
            chunk = rng.randbytes(min(1 << 16, count - sent))
            s.sendall(chunk)
            digest.update(chunk)
            sent += len(chunk)
        s.shutdown(socket.SHUT_WR)
        s.recv(1)  # wait for the server to close: everything was read
    print(sent, digest.hexdigest(), flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "serve":
        serve(int(sys.argv[2]))
    elif len(sys.argv) == 5 and sys.argv[1] == "send":
        send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit(__doc__)
