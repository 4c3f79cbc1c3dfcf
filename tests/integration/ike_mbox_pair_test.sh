#!/usr/bin/env bash
# Two mboxd joined directly, keyed by their own IKEv2 engines (no strongSwan, no NAT: raw
# ESP, IP protocol 50). Both initiate on `ipsec start`; one tunnel must result. Prints TAP.
# IKE_VERSION=1: the same with IKEv1 (`version 1` ike-policies), where both initiators'
# SAs stay and the check is that they pair up. IKE_MODE=aggressive (with IKE_VERSION=1):
# A initiates aggressive mode as gwa.example.com, and B knows it only as `ipsec peer any
# remote-id gwa.example.com`, as a hub knows a branch whose address it cannot know.
#
#   hostA 10.1.0.2 -- lan0 [gwA 10.1.0.1 | 198.51.100.1] wan0 ==== wan0 [198.51.100.2 | 10.2.0.1 gwB] lan0 -- 10.2.0.2 hostB
#
#   ike_mbox_pair_test.sh [BUILD_DIR]
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export LAB_BUILD=${1:-$root/build}
source "$here/tap.sh"
source "$root/scripts/lab.sh"
source "$here/swan.sh"
source "$here/ike_lab.sh"

finish() {
  if ((failed)); then
    for g in gwa gwb; do
      [[ -S $LAB_RUN/$g.sock ]] && { echo "# $g show ipsec peer:"; MB_SOCKET_OVERRIDE=$LAB_RUN/$g.sock mb show ipsec peer 2>&1 | sed 's/^/#   /'; }
      [[ -S $LAB_RUN/$g.sock ]] && { echo "# $g show ipsec log:"; MB_SOCKET_OVERRIDE=$LAB_RUN/$g.sock mb show ipsec log 2>&1 | tail -30 | sed 's/^/#   /'; }
      [[ -f $LAB_RUN/$g.log ]] && { echo "# $g stderr:"; tail -n 40 "$LAB_RUN/$g.log" | sed 's/^/#   /'; }
    done
  fi
  swan_cleanup
  lab_down
  echo "1..$n"
  ((failed == 0)) || exit 1
}
ike_init "ikp$$"
trap finish EXIT
SOCK_A=$LAB_RUN/gwa.sock SOCK_B=$LAB_RUN/gwb.sock
NS_GA=$LAB_PREFIX-gwa NS_GB=$LAB_PREFIX-gwb
t_start=$(swan_now_ms)

for ns in "$NS_HA" "$NS_GA" "$NS_GB" "$NS_HB"; do lab_namespace "$ns"; done
lab_veth "$NS_GA" lan0 "$NS_HA" eth0
lab_veth "$NS_GA" wan0 "$NS_GB" wan0
lab_veth "$NS_GB" lan0 "$NS_HB" eth0
ip -n "$NS_HA" addr add 10.1.0.2/24 dev eth0; ip -n "$NS_HA" route add default via 10.1.0.1
ip -n "$NS_HB" addr add 10.2.0.2/24 dev eth0; ip -n "$NS_HB" route add default via 10.2.0.1

