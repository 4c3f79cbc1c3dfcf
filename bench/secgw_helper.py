#!/usr/bin/python3
"""Helpers of bench/secgw_compare.sh: input frames (scapy) and an outside meter.
Run under Debian's /usr/bin/python3, which has scapy.

  secgw_helper.py clear SIZE OUT.pcap          cleartext UDP, LAN -> remote net (encrypt, forward)
  secgw_helper.py esp SIZE ALG SPI KEYHEX [AUTHHEX] OUT.pcap   ESP tunnel mode, peer -> us (decrypt)
  secgw_helper.py arp IFACE_IP NEIGH_IP OUT.pcap   one ARP request from NEIGH_IP for IFACE_IP
  secgw_helper.py meter PREFIX PORT WARMUP SECONDS [PID]
      TX packets/s of PORT of the DPDK process started with --file-prefix PREFIX, from its
      ethdev counters read over DPDK's telemetry socket at two instants SECONDS apart, after
      WARMUP seconds. Prints "MPPS OPACKETS SECONDS". PID: give up when that process is gone.
  secgw_helper.py check enc|dec|fwd SIZE OUT.pcap [ALG SPI KEYHEX [AUTHHEX]]
      Checks what a gateway sent (ARP ignored): enc, ESP with SPI to the peer that decrypts
      (ALG, KEYHEX, AUTHHEX as for esp) to an inner packet of SIZE bytes; dec, cleartext
      UDP of SIZE bytes from 10.2.0.0/16 to the LAN host; fwd, cleartext UDP of SIZE bytes
      to 10.2.0.0/16. Prints the number of packets checked; exits 1 at the first wrong one.

SIZE is the length of the cleartext inner IPv4 packet (IP header to end of UDP payload), as in
mbox-bench-esp; the Ethernet frame is SIZE + 14 bytes (no FCS). 256 flows: inner sources
10.1.0.100-227 (clear) or 256 hosts of 10.2.0.0/16 (esp), UDP source ports 10000+i. ALG: gcm (AES-GCM-128, KEYHEX
20 bytes with the salt) or cbc (AES-128-CBC + HMAC-SHA1-96, AUTHHEX 20 bytes).
"""
import json
import os
import socket
import sys
import time


# net_pcap gives the n-th pcap port of a process 02:70:63:61:70:<n>; both gateways list the
# input port first, so it is port 0's address. The source MAC is arbitrary.
DST_MAC = "02:70:63:61:70:00"
SRC_MAC = "02:00:00:00:00:01"
FLOWS = 256
LAN_HOST = "10.1.0.2"
GW_WAN, PEER_WAN = "198.51.100.1", "198.51.100.2"


def inner(size, i, src, dst):
    pkt = IP(src=src, dst=dst, ttl=64) / UDP(sport=10000 + i, dport=9)
    pad = size - len(pkt)
    if pad < 0:
        sys.exit(f"secgw_helper.py: size {size} below the IPv4+UDP headers ({len(pkt)} bytes)")
    return IP(bytes(pkt / (b"\x00" * pad)))


def clear(size):
    # LAN hosts 10.1.0.100-10.1.0.227 (two source ports each) to hosts of 10.2.0.0/16.
    return [Ether(dst=DST_MAC, src=SRC_MAC) /
            inner(size, i, f"10.1.0.{100 + i % 128}", f"10.2.{i // 128}.{1 + i % 200}") for i in range(FLOWS)]


def esp(size, alg, spi, key, auth):
    sa = security_association(alg, spi, key, auth)
    frames = []
    # Every inner packet goes to the one LAN host (one neighbour to resolve); the flows differ
    # in source address and port. Sequence numbers 1..256; both gateways run without
    # anti-replay, since the file is replayed endlessly.
    for i in range(FLOWS):
        p = inner(size, i, f"10.2.{i // 200}.{1 + i % 200}", LAN_HOST)
        frames.append(Ether(dst=DST_MAC, src=SRC_MAC) / sa.encrypt(p, seq_num=i + 1))
    return frames


def arp(iface_ip, neigh_ip):
    return [Ether(dst="ff:ff:ff:ff:ff:ff", src=SRC_MAC) /
            ARP(op=1, hwsrc=SRC_MAC, psrc=neigh_ip, hwdst="00:00:00:00:00:00", pdst=iface_ip)]


def security_association(alg, spi, key, auth):
    if alg == "gcm":
        return SecurityAssociation(ESP, spi=spi, crypt_algo="AES-GCM", crypt_key=key,
                                   tunnel_header=IP(src=PEER_WAN, dst=GW_WAN))
    if alg == "cbc":
        return SecurityAssociation(ESP, spi=spi, crypt_algo="AES-CBC", crypt_key=key,
                                   auth_algo="HMAC-SHA1-96", auth_key=auth,
                                   tunnel_header=IP(src=PEER_WAN, dst=GW_WAN))
    sys.exit(f"secgw_helper.py: unknown algorithm {alg} (gcm or cbc)")


