#!/usr/bin/python3
"""The far end of esp_scapy_test.sh: scapy's SecurityAssociation (python-cryptography
underneath), an ESP implementation independent of mboxd's, plays the tunnel peer
198.51.100.2 and the network 10.2.0.0/16 behind it.

  esp_scapy_peer.py config STATE          random keys: the SAs into STATE (JSON), the
                                          manual-sa blocks for mboxd on stdout
  esp_scapy_peer.py run STATE --netns-a PATH --mbox BIN --socket PATH
      Runs in the peer's namespace (raw frames on its eth0); host A's UDP socket is opened
      in host A's namespace (setns). Prints 'ok - ...' / 'not ok - ...' lines, each
      failure followed by '# ...' evidence; the shell script numbers them as TAP.

Every check states what RFC 4303 / RFC 3948 require and would fail without it.
"""
import argparse
import ctypes
import json
import os
import select
import socket
import struct
import subprocess
import sys
import time

from scapy.all import ARP, ICMP, IP, UDP, Ether, Raw, raw, conf
from scapy.layers.ipsec import (AUTH_ALGOS, ESP, AuthAlgo, IPSecIntegrityError, SecurityAssociation,
                                _ESPPlain)
from scapy.utils import hexdump
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.hmac import HMAC
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

conf.verb = 0

GW = "198.51.100.1"          # the gateway's WAN address: the tunnel's local end
PEER = "198.51.100.2"        # us
HOST_A = "10.1.0.2"          # behind the gateway (local-net 10.1.0.0/24)
HOST_A_PORT = 5555
PEER_SRC_PORT = 7000         # inner UDP source port of what we send to host A
WINDOW = 1024

# mbox words -> (scapy cipher, key bytes incl. GCM salt); -> (digest, ICV bytes, key bytes, scapy name).
CIPHERS = {
    "3DES": ("3DES", 24), "AES": ("AES-CBC", 16), "AES-192": ("AES-CBC", 24), "AES-256": ("AES-CBC", 32),
    "AES-GCM-128": ("AES-GCM", 20), "AES-GCM-256": ("AES-GCM", 36),
}
HASHES = {
    "MD5": (hashes.MD5, 12, 16, "HMAC-MD5-96"),        # RFC 2403
    "MD5-128": (hashes.MD5, 16, 16, None),             # RFC 4595: untruncated; scapy has no name for it
    "SHA": (hashes.SHA1, 12, 20, "HMAC-SHA1-96"),      # RFC 2404
    "SHA-256": (hashes.SHA256, 16, 32, "SHA2-256-128"),  # RFC 4868
    "SHA-512": (hashes.SHA512, 32, 64, "SHA2-512-256"),
}


# ---------------------------------------------------------------------------------------
# The SAs

def plan():
    """Every SA of the run: name, /24 behind the peer, algorithms, role and options."""
    sas = []

    def add(name, enc, hash_, role, udp=None, esn=False):
        n = len(sas) + 1
        sas.append({"name": name, "n": n, "enc": enc, "hash": hash_, "role": role, "udp": udp, "esn": esn,
                    "in_spi": 0x1000 + n, "out_spi": 0x2000 + n})

    for enc in ("3DES", "AES", "AES-192", "AES-256"):
        for hash_ in ("MD5", "MD5-128", "SHA", "SHA-256", "SHA-512"):
            add(f"alg-{enc}-{hash_}".lower(), enc, hash_, "algorithms")
    add("alg-aes-gcm-128", "AES-GCM-128", None, "algorithms")
    add("alg-aes-gcm-256", "AES-GCM-256", None, "algorithms")
    add("drops-cbc", "AES-256", "SHA-256", "drops")
    add("drops-gcm", "AES-GCM-128", None, "drops")
    add("natt-cbc", "AES-192", "SHA", "udp", udp=[4500, 4500])
    add("natt-gcm", "AES-GCM-256", None, "udp", udp=[4500, 14500])   # a peer behind a NAT: not 4500
    add("esn-cbc", "AES", "SHA-256", "esn", esn=True)
    add("esn-gcm", "AES-GCM-128", None, "esn", esn=True)
    add("esn-natt-cbc", "3DES", "SHA-512", "esn", udp=[4500, 4500], esn=True)
    for sa in sas:
        enc_len = CIPHERS[sa["enc"]][1]
        auth_len = HASHES[sa["hash"]][2] if sa["hash"] else 0
        for d in ("in", "out"):
            sa[f"{d}_enc_key"] = os.urandom(enc_len).hex()
            sa[f"{d}_auth_key"] = os.urandom(auth_len).hex() if auth_len else ""
    return sas


def manual_sa_blocks(sas):
    out = ["# 10.2.0.0/16 lies behind the peer: the inner packets are routed there first, then",
           "# matched against the outbound policies (policy-based IPsec, DESIGN.md step 4).",
           f"ip route 10.2.0.0/16 nexthop {PEER}", "!"]
    for sa in sas:
        esp = sa["enc"] + (" " + sa["hash"] if sa["hash"] else "")
        out += [f"ipsec manual-sa {sa['name']}", f" local ip {GW}", f" peer {PEER}",
                " local-net 10.1.0.0/24", f" remote-net 10.2.{sa['n']}.0/24", f" esp {esp}"]
        for d, word in (("in", "inbound"), ("out", "outbound")):
            line = f" {word} spi 0x{sa[d + '_spi']:x} enc-key 0x{sa[d + '_enc_key']}"
            if sa[d + "_auth_key"]:
                line += f" auth-key 0x{sa[d + '_auth_key']}"
            out.append(line)
        if sa["udp"]:
            out.append(f" udp-encap {sa['udp'][0]} {sa['udp'][1]}")
        out.append(f" replay-window {WINDOW}")
        if sa["esn"]:
            out.append(" esn")
        out.append("!")
    out += ["ipsec start", "!"]
    return "\n".join(out) + "\n"


