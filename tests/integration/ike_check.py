#!/usr/bin/env python3
"""Assertions for the IKE interop tests over `mbox --json show ipsec status` and
swan.sh's `swan_sas_json` (strongSwan's list-sas as JSON). Exit 0 when the assertion
holds; otherwise exit 1 with the reason on stdout. A summary goes to stdout on success.

  ike_check.py up STATUS [PEER]            PEER established with at least one CHILD SA
  ike_check.py down STATUS [PEER]          PEER not established, no CHILD SA
  ike_check.py field STATUS PATH           print a value: e.g. ike.child_rekeys, peer.state,
                                           ike_sa.role, ike_sa.nat_local, child.udp_encapsulation
  ike_check.py pair STATUS SWAN [options]  both views of one tunnel agree (SPIs, states, counters)
      --role initiator|responder   mbox's role in the IKE SA
      --udp / --no-udp             the CHILD SA is (not) UDP-encapsulated on mbox's side
      --nat-local                  mbox saw a NAT on its side
      --dh NAME                    strongSwan's IKE dh-group (MODP_2048, ECP_256, CURVE_25519 ...)
      --ike-alg ENC/INTEG/PRF      strongSwan's IKE encr-alg[-keysize]/integ-alg/prf-alg
      --esp-alg ENC/INTEG          strongSwan's CHILD encr-alg[-keysize]/integ-alg ("" for AEAD)
      --remote-ts NETS             comma-separated: strongSwan's remote-ts
      --no-traffic                 do not require packet counters to be nonzero
      --children N                 N CHILD SAs (IKEv1: one per local-net x remote-net), each
                                   matched to strongSwan's by SPI; the checks above apply to each
  ike_check.py mboxpair STATUS_A STATUS_B  two mbox gateways agree on one tunnel
"""
import argparse
import json
import sys


def fail(msg):
    print(msg)
    sys.exit(1)