mode_a=() mode_b=()
if [[ ${IKE_MODE:-main} == aggressive ]]; then
  mode_a=(peer_extra=" local-id gwa.example.com
 mode aggressive")
  mode_b=(peer="any remote-id gwa.example.com")
fi
conf_a=$(mbox_conf ike="AES-256 SHA-256 14" esp="AES-GCM-256 19" version="${IKE_VERSION:-2}" "${mode_a[@]}")
conf_b=$(mbox_conf ike="AES-256 SHA-256 14" esp="AES-GCM-256 19" version="${IKE_VERSION:-2}" wan=198.51.100.2/24 peer=198.51.100.1 \
  local_ip=198.51.100.2 local_nets=10.2.0.0/24 remote_nets=10.1.0.0/24 lan_addrs=10.2.0.1/24 \
  routes="10.1.0.0/24 198.51.100.1" "${mode_b[@]}")
if mb_start gwa "$conf_a" "$NS_GA" "$SOCK_A" && mb_start gwb "$conf_b" "$NS_GB" "$SOCK_B"; then
  ok "both gateways start (IKE AES-256 SHA-256 14, ESP AES-GCM-256 PFS 19)"
else
  not_ok "both gateways start"; exit 1
fi
t0=$(swan_now_ms)
if out=$(mb_wait_up 20 "$SOCK_A") && out=$(mb_wait_up 10 "$SOCK_B"); then
  ok "both established ($(( $(swan_now_ms) - t0 )) ms after the second gateway started)"
else
  not_ok "both established" "$out"
fi
sleep 3   # both initiated: a duplicate IKE SA, if any, is deleted by now

ip netns exec "$NS_GB" tcpdump -i wan0 -B 32768 -U -w "$LAB_RUN/wan.pcap" >/dev/null 2>&1 &
dump=$!
sleep 1
check "hostA pings hostB through the tunnel" ping_ab 5
check "hostB pings hostA through the tunnel" ping_ba 3
if lab_tcp_transfer 52428800 10.2.0.2; then
  ok "50 MB TCP hostA -> hostB through the tunnel arrives intact ($LAB_RECEIVED)"
else
  not_ok "50 MB TCP hostA -> hostB arrives intact" "sent: $LAB_SENT" "received: $LAB_RECEIVED"
fi
sleep 0.5
kill -INT "$dump" 2>/dev/null; wait "$dump" 2>/dev/null

st_a=$(MB_SOCKET_OVERRIDE=$SOCK_A mb_status) st_b=$(MB_SOCKET_OVERRIDE=$SOCK_B mb_status)
sa_a=$(MB_SOCKET_OVERRIDE=$SOCK_A mb --json show ipsec sa 2>&1) sa_b=$(MB_SOCKET_OVERRIDE=$SOCK_B mb --json show ipsec sa 2>&1)
if [[ ${IKE_VERSION:-2} == 1 ]]; then
  # IKEv1 holds both initiators' ISAKMP SAs and phase 2s for a while when both sides
  # initiate at once (their clean-up is checked below), so the check is that the SAs pair up:
  # every outbound SA of one gateway is an inbound SA of the other, none decrypts with
  # a drop, and the traffic went through one such pair.
  if out=$(/usr/bin/python3 - "$sa_a" "$sa_b" <<'PY' 2>&1
import json, sys
a, b = (json.loads(x)["sas"] for x in sys.argv[1:])
def spis(sas, d): return {s["spi"] for s in sas if s["direction"] == d}
assert spis(a, "outbound") and spis(a, "outbound") <= spis(b, "inbound"), (a, b)
assert spis(b, "outbound") and spis(b, "outbound") <= spis(a, "inbound"), (a, b)
assert all(not s["drops"] for s in a + b if s["direction"] == "inbound"), [s for s in a + b if s["drops"]]
assert max(s["packets"] for s in b if s["direction"] == "inbound") > 30000, b
print(f'{len(spis(a, "outbound"))} outbound SA(s) on A, {len(spis(b, "outbound"))} on B')
PY
  ); then
    ok "IKEv1: every outbound SA is the other gateway's inbound SA, no inbound SA dropped anything ($out)"
  else
    not_ok "IKEv1: the two gateways' SAs pair up" "$out"
  fi
elif out=$("${IKE_CHECK[@]}" mboxpair "$st_a" "$st_b" 2>&1); then
  ok "one IKE SA and one CHILD SA on each side, SPIs match, no UDP encapsulation ($out)"
else
  not_ok "both gateways agree on one tunnel" "$out"
fi
if out=$(/usr/bin/python3 - "$st_a" "$st_b" <<'PY' 2>&1
import json, sys
# Summed over the peer's CHILD SAs: one with IKEv2; IKEv1 may hold both initiators'.
def total(status):
    children = [c for i in json.loads(status)["peers"][0]["ike_sas"] for c in i["child_sas"]]
    return {d: {"packets": sum(c[d]["packets"] for c in children)} for d in ("in", "out")}
a, b = (total(x) for x in sys.argv[1:])
assert a["out"]["packets"] > 30000 and b["in"]["packets"] > 30000, (a, b)
assert b["out"]["packets"] > 1000 and a["in"]["packets"] > 1000, (a, b)
print(f'A out {a["out"]["packets"]} / B in {b["in"]["packets"]}, B out {b["out"]["packets"]} / A in {a["in"]["packets"]}')
PY
); then
  ok "the CHILD SA counters carry the transfer ($out)"
else
  not_ok "the CHILD SA counters carry the transfer" "$out"
fi
# Gateway B's inbound SA (the IKE-installed one) decrypted without an integrity or replay drop.
if [[ ${IKE_VERSION:-2} == 1 ]]; then
  :  # checked above with the SA pairs
elif out=$(/usr/bin/python3 - "$sa_b" <<'PY' 2>&1
import json, sys
sas = json.loads(sys.argv[1])["sas"]
inbound = [s for s in sas if s["direction"] == "inbound"]
assert len(inbound) == 1, sas
assert not inbound[0]["drops"], inbound[0]["drops"]
print(f'{inbound[0]["packets"]} packets')
PY
); then
  ok "gateway B's inbound SA decrypted everything it got, no drop ($out)"
else
  not_ok "gateway B's inbound SA has no drops" "$out"
fi
lost=$(/usr/bin/python3 - "$st_a" "$st_b" <<'PY' 2>&1
import json, sys
def total(status, d):
    return sum(c[d]["packets"] for i in json.loads(status)["peers"][0]["ike_sas"] for c in i["child_sas"])
print(total(sys.argv[1], "out") - total(sys.argv[2], "in"))
PY
)
echo "# packets A sent on its SAs but B never decrypted (lost between the two af_packet ports): ${lost//$'\n'/ }"
drops=$(MB_SOCKET_OVERRIDE=$SOCK_B mb --json show dataplane counters 2>&1 | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin).get("drops", {})
print({k: v for k, v in d.items() if v} if isinstance(d, dict) else d)' 2>&1)
echo "# gateway B data-plane drops: ${drops//$'\n'/ }"
# On the wire (gateway B's side of the link sees what A sent): ESP as IP protocol 50 only.
esp=$(tcpdump -n -r "$LAB_RUN/wan.pcap" 'ip proto 50' 2>/dev/null | wc -l)
udp=$(tcpdump -n -r "$LAB_RUN/wan.pcap" 'udp port 4500' 2>/dev/null | wc -l)
plain=$(tcpdump -n -r "$LAB_RUN/wan.pcap" 'net 10.0.0.0/8' 2>/dev/null | wc -l)
if ((esp > 1000 && udp == 0 && plain == 0)); then
  ok "on the WAN raw ESP (protocol 50, $esp packets from A), nothing on UDP 4500, no inner address in the clear"
else
  not_ok "on the WAN raw ESP only" "proto 50: $esp, udp/4500: $udp, plain: $plain"
fi

# ---- operations: re-applying the configuration, clear ipsec peer, ipsec stop -------------
shape() {  # "ISAKMP/IKE SAs:phase 2 SAs per SA" on gateway SOCK, e.g. "1:1"
  MB_SOCKET_OVERRIDE=$1 mb_status | /usr/bin/python3 -c '
import json, sys
sas = json.load(sys.stdin)["peers"][0]["ike_sas"]
print(f"{len(sas)}:" + ",".join(str(len(i["child_sas"])) for i in sas))' 2>/dev/null
}
if [[ ${IKE_VERSION:-2} == 1 ]]; then
  # Both initiated: the phase 2 both keep is the same (nonce rule), the other drains once
  # quiet (5 s), and the ISAKMP SA left empty goes 10 s after it was established.
  deadline=$(( $(swan_now_ms) + 25000 ))
  while (( $(swan_now_ms) < deadline )) && [[ $(shape "$SOCK_A") != 1:1 || $(shape "$SOCK_B") != 1:1 ]]; do sleep 0.5; done
  if [[ $(shape "$SOCK_A") == 1:1 && $(shape "$SOCK_B") == 1:1 ]]; then
    ok "IKEv1: the duplicates of both initiating are cleaned up: one ISAKMP SA with one phase 2 on each side"
  else
    not_ok "IKEv1: the duplicates are cleaned up" "A $(shape "$SOCK_A"), B $(shape "$SOCK_B")"
  fi
fi
spis() {  # the CHILD SAs' inbound,outbound SPIs on gateway SOCK, whichever IKE SA holds them
  MB_SOCKET_OVERRIDE=$1 mb_status | /usr/bin/python3 -c '
import json, sys
sas = json.load(sys.stdin)["peers"][0]["ike_sas"]
print(" ".join(c["inbound_spi"] + "," + c["outbound_spi"] for i in sas for c in i["child_sas"]))' 2>/dev/null
}
before=$(spis "$SOCK_A")
out=$(MB_SOCKET_OVERRIDE=$SOCK_A mb configure "$LAB_RUN/gwa.conf" 2>&1)
if [[ $out == *"0 changed"* && $(spis "$SOCK_A") == "$before" && -n $before ]]; then
  ok "configure with the same file: nothing renegotiated, the CHILD SA keeps its SPIs ($before)"
else
  not_ok "configure with the same file keeps the SAs" "$out" "before $before, after $(spis "$SOCK_A")"
fi
printf '%s\nip route 192.0.2.0/24 nexthop 198.51.100.2\n' "$conf_a" >"$LAB_RUN/gwa-route.conf"
out=$(MB_SOCKET_OVERRIDE=$SOCK_A mb configure "$LAB_RUN/gwa-route.conf" 2>&1)
if [[ $out == *"routes rebuilt"* && $(spis "$SOCK_A") == "$before" ]] && ping_ab 2 >/dev/null; then
  ok "configure with a new route: routes rebuilt, the tunnel untouched and carrying traffic"
else
  not_ok "configure with a new route leaves the tunnel alone" "$out" "after $(spis "$SOCK_A")"
fi
out=$(MB_SOCKET_OVERRIDE=$SOCK_A mb clear ipsec peer 198.51.100.2 2>&1)
if mb_wait_up 15 "$SOCK_A" >/dev/null && [[ -n $(spis "$SOCK_A") && $(spis "$SOCK_A") != "$before" ]] &&
   ping_ab 2 >/dev/null; then
  ok "clear ipsec peer: renegotiated with new SPIs ($(spis "$SOCK_A")), traffic flows"
else
  not_ok "clear ipsec peer renegotiates" "$out" "$(MB_SOCKET_OVERRIDE=$SOCK_A mb show ipsec log | tail -8)"
fi
out=$(MB_SOCKET_OVERRIDE=$SOCK_A mb ipsec stop 2>&1)
sleep 1
st_b=$(MB_SOCKET_OVERRIDE=$SOCK_B mb_status)
if [[ $st_b == *'"established": 0'* || $st_b == *'"established":0'* ]] &&
   [[ $(MB_SOCKET_OVERRIDE=$SOCK_B mb show ipsec log) == *"deleted by the peer"* ]]; then
  ok "ipsec stop on A: B received the DELETE and has no tunnel left"
else
  not_ok "ipsec stop on A deletes the tunnel on B" "$out" "$st_b"
fi
echo "# timing: pair test $(( ($(swan_now_ms) - t_start) / 1000 )) s"