class EspHmac(AuthAlgo):
    """HMAC ICV for ESP that, with ESN, also covers the high 32 bits of the sequence number
    (RFC 4303 §3.3.2.1: seq_hi is appended to the data the ICV is computed over, not sent).
    scapy 2.5's own AuthAlgo leaves seq_hi out for ESP (it handles it for AH only), and has
    no untruncated HMAC-MD5 (RFC 4595 AUTH_HMAC_MD5_128)."""

    def __init__(self, name, digestmod, icv_size, owner):
        super().__init__(name, mac=HMAC, digestmod=digestmod, icv_size=icv_size)
        self.owner = owner   # the SecurityAssociation whose esn_en / esn (seq_hi) apply

    def icv(self, key, esp_without_icv):
        mac = self.new_mac(key)
        mac.update(esp_without_icv)
        if self.owner.esn_en:
            mac.update(struct.pack("!L", self.owner.esn))
        return mac.finalize()[:self.icv_size]

    def sign(self, pkt, key, esn_en=False, esn=0):
        pkt[ESP].data += self.icv(key, raw(pkt[ESP]))
        return pkt

    def verify(self, pkt, key, esn_en=False, esn=0):
        received = pkt.data[len(pkt.data) - self.icv_size:]
        clone = pkt.copy()
        clone.data = clone.data[:len(clone.data) - self.icv_size]
        computed = self.icv(key, raw(clone))
        if received != computed:
            raise IPSecIntegrityError(f"pkt_icv={received.hex()} computed_icv={computed.hex()}")


def scapy_sa(sa, direction):
    """scapy's SA for one direction: 'in' = what we send to the gateway (its inbound SA),
    'out' = what the gateway sends us (its outbound SA)."""
    crypt, _ = CIPHERS[sa["enc"]]
    src, dst = (PEER, GW) if direction == "in" else (GW, PEER)
    nat_t = None
    if sa["udp"] and direction == "in":
        nat_t = UDP(sport=sa["udp"][1], dport=sa["udp"][0])
    s = SecurityAssociation(ESP, spi=sa[direction + "_spi"], crypt_algo=crypt,
                            crypt_key=bytes.fromhex(sa[direction + "_enc_key"]),
                            tunnel_header=IP(src=src, dst=dst), nat_t_header=nat_t, esn_en=sa["esn"], esn=0)
    if sa["hash"]:
        digest, icv_size, _, scapy_name = HASHES[sa["hash"]]
        if scapy_name and not sa["esn"]:
            s.auth_algo = AUTH_ALGOS[scapy_name]   # scapy's own, untouched
        else:
            s.auth_algo = EspHmac(sa["hash"], digest, icv_size, s)
        s.auth_key = bytes.fromhex(sa[direction + "_auth_key"])
    return s


def icv_size(s):
    return s.crypt_algo.icv_size if s.crypt_algo.is_aead else s.auth_algo.icv_size


def plaintext(s, esp):
    """The decrypted ESP payload with padding, pad length and next header (scapy drops the
    padding before returning it, and cuts it from the wrong offset). Call after scapy has
    verified the ICV."""
    algo = s.crypt_algo
    data = esp.data
    iv, body = data[:algo.iv_size], data[algo.iv_size:len(data) - icv_size(s)]
    if algo.is_aead:
        aad = struct.pack("!LLL", esp.spi, s.esn, esp.seq) if s.esn_en else struct.pack("!LL", esp.spi, esp.seq)
        return AESGCM(s.crypt_key).decrypt(s.crypt_salt + iv, body + data[len(data) - icv_size(s):], aad)
    d = Cipher(algo.cipher(s.crypt_key), modes.CBC(iv)).decryptor()
    return d.update(body) + d.finalize()


# ---------------------------------------------------------------------------------------
# The lab from the peer's namespace

CLONE_NEWNET = 0x40000000
IP_MTU_DISCOVER, IP_PMTUDISC_PROBE, IP_RECVTTL = 10, 3, 12   # <linux/in.h>; not in Python's socket module
_libc = ctypes.CDLL(None, use_errno=True)