def check(kind, size, path, sa):
    n = 0
    for i, frame in enumerate(rdpcap(path)):
        if ARP in frame:
            continue
        ip = frame[IP] if IP in frame else None
        if kind == "enc":
            ok = ip is not None and ip.proto == 50 and ip.dst == PEER_WAN and ip.src == GW_WAN \
                and ip[ESP].spi == sa.spi
            if ok:
                try:
                    ip = sa.decrypt(ip)
                except Exception as e:  # scapy raises on a bad ICV or padding
                    sys.exit(f"check: frame {i}: ESP does not decrypt: {type(e).__name__} {e}")
        else:
            ok = ip is not None
        if ok:
            inner_ok = UDP in ip and ip.len == size
            if kind == "dec":
                inner_ok = inner_ok and ip.dst == LAN_HOST and ip.src.startswith("10.2.")
            else:
                inner_ok = inner_ok and ip.dst.startswith("10.2.") and ip.src.startswith("10.1.0.")
            ok = inner_ok
        if not ok:
            sys.exit(f"check: frame {i} is not what a correct gateway sends for {kind}: {frame.summary()}")
        n += 1
    if n == 0:
        sys.exit(f"check: no IPv4 frame in {path}")
    print(n)


def telemetry(prefix, pid, wait=60.0):
    """A connected telemetry socket of the process with this --file-prefix (v2 protocol)."""
    path = f"/var/run/dpdk/{prefix}/dpdk_telemetry.v2"
    deadline = time.monotonic() + wait
    while True:
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            s.connect(path)
            json.loads(s.recv(16384))  # the greeting: version, pid, max_output_len
            return s
        except OSError:
            s.close()
            if pid and not os.path.exists(f"/proc/{pid}"):
                sys.exit(f"meter: process {pid} ({prefix}) exited before its telemetry socket answered")
            if time.monotonic() > deadline:
                sys.exit(f"meter: no DPDK telemetry socket at {path} after {wait:.0f} s")
            time.sleep(0.2)


def tx_packets(s, port):
    s.send(f"/ethdev/stats,{port}".encode())
    reply = json.loads(s.recv(65536))["/ethdev/stats"]
    if not isinstance(reply, dict):
        sys.exit(f"meter: no ethdev stats for port {port}: {reply}")
    return reply["opackets"]


def meter(prefix, port, warmup, seconds, pid):
    s = telemetry(prefix, pid)
    time.sleep(warmup)
    t0, p0 = time.monotonic(), tx_packets(s, port)
    time.sleep(seconds)
    t1, p1 = time.monotonic(), tx_packets(s, port)
    if pid and not os.path.exists(f"/proc/{pid}"):
        sys.exit(f"meter: process {pid} ({prefix}) exited during the measurement")
    print(f"{(p1 - p0) / (t1 - t0) / 1e6:.3f} {p1 - p0} {t1 - t0:.3f}")


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    kind, args = argv[1], argv[2:]
    if kind == "meter" and len(args) in (4, 5):
        meter(args[0], int(args[1]), float(args[2]), float(args[3]), int(args[4]) if len(args) == 5 else 0)
        return
    global IP, UDP, ESP, SecurityAssociation, ARP, Ether, rdpcap
    from scapy.layers.inet import IP, UDP  # scapy takes a second to load: not for the meter
    from scapy.layers.ipsec import ESP, SecurityAssociation
    from scapy.layers.l2 import ARP, Ether
    from scapy.utils import rdpcap, wrpcap
    if kind == "check" and len(args) in (3, 6, 7):
        sa = None
        if len(args) > 3:
            auth = bytes.fromhex(args[6]) if len(args) == 7 else None
            # The tunnel header is not used to decrypt; the SPI and keys are.
            sa = security_association(args[3], int(args[4], 0), bytes.fromhex(args[5]), auth)
        elif args[0] == "enc":
            sys.exit("check enc: give ALG SPI KEYHEX [AUTHHEX]")
        check(args[0], int(args[1]), args[2], sa)
        return
    if kind == "clear" and len(args) == 2:
        frames, out = clear(int(args[0])), args[1]
    elif kind == "esp" and len(args) in (5, 6):
        auth = bytes.fromhex(args[4]) if len(args) == 6 else None
        frames, out = esp(int(args[0]), args[1], int(args[2], 0), bytes.fromhex(args[3]), auth), args[-1]
    elif kind == "arp" and len(args) == 3:
        frames, out = arp(args[0], args[1]), args[2]
    else:
        sys.exit(__doc__)
    wrpcap(out, frames)


if __name__ == "__main__":
    main(sys.argv)
