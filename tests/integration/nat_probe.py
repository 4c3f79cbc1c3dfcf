#!/usr/bin/python3
"""Probes for the NAT integration test: servers that tell a client the address and
port they saw it come from, the clients, many concurrent UDP flows, and a TTL probe
that reads the ICMP time-exceeded it provokes (scapy). Run under /usr/bin/python3.

  nat_probe.py serve-udp PORT [ADDR]          answer every datagram with "ADDR:PORT" of its sender
                                              (bound to ADDR, so that replies leave from it)
  nat_probe.py serve-tcp PORT                 send "ADDR:PORT\\n" of each client, then close
  nat_probe.py ask-udp HOST PORT SPORT        print what the server saw
  nat_probe.py ask-tcp HOST PORT              print what the server saw
  nat_probe.py udp-flows HOST PORT COUNT      COUNT sockets at once; print "REPLIED/COUNT SEEN_ADDRESSES"
  nat_probe.py ttl-probe HOST TTL SPORT       print "from=A type=T code=C quoted_src=S quoted_sport=P"
"""
import select
import socket
import sys
import time


def serve_udp(port, address="0.0.0.0"):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((address, port))
    while True:
        _, (addr, sport) = s.recvfrom(2048)
        s.sendto(f"{addr}:{sport}".encode(), (addr, sport))


def serve_tcp(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(64)
    while True:
        c, (addr, sport) = s.accept()
        c.sendall(f"{addr}:{sport}\n".encode())
        c.close()


def ask_udp(host, port, sport):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", sport))
    s.settimeout(1)
    for _ in range(3):
        s.sendto(b"who am i", (host, port))
        try:
            print(s.recvfrom(2048)[0].decode())
            return 0
        except socket.timeout:
            continue
    print("no answer")
    return 1


def ask_tcp(host, port):
    s = socket.create_connection((host, port), timeout=3)
    data = b""
    while not data.endswith(b"\n"):
        chunk = s.recv(256)
        if not chunk:
            break
        data += chunk
    print(data.decode().strip())
    return 0


def udp_flows(host, port, count):
    socks = []
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", 0))
        s.setblocking(False)
        socks.append(s)
    answers = {}
    for attempt in range(3):  # datagrams may be lost while ARP resolves: ask again
        for s in socks:
            if s not in answers:
                s.sendto(b"who am i", (host, port))
        deadline = time.time() + 2
        while len(answers) < count and time.time() < deadline:
            ready, _, _ = select.select([s for s in socks if s not in answers], [], [], 0.2)
            for s in ready:
                answers[s] = s.recv(2048).decode()
        if len(answers) == count:
            break
    seen = sorted({a.split(":")[0] for a in answers.values()})
    ports = {a for a in answers.values()}
    print(f"{len(answers)}/{count} {','.join(seen)} distinct={len(ports)}")
    return 0 if len(answers) == count and len(ports) == count else 1


def ttl_probe(host, ttl, sport):
    from scapy.all import ICMP, IP, UDP, UDPerror, conf, sr1  # noqa: E402 (scapy is slow to import)
    conf.verb = 0
    answer = sr1(IP(dst=host, ttl=ttl) / UDP(sport=sport, dport=33435) / b"probe", timeout=3, retry=2)
    if answer is None or ICMP not in answer:
        print("no answer")
        return 1
    quoted = answer[ICMP].payload
    quoted_src = quoted.src if hasattr(quoted, "src") else "?"
    # scapy parses the quoted packet as IPerror / UDPerror.
    quoted_sport = quoted[UDPerror].sport if UDPerror in quoted else "?"
    print(f"from={answer[IP].src} type={answer[ICMP].type} code={answer[ICMP].code} "
          f"quoted_src={quoted_src} quoted_sport={quoted_sport}")
    return 0


def main(argv):
    command, args = argv[1], argv[2:]
    if command == "serve-udp":
        return serve_udp(int(args[0]), *args[1:2])
    if command == "serve-tcp":
        return serve_tcp(int(args[0]))
    if command == "ask-udp":
        return ask_udp(args[0], int(args[1]), int(args[2]))
    if command == "ask-tcp":
        return ask_tcp(args[0], int(args[1]))
    if command == "udp-flows":
        return udp_flows(args[0], int(args[1]), int(args[2]))
    if command == "ttl-probe":
        return ttl_probe(args[0], int(args[1]), int(args[2]))
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