def socket_in_netns(path, *args):
    """A socket created in another network namespace (it stays there; we come back)."""
    own = os.open("/proc/self/ns/net", os.O_RDONLY)
    target = os.open(path, os.O_RDONLY)
    try:
        if _libc.setns(target, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {path}")
        try:
            return socket.socket(*args)
        finally:
            if _libc.setns(own, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back")
    finally:
        os.close(own)
        os.close(target)


_DISCARD = ctypes.create_string_buffer(struct.pack("HBBI", 0x06, 0, 0, 0))   # BPF "ret #0"


def discard_everything(sock):
    """A socket filter that keeps nothing: the socket still claims the packets (so the kernel
    sends no ICMP unreachable), but its receive queue never fills."""
    program = struct.pack("HL", 1, ctypes.addressof(_DISCARD))
    sock.setsockopt(socket.SOL_SOCKET, 26, program)   # SO_ATTACH_FILTER


class Lab:
    def __init__(self, args):
        self.mbox = [args.mbox, "--socket", args.socket, "--json"]
        self.caused = {}     # drop reason -> drops the checks caused on purpose
        self.gw_mac = None   # from ARP, below
        with open("/sys/class/net/eth0/address") as f:
            self.mac = f.read().strip()
        self.wire = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        self.wire.bind(("eth0", 0))
        self.wire.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        # The ports the gateway sends ESP-in-UDP to: bound, so our kernel takes the
        # datagrams quietly instead of answering with ICMP port unreachable.
        self.sinks = []
        for port in (4500, 14500):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((PEER, port))
            self.sinks.append(s)
        # ESP to us: a raw socket for protocol 50, so our kernel (no xfrm state) does not
        # answer every packet with ICMP protocol unreachable.
        self.sinks.append(socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ESP))
        for sink in self.sinks:
            discard_everything(sink)
        self.host_a = socket_in_netns(args.netns_a, socket.AF_INET, socket.SOCK_DGRAM)
        self.host_a.bind((HOST_A, HOST_A_PORT))
        self.host_a.setsockopt(socket.IPPROTO_IP, IP_RECVTTL, 1)
        # Host A's big datagrams: DF set whatever the path MTU it learnt (IP_PMTUDISC_PROBE),
        # and the ICMP errors the gateway sends back.
        self.host_a_df = socket_in_netns(args.netns_a, socket.AF_INET, socket.SOCK_DGRAM)
        self.host_a_df.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE)
        self.host_a_icmp = socket_in_netns(args.netns_a, socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)

    # -- the wire at the peer --
    def drain_wire(self):
        while select.select([self.wire], [], [], 0)[0]:
            self.wire.recv(65535)

    def send(self, ip_packet):
        self.wire.send(raw(Ether(src=self.mac, dst=self.gw_mac) / ip_packet))

    def next_from_gateway(self, timeout=2.0):
        """The next IPv4 frame from the gateway's MAC (ESP, or whatever it sent instead), or None."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            if not select.select([self.wire], [], [], left)[0]:
                break
            data, addr = self.wire.recvfrom(65535)
            if addr[2] == socket.PACKET_OUTGOING:
                continue
            frame = Ether(data)
            if frame.src == self.gw_mac and IP in frame:
                return frame
        return None

    def arp_gateway(self):
        """The MAC the gateway gives in answer to our ARP request for its WAN address."""
        request = Ether(src=self.mac, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=self.mac, psrc=PEER, pdst=GW)
        self.drain_wire()
        self.wire.send(raw(request))
        deadline = time.monotonic() + 2
        while (left := deadline - time.monotonic()) > 0:
            if not select.select([self.wire], [], [], left)[0]:
                break
            data, addr = self.wire.recvfrom(65535)
            frame = Ether(data)
            if addr[2] != socket.PACKET_OUTGOING and ARP in frame and frame[ARP].op == 2 \
                    and frame[ARP].psrc == GW and frame[ARP].pdst == PEER:
                return frame[ARP].hwsrc
        return None

    # -- host A --
    def drain_host_a(self):
        self.host_a.setblocking(False)
        try:
            while True:
                self.host_a.recvfrom(65535)
        except BlockingIOError:
            pass
        finally:
            self.host_a.setblocking(True)

    def host_a_receive(self, timeout):
        """[(payload, (src, port), ttl)] host A received within `timeout` seconds."""
        got = []
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            if not select.select([self.host_a], [], [], left)[0]:
                break
            data, anc, _, src = self.host_a.recvmsg(65535, socket.CMSG_SPACE(4))
            ttl = next((struct.unpack("i", d[:4])[0] for lvl, typ, d in anc
                        if lvl == socket.IPPROTO_IP and typ == socket.IP_TTL), None)
            got.append((data, src, ttl))
        return got

    def host_a_wait_for(self, payload, timeout=2.0):
        """(src, ttl) of the datagram carrying `payload`, or None; and everything else seen."""
        others = []
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            for data, src, ttl in self.host_a_receive(min(left, 0.2)):
                if data == payload:
                    return (src, ttl), others
                others.append(data)
        return None, others

    # -- the gateway's counters --
    def show(self, *words):
        r = subprocess.run(self.mbox + list(words), capture_output=True, text=True, timeout=10)
        if r.returncode != 0:
            raise RuntimeError(f"mbox {' '.join(words)}: {r.stderr.strip() or r.stdout.strip()}")
        return json.loads(r.stdout)

    def drops(self):
        return self.show("show", "dataplane", "counters")["drops"]

    def sa_state(self, spi, direction):
        for s in self.show("show", "ipsec", "sa")["sas"]:
            if s["spi"] == f"0x{spi:08x}" and s["direction"] == direction:
                return s
        raise RuntimeError(f"no {direction} SA with SPI 0x{spi:08x} in show ipsec sa")


# ---------------------------------------------------------------------------------------
# Reporting

class Report:
    def __init__(self):
        self.failed = 0

    def ok(self, desc):
        print(f"ok - {desc}", flush=True)

    def not_ok(self, desc, evidence=()):
        self.failed += 1
        print(f"not ok - {desc}", flush=True)
        for line in evidence:
            for part in str(line).splitlines():
                print(f"# {part}", flush=True)

    def check(self, desc, problems, evidence=()):
        if problems:
            self.not_ok(desc, list(problems) + list(evidence))
        else:
            self.ok(desc)


def dump(pkt):
    return [pkt.summary(), hexdump(pkt, dump=True)]


# ---------------------------------------------------------------------------------------
# The checks

class Tunnel:
    """One manual SA of the gateway and the two scapy SAs facing it."""

    def __init__(self, lab, report, sa):
        self.lab, self.report, self.sa = lab, report, sa
        self.to_gw = scapy_sa(sa, "in")      # we encrypt, the gateway decrypts
        self.from_gw = scapy_sa(sa, "out")   # the gateway encrypts, we decrypt
        self.remote_host = f"10.2.{sa['n']}.7"
        self.out_seq = 0                     # the gateway's last outbound sequence number
        self.out_bytes = 0
        self.in_packets = 0
        self.in_bytes = 0
        self.sa_drops = {}                   # reason -> drops expect_drop caused on the inbound SA
        self.label = f"{sa['name']} ({sa['enc']}{'/' + sa['hash'] if sa['hash'] else ''}" \
                     f"{', UDP ' + '->'.join(map(str, sa['udp'])) if sa['udp'] else ''}" \
                     f"{', ESN' if sa['esn'] else ''})"

    # -- we encrypt, they decrypt: host A -> gateway -> us --
    def outbound(self):
        """Host A sends one datagram; it must leave as the next ESP packet of the SA."""
        self.out_seq += 1
        seq = self.out_seq
        payload = f"A->{self.sa['name']} #{seq} ".encode() + os.urandom(6).hex().encode() * (seq % 3 + 1)
        dport = 9000 + self.sa["n"]
        self.lab.drain_wire()
        self.lab.host_a.sendto(payload, (self.remote_host, dport))
        frame = self.lab.next_from_gateway()
        desc = f"{self.label}: host A's datagram #{seq} leaves as ESP that scapy decrypts"
        if frame is None:
            self.report.not_ok(desc, ["nothing from the gateway on the peer's eth0 within 2 s"])
            return
        problems, facts = self.check_esp_frame(frame, seq, payload, dport)
        self.report.check(f"{desc} ({facts})" if facts else desc, problems, dump(frame))

    def outbound_burst(self, count):
        """Host A sends `count` datagrams back to back: ESP with consecutive sequence numbers."""
        first = self.out_seq + 1
        dport = 9100 + self.sa["n"]
        payloads = [f"A->{self.sa['name']} burst {i} ".encode() + os.urandom(4).hex().encode() for i in range(count)]
        self.lab.drain_wire()
        for payload in payloads:
            self.lab.host_a.sendto(payload, (self.remote_host, dport))
        problems = []
        ivs = set()
        for i, payload in enumerate(payloads):
            frame = self.lab.next_from_gateway()
            if frame is None:
                problems.append(f"only {i} of {count} ESP packets arrived")
                break
            self.out_seq += 1
            bad, _ = self.check_esp_frame(frame, first + i, payload, dport)
            problems += [f"packet {i} (seq {first + i} expected): {b}" for b in bad]
            if len(problems) > 6:
                break
            esp = ESP(raw(frame[UDP].payload)) if self.sa["udp"] else ESP(raw(frame[IP].payload))
            ivs.add(esp.data[:self.from_gw.crypt_algo.iv_size])
        # CBC needs unpredictable IVs (RFC 3602 §3), GCM never the same one twice (RFC 4106 §3.1).
        if not problems and len(ivs) != count:
            problems.append(f"only {len(ivs)} distinct IVs in {count} packets")
        self.report.check(f"{self.label}: {count} datagrams from host A back to back leave as ESP seq "
                          f"{first}..{first + count - 1}, in order, all decrypting, IVs all distinct", problems)

    def check_esp_frame(self, frame, seq, payload, dport):
        """What is wrong with this frame as the gateway's ESP packet number `seq` carrying
        host A's datagram; and a short description of it."""
        sa = self.sa
        problems = []
        ip = frame[IP]
        if (ip.src, ip.dst) != (GW, PEER):
            problems.append(f"outer {ip.src} -> {ip.dst}, expected {GW} -> {PEER}")
        if sa["udp"]:
            if ip.proto != 17 or UDP not in frame:
                problems.append(f"outer protocol {ip.proto}, expected UDP (RFC 3948)")
            else:
                u = frame[UDP]
                if (u.sport, u.dport) != tuple(sa["udp"]):
                    problems.append(f"UDP ports {u.sport}->{u.dport}, expected {sa['udp'][0]}->{sa['udp'][1]}")
                if u.chksum != 0:   # RFC 3948 §2.1: zero; a correct one would do too
                    again = IP(raw(ip))
                    del again[UDP].chksum
                    if IP(raw(again))[UDP].chksum != u.chksum:
                        problems.append(f"UDP checksum 0x{u.chksum:04x} neither zero nor correct")
                if raw(u.payload)[:4] == b"\0\0\0\0":
                    problems.append("ESP-in-UDP begins with the non-ESP marker")
        elif ip.proto != 50:
            problems.append(f"outer protocol {ip.proto}, expected ESP (50)")
        if problems:
            return problems, ""
        esp = ESP(raw(frame[UDP].payload)) if sa["udp"] else ESP(raw(ip.payload))
        if esp.spi != sa["out_spi"]:
            problems.append(f"SPI 0x{esp.spi:08x}, expected the outbound SPI 0x{sa['out_spi']:08x}")
        if esp.seq != seq:
            problems.append(f"sequence number {esp.seq}, expected {seq}")
        try:
            inner = self.from_gw.decrypt(IP(src=GW, dst=PEER) / esp)
        except IPSecIntegrityError as e:
            return problems + [f"scapy: ICV does not verify: {e}"], ""
        if IP not in inner or UDP not in inner:
            return problems + ["decrypted payload is not IPv4/UDP:", inner.summary()], ""
        i = inner[IP]
        if (i.src, i.dst) != (HOST_A, self.remote_host):
            problems.append(f"inner {i.src} -> {i.dst}, expected {HOST_A} -> {self.remote_host}")
        if i.ttl != 63:
            problems.append(f"inner TTL {i.ttl}, expected 63 (host A's 64 less the gateway's hop)")
        if (inner[UDP].sport, inner[UDP].dport) != (HOST_A_PORT, dport) or raw(inner[UDP].payload) != payload:
            problems.append(f"inner UDP {inner[UDP].sport}->{inner[UDP].dport} {raw(inner[UDP].payload)!r}, "
                            f"expected {HOST_A_PORT}->{dport} {payload!r}")
        # The trailer (RFC 4303 §2.4): padding 1, 2, 3, ..., pad length, next header 4.
        pt = plaintext(self.from_gw, esp)
        pad_len, next_header = pt[-2], pt[-1]
        block = max(self.from_gw.crypt_algo.block_size, 4)
        if next_header != 4:
            problems.append(f"next header {next_header}, expected 4 (IPv4)")
        if pt[-2 - pad_len:-2] != bytes(range(1, pad_len + 1)):
            problems.append(f"padding {pt[-2 - pad_len:-2].hex()} is not 01 02 03 ...")
        if len(pt) % block:
            problems.append(f"plaintext of {len(pt)} bytes is not a multiple of {block}")
        if sa["esn"] and not problems:
            # The ICV/AAD must cover seq_hi (0 here): without it, it must not verify.
            self.from_gw.esn_en = False
            try:
                self.from_gw.decrypt(IP(src=GW, dst=PEER) / esp)
                problems.append("the ICV also verifies without seq_hi: ESN is not in effect")
            except IPSecIntegrityError:
                pass
            finally:
                self.from_gw.esn_en = True
        if not problems:
            self.out_bytes += i.len
        return problems, f"SPI 0x{esp.spi:x}, seq {esp.seq}, inner TTL {i.ttl}, pad {pad_len}"

    # -- they encrypt, we decrypt: us -> gateway -> host A --
    def encrypt(self, inner, seq64):
        """The ESP packet (outer IP included, UDP when the SA has it) with this sequence number."""
        s = self.to_gw
        s.seq_num, s.esn = seq64 & 0xffffffff, seq64 >> 32
        pkt = s.encrypt(inner)
        if UDP in pkt and ESP in pkt:
            # This scapy writes the NAT-T header's length before the ESP payload is added
            # (8): RFC 768 says header plus data, and the gateway drops a UDP length that
            # does not match the IP payload (udp_bad_length). Let scapy compute it.
            pkt[UDP].len = None
            pkt[IP].len = None
            pkt[IP].chksum = None
            pkt = IP(raw(pkt))
        return pkt

    def inner(self, payload, src=None, dst=HOST_A):
        return IP(src=src or self.remote_host, dst=dst, ttl=64) / UDP(sport=PEER_SRC_PORT, dport=HOST_A_PORT) / payload

    def inbound(self, seq64, what=None):
        """Sends a valid packet with this sequence number; host A must get the datagram."""
        payload = f"{self.sa['name']}->A seq {seq64:#x} ".encode() + os.urandom(5).hex().encode()
        self.deliver(self.encrypt(self.inner(payload), seq64), payload,
                     what or f"{self.label}: scapy's ESP seq {seq64:#x} reaches host A decrypted")

    def deliver(self, pkt, payload, desc):
        """Sends `pkt`; host A must receive `payload` from the remote host, TTL 63."""
        self.lab.drain_host_a()
        self.lab.send(pkt)
        got, others = self.lab.host_a_wait_for(payload)
        problems = []
        if got is None:
            problems.append("host A received nothing within 2 s" if not others else f"host A received {others!r}")
        else:
            (src, sport), ttl = got
            if (src, sport) != (self.remote_host, PEER_SRC_PORT):
                problems.append(f"from {src}:{sport}, expected {self.remote_host}:{PEER_SRC_PORT}")
            if ttl != 63:
                problems.append(f"TTL {ttl} at host A, expected 63 (the gateway forwards the inner packet)")
        if not problems:
            self.in_packets += 1
            self.in_bytes += len(self.inner(payload))   # the gateway counts inner IPv4 bytes
        self.report.check(desc, problems, [] if got else dump(pkt))

    def inbound_burst(self, first, count):
        """`count` packets back to back (several per receive burst): host A gets every one."""
        payloads = [f"{self.sa['name']}->A burst {i} ".encode() + os.urandom(4).hex().encode() for i in range(count)]
        frames = [raw(Ether(src=self.lab.mac, dst=self.lab.gw_mac) / self.encrypt(self.inner(p), first + i))
                  for i, p in enumerate(payloads)]
        self.lab.drain_host_a()
        for f in frames:
            self.lab.wire.send(f)
        got = []
        deadline = time.monotonic() + 3
        while len(got) < count and time.monotonic() < deadline:
            got += [d for d, _, _ in self.lab.host_a_receive(0.2)]
        missing = [i for i, p in enumerate(payloads) if p not in got]
        problems = []
        if missing:
            problems.append(f"{len(missing)} of {count} missing: seq {[first + i for i in missing][:20]}")
        if len(got) != len(set(got)) or set(got) - set(payloads):
            problems.append(f"duplicates or strangers among {len(got)} received")
        self.in_packets += count - len(missing)
        self.in_bytes += sum(len(self.inner(p)) for i, p in enumerate(payloads) if i not in missing)
        self.report.check(f"{self.label}: {count} ESP packets back to back (seq {first}..{first + count - 1}) "
                          f"all reach host A", problems)

    # -- a bad packet: dropped, counted once under its reason, globally and on the SA --
    def expect_drop(self, desc, reason, pkts, on_sa=True, delivered=()):
        """Sends `pkts` (one packet or several back to back): exactly one drop, `reason`;
        host A gets exactly the payloads in `delivered`."""
        lab = self.lab
        pkts = pkts if isinstance(pkts, list) else [pkts]
        before = lab.drops()
        sa_before = lab.sa_state(self.sa["in_spi"], "inbound")["drops"].get(reason, 0)
        lab.drain_host_a()
        for pkt in pkts:
            lab.send(pkt)
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline and lab.drops()[reason] == before[reason]:
            time.sleep(0.05)
        time.sleep(0.15)   # and nothing more after it
        after = lab.drops()
        sa_after = lab.sa_state(self.sa["in_spi"], "inbound")["drops"].get(reason, 0)
        received = [d for d, _, _ in lab.host_a_receive(0.05)]
        problems = []
        if after[reason] - before[reason] != 1:
            problems.append(f"global {reason} went {before[reason]} -> {after[reason]}, expected +1")
        moved = {k: after[k] - before[k] for k in after if k != reason and after[k] != before[k]
                 and (k.startswith("esp_") or k == "nat_keepalive")}
        if moved:
            problems.append(f"other ESP drop reasons moved too: {moved}")
        if on_sa and sa_after - sa_before != 1:
            problems.append(f"{reason} on SA 0x{self.sa['in_spi']:x} went {sa_before} -> {sa_after}, expected +1")
        if sorted(received) != sorted(delivered):
            problems.append(f"host A received {received!r}, expected {list(delivered)!r}")
        else:
            self.in_packets += len(delivered)
            self.in_bytes += sum(len(self.inner(p)) for p in delivered)
        if on_sa:
            self.sa_drops[reason] = self.sa_drops.get(reason, 0) + 1
        lab.caused[reason] = lab.caused.get(reason, 0) + 1
        where = "globally and on the SA" if on_sa else "globally"
        self.report.check(f"{self.label}: {desc} is dropped and counted once as {reason} {where}", problems,
                          [line for pkt in pkts for line in dump(pkt)] if problems else [])

    def esp_bytes(self, seq64, inner):
        return raw(self.encrypt(inner, seq64)[ESP])

    def wrap(self, esp_bytes):
        """Outer IPv4 (and UDP when the SA has it) around hand-made ESP bytes."""
        if self.sa["udp"]:
            return IP(src=PEER, dst=GW) / UDP(sport=self.sa["udp"][1], dport=self.sa["udp"][0], chksum=0) / \
                Raw(esp_bytes)
        return IP(src=PEER, dst=GW, proto=50) / Raw(esp_bytes)

    def with_trailer(self, seq64, inner, padding, pad_len, next_header=4):
        """A packet whose ICV is valid over a trailer of our choosing (RFC 4303 §2.4)."""
        s = self.to_gw
        s.esn = seq64 >> 32
        plain = _ESPPlain(spi=s.spi, seq=seq64 & 0xffffffff, iv=s.crypt_algo.generate_iv(), data=Raw(raw(inner)),
                          padding=padding, padlen=pad_len, nh=next_header)
        enc = s.crypt_algo.encrypt(s, plain, s.crypt_key, s.crypt_icv_size, esn_en=s.esn_en, esn=s.esn)
        s.auth_algo.sign(enc, s.auth_key)
        return self.wrap(raw(enc))

    # -- path MTU: the gateway tells host A how much fits into the tunnel --
    def path_mtu(self):
        """RFC 4301 §8.2.1 / RFC 1191: a DF datagram too big once encapsulated is answered with
        ICMP fragmentation needed; a datagram of the MTU it gives must then fit."""
        lab = self.lab
        size, advertised, problems = 1500, [], []
        for _ in range(3):
            while select.select([lab.host_a_icmp], [], [], 0)[0]:
                lab.host_a_icmp.recv(65535)
            lab.drain_wire()
            payload = os.urandom(size - 28)
            lab.host_a_df.sendto(payload, (self.remote_host, 9999))
            frame = lab.next_from_gateway(1.0)
            mtu = None
            deadline = time.monotonic() + 1
            while mtu is None and select.select([lab.host_a_icmp], [], [], max(0, deadline - time.monotonic()))[0]:
                error = IP(lab.host_a_icmp.recv(65535))
                if ICMP in error and (error[ICMP].type, error[ICMP].code) == (3, 4):
                    mtu = error[ICMP].nexthopmtu
            if frame is not None:
                if not advertised:
                    problems.append(f"a {size}-byte datagram left as {len(frame[IP])} bytes of ESP")
                elif mtu is not None:
                    problems.append(f"{size} bytes: both ESP on the wire and ICMP (MTU {mtu})")
                elif len(frame[IP]) > 1500:
                    problems.append(f"{size} bytes left as {len(frame[IP])} bytes of ESP, over the WAN's 1500")
                else:
                    esp = ESP(raw(frame[UDP].payload)) if self.sa["udp"] else ESP(raw(frame[IP].payload))
                    try:
                        inner = self.from_gw.decrypt(IP(src=GW, dst=PEER) / esp)
                        if raw(inner[UDP].payload) != payload:
                            problems.append("the datagram of the advertised size decrypts to something else")
                    except IPSecIntegrityError as e:
                        problems.append(f"the datagram of the advertised size does not verify: {e}")
                    self.out_seq = esp.seq
                break
            if mtu is None:
                problems.append(f"a {size}-byte datagram with DF: neither ESP nor ICMP fragmentation needed")
                break
            advertised.append(mtu)
            lab.caused["esp_mtu_exceeded"] = lab.caused.get("esp_mtu_exceeded", 0) + 1
            if len(advertised) > 1:
                problems.append(f"the gateway advertised MTU {advertised[-2]}, but a {advertised[-2]}-byte datagram "
                                f"does not fit either (ICMP again, MTU {mtu})")
            size = mtu
        self.report.check(f"{self.label}: a 1500-byte DF datagram gets ICMP fragmentation needed "
                          f"(MTU {' then '.join(map(str, advertised)) or 'none'}), and a datagram of that size "
                          f"then leaves as ESP of at most 1500 bytes", problems)

    def counters_match(self):
        """show ipsec sa: the packets and bytes this tunnel carried, no drops."""
        lab = self.lab
        inbound = lab.sa_state(self.sa["in_spi"], "inbound")
        outbound = lab.sa_state(self.sa["out_spi"], "outbound")
        problems = []
        if inbound["packets"] != self.in_packets or inbound["bytes"] != self.in_bytes:
            problems.append(f"inbound {inbound['packets']} packets {inbound['bytes']} bytes, "
                            f"expected {self.in_packets} packets {self.in_bytes} bytes (inner)")
        if outbound["packets"] != self.out_seq or outbound["bytes"] != self.out_bytes:
            problems.append(f"outbound {outbound['packets']} packets {outbound['bytes']} bytes, "
                            f"expected {self.out_seq} packets {self.out_bytes} bytes (inner)")
        if outbound.get("sequence") != self.out_seq:
            problems.append(f"outbound last sequence {outbound.get('sequence')}, expected {self.out_seq}")
        if inbound["drops"] != self.sa_drops or outbound["drops"]:
            problems.append(f"drops: inbound {inbound['drops']} (expected {self.sa_drops}), "
                            f"outbound {outbound['drops']} (expected none)")
        if inbound["esn"] != self.sa["esn"]:
            problems.append(f"esn {inbound['esn']}, configured {self.sa['esn']}")
        if (inbound["udp_encap"] is None) != (self.sa["udp"] is None):
            problems.append(f"udp_encap {inbound['udp_encap']}, configured {self.sa['udp']}")
        drops = ", ".join(f"{n} {r}" for r, n in sorted(self.sa_drops.items())) or "no drops"
        self.report.check(f"{self.label}: show ipsec sa counts {self.in_packets} in / {self.out_seq} out, {drops}",
                          problems, [json.dumps(inbound), json.dumps(outbound)] if problems else [])