def load(path_or_text):
    text = path_or_text
    if not text.lstrip().startswith(("{", "[")):
        try:
            with open(path_or_text) as f:
                text = f.read()
        except OSError:
            fail(f"not JSON: {text[:300]!r}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        fail(f"not JSON ({e}): {text[:300]!r}")


def peer_of(status, name=None):
    peers = status.get("peers", [])
    if name:
        peers = [p for p in peers if p.get("peer") == name]
    if len(peers) != 1:
        fail(f"expected one peer{' ' + name if name else ''}, got {len(peers)}: {json.dumps(status)[:600]}")
    return peers[0]


def children(peer):
    return [c for s in peer.get("ike_sas", []) for c in s.get("child_sas", [])]


def established(peer):
    """The established IKE SAs (a half-open or deleting one is not a tunnel)."""
    return [s for s in peer.get("ike_sas", []) if s.get("state") == "established"]


def installed(ike_sa):
    """The installed CHILD SAs (a replaced one drains for a few seconds after a rekey)."""
    return [c for c in ike_sa.get("child_sas", []) if c.get("state") == "installed"]


def others(peer):
    """Text for the IKE and CHILD SAs that are neither established nor installed."""
    out = []
    for s in peer.get("ike_sas", []):
        if s.get("state") != "established":
            out.append(f"IKE SA {s.get('spi_i')}/{s.get('spi_r')} {s.get('role')} {s.get('state')}")
        for c in s.get("child_sas", []):
            if c.get("state") != "installed":
                out.append(f"CHILD SA {c.get('inbound_spi')} {c.get('state')}")
    return "; also " + ", ".join(out) if out else ""


def spi(text):
    return int(str(text), 16)


def cmd_up(a):
    p = peer_of(load(a.status), a.peer)
    if p.get("state") != "established" or not [c for s in established(p) for c in installed(s)]:
        fail(f"peer {p.get('peer')} is {p.get('state')!r} with {len(children(p))} CHILD SA(s)")
    print(f"{p['peer']} established, {len(p['ike_sas'])} IKE SA(s), {len(children(p))} CHILD SA(s)")


def cmd_down(a):
    p = peer_of(load(a.status), a.peer)
    if p.get("state") == "established" or children(p):
        fail(f"peer {p.get('peer')} is {p.get('state')!r} with {len(children(p))} CHILD SA(s)")
    print(f"{p['peer']} is {p.get('state')}")


def cmd_field(a):
    st = load(a.status)
    where, _, key = a.path.partition(".")
    if where in ("ike", "ikev1"):
        obj = st.get(where, {})
    elif where == "peer":
        obj = peer_of(st)
    elif where == "ike_sa":
        sas = established(peer_of(st)) or peer_of(st).get("ike_sas", [])
        obj = sas[0] if sas else {}
    elif where == "child":
        cs = [c for s in established(peer_of(st)) for c in installed(s)]
        obj = cs[0] if cs else {}
    else:
        fail(f"unknown path {a.path}")
    for k in key.split(".") if key else []:
        if not isinstance(obj, dict) or k not in obj:
            fail(f"no {a.path}")
        obj = obj[k]
    print(json.dumps(obj) if isinstance(obj, (dict, list, bool)) else obj)


def swan_alg(sa, enc_key="encr-alg", size_key="encr-keysize"):
    enc = sa.get(enc_key, "")
    if sa.get(size_key):
        enc += "-" + sa[size_key]
    return enc


def cmd_pair(a):
    st, sw = load(a.status), load(a.swan)
    p = peer_of(st, a.peer)
    if p.get("state") != "established":
        fail(f"mbox: peer {p.get('peer')} is {p.get('state')!r}")
    if len(established(p)) != 1:
        fail(f"mbox: {len(established(p))} established IKE SAs: {json.dumps(p['ike_sas'])}")
    m_ike = established(p)[0]
    if len(installed(m_ike)) != a.children:
        fail(f"mbox: {len(installed(m_ike))} installed CHILD SAs: {json.dumps(m_ike['child_sas'])}")
    s_est = [s for s in sw if s.get("state") == "ESTABLISHED"]
    if len(s_est) != 1:
        fail(f"strongSwan: {len(s_est)} ESTABLISHED IKE SAs: {json.dumps(sw)}")
    s_ike = s_est[0]
    s_installed = [c for c in s_ike["child-sas"] if c.get("state") == "INSTALLED"]
    if len(s_installed) != a.children:
        fail(f"strongSwan: {len(s_installed)} INSTALLED CHILD SAs: {json.dumps(s_ike['child-sas'])}")
    # IKE SPIs and roles
    if (spi(m_ike["spi_i"]), spi(m_ike["spi_r"])) != (spi(s_ike["initiator-spi"]), spi(s_ike["responder-spi"])):
        fail(f"IKE SPIs differ: mbox {m_ike['spi_i']}/{m_ike['spi_r']}, "
             f"strongSwan {s_ike['initiator-spi']}/{s_ike['responder-spi']}")
    swan_initiator = s_ike.get("initiator") == "yes"
    if (m_ike["role"] == "initiator") == swan_initiator:
        fail(f"both or neither initiated: mbox {m_ike['role']}, strongSwan initiator={swan_initiator}")
    if a.role and m_ike["role"] != a.role:
        fail(f"mbox is {m_ike['role']}, expected {a.role}")
    if a.nat_local and not m_ike.get("nat_local"):
        fail(f"mbox did not detect the NAT on its side: {json.dumps(m_ike)}")
    if a.dh and s_ike.get("dh-group") != a.dh:
        fail(f"strongSwan IKE dh-group {s_ike.get('dh-group')}, expected {a.dh}")
    if a.ike_alg:
        got = f"{swan_alg(s_ike)}/{s_ike.get('integ-alg', '')}/{s_ike.get('prf-alg', '')}"
        if got != a.ike_alg:
            fail(f"strongSwan IKE algorithms {got}, expected {a.ike_alg}")
    # ESP SPIs: mbox's inbound SPI is strongSwan's outbound and vice versa
    by_spi_out = {spi(c["spi-out"]): c for c in s_installed}
    summary = []
    for m_child in installed(m_ike):
        s_child = by_spi_out.get(spi(m_child["inbound_spi"]))
        if s_child is None or spi(m_child["outbound_spi"]) != spi(s_child["spi-in"]):
            fail(f"ESP SPIs differ: mbox in {m_child['inbound_spi']} out {m_child['outbound_spi']}, strongSwan "
                 + ", ".join(f"in {c['spi-in']} out {c['spi-out']}" for c in s_installed))
        summary.append(check_child(a, m_child, s_child))
    if a.remote_ts:
        want = sorted(a.remote_ts.split(","))
        got = sorted(ts for c in s_installed for ts in c.get("remote-ts", []))
        if got != want:
            fail(f"strongSwan remote-ts {got}, expected {want}")
    print(f"mbox {m_ike['role']} [{m_ike.get('algorithms')}], IKE SPIs {m_ike['spi_i']}/{m_ike['spi_r']}, "
          + "; ".join(summary) + others(p))


def check_child(a, m_child, s_child):
    """One CHILD SA pair's algorithms, encapsulation and counters; a summary."""
    if a.udp is not None and bool(m_child.get("udp_encapsulation")) != a.udp:
        fail(f"mbox CHILD SA udp_encapsulation={m_child.get('udp_encapsulation')}, expected {a.udp}")
    if a.esp_alg is not None:
        got = f"{swan_alg(s_child)}/{s_child.get('integ-alg', '')}"
        if got != a.esp_alg:
            fail(f"strongSwan ESP algorithms {got}, expected {a.esp_alg}")
    m_in, m_out = m_child["in"]["packets"], m_child["out"]["packets"]
    s_in, s_out = int(s_child.get("packets-in", 0)), int(s_child.get("packets-out", 0))
    if not a.no_traffic and not (m_in and m_out and s_in and s_out):
        fail(f"packet counters: mbox in {m_in} out {m_out}, strongSwan in {s_in} out {s_out}")
    return (f"ESP [{m_child.get('algorithms')}] {','.join(s_child.get('remote-ts', []))} SPIs mbox-in "
            f"{m_child['inbound_spi']} mbox-out {m_child['outbound_spi']}, packets mbox in/out {m_in}/{m_out}, "
            f"strongSwan in/out {s_in}/{s_out}")


def cmd_mboxpair(a):
    sa, sb = load(a.status_a), load(a.status_b)
    pa, pb = peer_of(sa), peer_of(sb)
    for name, p in (("A", pa), ("B", pb)):
        if p.get("state") != "established" or len(established(p)) != 1 or len(installed(established(p)[0])) != 1:
            fail(f"gateway {name}: {p.get('state')}, {len(established(p))} established IKE SA(s): "
                 f"{json.dumps(p)[:1200]}")
    ia, ib = established(pa)[0], established(pb)[0]
    if (spi(ia["spi_i"]), spi(ia["spi_r"])) != (spi(ib["spi_i"]), spi(ib["spi_r"])):
        fail(f"IKE SPIs differ: {ia['spi_i']}/{ia['spi_r']} vs {ib['spi_i']}/{ib['spi_r']}")
    if {ia["role"], ib["role"]} != {"initiator", "responder"}:
        fail(f"roles {ia['role']} / {ib['role']}")
    ca, cb = installed(ia)[0], installed(ib)[0]
    if spi(ca["inbound_spi"]) != spi(cb["outbound_spi"]) or spi(ca["outbound_spi"]) != spi(cb["inbound_spi"]):
        fail(f"ESP SPIs differ: A in {ca['inbound_spi']} out {ca['outbound_spi']}, "
             f"B in {cb['inbound_spi']} out {cb['outbound_spi']}")
    if ca.get("udp_encapsulation") or cb.get("udp_encapsulation"):
        fail("a CHILD SA is UDP-encapsulated without a NAT")
    print(f"A {ia['role']}, IKE SPIs {ia['spi_i']}/{ia['spi_r']}, ESP A->B {ca['outbound_spi']} B->A {ca['inbound_spi']}, "
          f"A out {ca['out']['packets']} in {ca['in']['packets']}, B out {cb['out']['packets']} in {cb['in']['packets']}"
          f"{others(pa)}{others(pb)}")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("up", "down"):
        s = sub.add_parser(name)
        s.add_argument("status")
        s.add_argument("peer", nargs="?")
    s = sub.add_parser("field")
    s.add_argument("status")
    s.add_argument("path")
    s = sub.add_parser("pair")
    s.add_argument("status")
    s.add_argument("swan")
    s.add_argument("--peer")
    s.add_argument("--role", choices=["initiator", "responder"])
    s.add_argument("--udp", dest="udp", action="store_true", default=None)
    s.add_argument("--no-udp", dest="udp", action="store_false")
    s.add_argument("--nat-local", action="store_true")
    s.add_argument("--dh")
    s.add_argument("--ike-alg")
    s.add_argument("--esp-alg")
    s.add_argument("--remote-ts")
    s.add_argument("--no-traffic", action="store_true")
    s.add_argument("--children", type=int, default=1)
    s = sub.add_parser("mboxpair")
    s.add_argument("status_a")
    s.add_argument("status_b")
    a = ap.parse_args()
    {"up": cmd_up, "down": cmd_down, "field": cmd_field, "pair": cmd_pair, "mboxpair": cmd_mboxpair}[a.cmd](a)


if __name__ == "__main__":
    main()