def flip(data, index):
    b = bytearray(data)
    b[index] ^= 0x01
    return bytes(b)


def drop_tests(t):
    """RFC 4303 §3.4: every way a received packet must be rejected, each followed by proof
    that the SA still works (and that the rejected packet did not move the window)."""
    s = t.to_gw
    iv, icv = s.crypt_algo.iv_size, icv_size(s)
    kind = "GCM" if s.crypt_algo.is_aead else "CBC"
    align = max(s.crypt_algo.block_size, 4)

    def minimal_padding(inner):
        return (-(len(inner) + 2)) % align

    t.inbound(5, f"{t.label}: seq 5 is delivered")
    t.expect_drop("the same seq 5 again (a replay)", "esp_replayed", t.encrypt(t.inner(b"replayed"), 5))
    t.inbound(6, f"{t.label}: seq 6 after the replay is delivered")
    twice = t.encrypt(t.inner(b"sent twice"), 7)
    t.expect_drop("seq 7 sent twice back to back (likely one receive burst): the second copy", "esp_replayed",
                  [twice, twice], delivered=[b"sent twice"])

    # The window holds the highest number received and the 1023 below it (RFC 4303 §3.4.3).
    t.inbound(2000, f"{t.label}: a jump to seq 2000 is delivered")
    t.expect_drop("seq 1 after seq 2000 (left of the 1024-packet window)", "esp_too_old",
                  t.encrypt(t.inner(b"too old"), 1))
    t.expect_drop("seq 976 after 2000 (just left of the window)", "esp_too_old",
                  t.encrypt(t.inner(b"too old"), 976))
    t.inbound(977, f"{t.label}: seq 977, never seen and the oldest the window holds (2000-1023), is delivered")
    t.inbound(1500, f"{t.label}: seq 1500, inside the window and never seen, is delivered")

    esp = t.esp_bytes(2001, t.inner(b"forged icv"))
    t.expect_drop("seq 2001 with its ICV altered", "esp_auth_failed", t.wrap(flip(esp, len(esp) - 1)))
    t.inbound(2001, f"{t.label}: the genuine seq 2001 after the forged one is delivered")
    esp = t.esp_bytes(2002, t.inner(b"forged ciphertext"))
    t.expect_drop(f"seq 2002 with a ciphertext byte altered ({kind})", "esp_auth_failed",
                  t.wrap(flip(esp, 8 + iv + 5)))
    t.inbound(2002, f"{t.label}: the genuine seq 2002 after the altered one is delivered")
    esp = t.esp_bytes(1000000, t.inner(b"forged far ahead"))
    t.expect_drop("seq 1000000 with its ICV altered", "esp_auth_failed", t.wrap(flip(esp, len(esp) - 1)))
    t.inbound(2003, f"{t.label}: seq 2003 is still delivered (the forged 1000000 did not slide the window)")

    esp = t.esp_bytes(2004, t.inner(b"unknown spi"))
    t.expect_drop("a packet for SPI 0x0bad0bad", "esp_unknown_spi",
                  t.wrap(struct.pack("!L", 0x0BAD0BAD) + esp[4:]), on_sa=False)
    t.inbound(2004, f"{t.label}: seq 2004 after the unknown SPI is delivered")

    esp = t.esp_bytes(2005, t.inner(b"truncated"))
    t.expect_drop(f"seq 2005 cut to header, IV and 4 bytes ({8 + iv + 4} of {len(esp)})", "esp_truncated",
                  t.wrap(esp[:8 + iv + 4]))
    t.inbound(2005, f"{t.label}: seq 2005 intact after the truncated one is delivered")

    esp = t.esp_bytes(2006, t.inner(b"bad length"))
    t.expect_drop("seq 2006 with ciphertext one byte short of its block multiple", "esp_bad_length",
                  t.wrap(esp[:-icv - 1] + esp[-icv:]))
    t.inbound(2006, f"{t.label}: seq 2006 whole after the short one is delivered")

    # Valid ICVs over trailers that are wrong (RFC 4303 §2.4: padding 1, 2, 3, ...). Each is
    # authenticated, so its number is spent (the window moves once the ICV verifies, §3.4.3).
    inner = t.inner(b"bad padding")
    pad_len = minimal_padding(inner) + (align if minimal_padding(inner) < 2 else 0)
    padding = bytes(range(1, pad_len)) + b"\x00"
    t.expect_drop(f"seq 2007 with a valid ICV over padding {padding.hex()}", "esp_bad_padding",
                  t.with_trailer(2007, inner, padding, pad_len))
    inner = t.inner(b"pad length too long")
    pad_len = minimal_padding(inner)
    t.expect_drop("seq 2008 with a valid ICV and a pad length of 250 in a short packet", "esp_bad_padding",
                  t.with_trailer(2008, inner, bytes(range(1, pad_len + 1)), 250))
    inner = Raw(b"\xa5" * 30)
    pad_len = minimal_padding(inner)
    t.expect_drop("seq 2009, a dummy packet (next header 59, RFC 4303 §2.6)", "esp_dummy_packet",
                  t.with_trailer(2009, inner, bytes(range(1, pad_len + 1)), pad_len, next_header=59))
    inner = t.inner(b"next header 41")
    pad_len = minimal_padding(inner)
    t.expect_drop("seq 2010 with next header 41 (IPv6) in an IPv4 tunnel", "esp_bad_next_header",
                  t.with_trailer(2010, inner, bytes(range(1, pad_len + 1)), pad_len, next_header=41))
    # More padding than the minimum is legal (up to 255 bytes, §2.4) and must be accepted.
    inner = t.inner(b"extra padding")
    pad_len = minimal_padding(inner) + 3 * align
    t.deliver(t.with_trailer(2011, inner, bytes(range(1, pad_len + 1)), pad_len), b"extra padding",
              f"{t.label}: seq 2011 with {pad_len} bytes of padding (more than needed) is delivered")

    t.expect_drop("seq 2012 whose inner source 10.9.9.9 is outside remote-net", "esp_selector_mismatch",
                  t.encrypt(t.inner(b"spoofed source", src="10.9.9.9"), 2012))
    t.expect_drop("seq 2013 whose inner destination 10.3.0.9 is outside local-net", "esp_selector_mismatch",
                  t.encrypt(t.inner(b"wrong destination", dst="10.3.0.9"), 2013))
    t.inbound(2014, f"{t.label}: seq 2014 after the selector mismatches is delivered")

    # Sequence number 0 is never sent (RFC 4303 §3.3.3: the first packet carries 1).
    esp = t.esp_bytes(2015, t.inner(b"seq zero"))
    t.expect_drop("sequence number 0", "esp_sequence_zero", t.wrap(esp[:4] + b"\0\0\0\0" + esp[8:]))
    t.inbound(2015, f"{t.label}: seq 2015 after seq 0 is delivered")
    t.counters_match()


def udp_tests(t):
    t.outbound()
    t.outbound()
    t.inbound(1)
    t.inbound(2)
    keepalive = IP(src=PEER, dst=GW) / UDP(sport=t.sa["udp"][1], dport=4500, chksum=0) / Raw(b"\xff")
    t.expect_drop("a NAT keepalive (one 0xff byte to UDP 4500, RFC 3948 §2.3)", "nat_keepalive", keepalive,
                  on_sa=False)
    t.inbound(3, f"{t.label}: seq 3 after the NAT keepalive is delivered")
    t.counters_match()


def esn_tests(t):
    t.outbound()
    t.outbound()
    # Across the 2^32 boundary: the gateway must infer the high half (RFC 4303 A2.2) and
    # include it in the ICV (CBC: appended, §3.3.2.1) or AAD (GCM: RFC 4106 §5). The first
    # packet comes just below 2^32, with nothing received yet; 0xfffffff5 arrives late,
    # after 2^32, so the gateway must take it from the subspace below (high half 0).
    for seq in (0xFFFFFFF0, 0xFFFFFFFF, 0x100000000, 0x100000001):
        t.inbound(seq)
    t.inbound(0xFFFFFFF5, f"{t.label}: seq 0xfffffff5, late after 0x100000001 and inside the window, "
                          f"is delivered (high half inferred as 0)")
    state = t.lab.sa_state(t.sa["in_spi"], "inbound")
    t.report.check(f"{t.label}: show ipsec sa has highest sequence 0x100000001",
                   [] if state.get("highest_sequence") == 0x100000001 else
                   [f"highest_sequence {state.get('highest_sequence')}"], [json.dumps(state)])
    t.expect_drop("0x100000000 again (a replay after the 2^32 boundary)", "esp_replayed",
                  t.encrypt(t.inner(b"esn replay"), 0x100000000))
    t.expect_drop("0xffffffff again (a replay from below the boundary)", "esp_replayed",
                  t.encrypt(t.inner(b"esn replay"), 0xFFFFFFFF))
    t.inbound(0x100000002, f"{t.label}: seq 0x100000002 after the replays is delivered")
    t.counters_match()


def run(args):
    with open(args.state) as f:
        sas = json.load(f)
    lab = Lab(args)
    report = Report()
    lab.gw_mac = lab.arp_gateway()
    if lab.gw_mac is None:
        report.not_ok(f"the gateway answers ARP for {GW}")
        return 3
    report.ok(f"the gateway answers ARP for {GW} with {lab.gw_mac}")
    tunnels = [Tunnel(lab, report, sa) for sa in sas]
    for t in tunnels:
        if t.sa["role"] == "algorithms":
            t.outbound()
            t.outbound()
            t.inbound(1)
            t.inbound(2)
            t.counters_match()
    # Bursts: several packets per receive burst, so several crypto jobs in flight at once.
    for t in tunnels:
        if t.sa["role"] == "algorithms":
            t.outbound_burst(40)
            t.inbound_burst(3, 40)
            t.counters_match()
    for t in tunnels:
        if t.sa["role"] == "udp":
            udp_tests(t)
    for t in tunnels:
        if t.sa["role"] == "esn":
            esn_tests(t)
    for t in tunnels:
        if t.sa["role"] == "drops":
            drop_tests(t)
    for t in tunnels:
        if t.sa["name"] in ("alg-aes-sha", "alg-3des-sha-256", "alg-aes-gcm-256", "natt-cbc"):
            t.path_mtu()
    # Every packet the gateway dropped, it dropped because a check meant it to.
    time.sleep(0.2)
    drops = {k: v for k, v in lab.drops().items() if v}
    report.check("the gateway's drop counters hold exactly the drops the checks caused "
                 f"({sum(lab.caused.values())})", [] if drops == lab.caused else
                 [f"{k}: {drops.get(k, 0)}, caused {lab.caused.get(k, 0)}" for k in sorted(set(drops) | set(lab.caused))
                  if drops.get(k, 0) != lab.caused.get(k, 0)])
    return 3 if report.failed else 0   # 3: ran to the end, some checks failed


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("config")
    c.add_argument("state")
    r = sub.add_parser("run")
    r.add_argument("state")
    r.add_argument("--netns-a", required=True)
    r.add_argument("--mbox", required=True)
    r.add_argument("--socket", required=True)
    args = p.parse_args()
    if args.command == "config":
        sas = plan()
        with open(args.state, "w") as f:
            json.dump(sas, f)
        sys.stdout.write(manual_sa_blocks(sas))
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
