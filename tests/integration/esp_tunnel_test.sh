#!/usr/bin/env bash
# Two mbox gateways joined by a manually keyed ESP tunnel (raw ESP, then UDP 4500),
# each with a LAN host behind it. Prints TAP.
#
#   host A 10.1.0.2 -- [lan0 gwA wan0] 198.51.100.1 ==== 198.51.100.2 [wan0 gwB lan0] -- host B 10.2.0.2
#
#   esp_tunnel_test.sh [BUILD_DIR]   (ESP_ALGORITHMS="AES-256 SHA-256" by default)
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export LAB_BUILD=${1:-$root/build}
source "$root/scripts/lab.sh"
algorithms=${ESP_ALGORITHMS:-AES-256 SHA-256}

source "$here/tap.sh"
finish() {
  if ((failed)); then
    for g in gwa gwb; do
      [[ -f $LAB_RUN/$g.log ]] && { echo "# $g log:"; sed 's/^/#   /' "$LAB_RUN/$g.log"; }
      [[ -S $LAB_RUN/$g.sock ]] && { echo "# $g show ipsec sa:"; "$LAB_BUILD/mbox" --socket "$LAB_RUN/$g.sock" show ipsec sa | sed 's/^/#   /'; }
      [[ -S $LAB_RUN/$g.sock ]] && { echo "# $g counters:"; "$LAB_BUILD/mbox" --socket "$LAB_RUN/$g.sock" show dataplane counters | sed 's/^/#   /'; }
    done
  fi
  lab_down
  echo "1..$n"
  ((failed == 0)) || exit 1
}

lab_init "mbe$$"
trap finish EXIT
NS_GWA=$LAB_PREFIX-gwa NS_GWB=$LAB_PREFIX-gwb
lab_namespace "$LAB_NS_A"; lab_namespace "$LAB_NS_B"; lab_namespace "$NS_GWA"; lab_namespace "$NS_GWB"
lab_veth "$NS_GWA" lan0 "$LAB_NS_A" eth0
lab_veth "$NS_GWB" lan0 "$LAB_NS_B" eth0
lab_veth "$NS_GWA" wan0 "$NS_GWB" wan0
ip -n "$LAB_NS_A" addr add 10.1.0.2/24 dev eth0; ip -n "$LAB_NS_A" route add default via 10.1.0.1
ip -n "$LAB_NS_B" addr add 10.2.0.2/24 dev eth0; ip -n "$LAB_NS_B" route add default via 10.2.0.1

key() { openssl rand -hex "$1"; }
read -r enc auth <<<"$algorithms"
case $enc in
  3DES|AES-192) enc_len=24 ;; AES) enc_len=16 ;; AES-256) enc_len=32 ;;
  AES-GCM-128) enc_len=20 ;; AES-GCM-256) enc_len=36 ;;
esac
case ${auth:-} in
  MD5|MD5-128) auth_len=16 ;; SHA) auth_len=20 ;; SHA-256) auth_len=32 ;; SHA-512) auth_len=64 ;; *) auth_len=0 ;;
esac
k_ab=$(key $enc_len) k_ba=$(key $enc_len)
a_ab=$( ((auth_len)) && key $auth_len) a_ba=$( ((auth_len)) && key $auth_len)
auth_ab=${auth:+ auth-key 0x$a_ab} auth_ba=${auth:+ auth-key 0x$a_ba}

gateway_config() {  # NAME WAN_ADDR PEER LAN_ADDR LOCAL_NET REMOTE_NET IN_SPI IN_KEYS OUT_SPI OUT_KEYS UDP
  cat <<CONF
interface eth0
 dpdk-device net_af_packet1,iface=wan0
 ip address $2/24
 enable
!
interface eth1
 dpdk-device net_af_packet0,iface=lan0
 ip address $4/24
 enable
!
! traffic for the remote network is routed towards the peer, then matched by the SA's policy
ip route $6 nexthop $3
!
ipsec manual-sa $1
 local ip $2
 peer $3
 local-net $5
 remote-net $6
 esp $algorithms
 inbound spi $7 $8
 outbound spi $9 ${10}
${11}
!
ipsec start
CONF
}

# ICMP from host A seen on gateway B's side of the WAN link while `ping` runs from A to
# B: gateway A's own transmissions are visible there (not on A's side, see below).
clear_pings_seen() {  # clear_pings_seen PCAP_NAME
  ip netns exec "$NS_GWB" tcpdump -i wan0 -U -w "$LAB_RUN/$1" icmp and src host 10.1.0.2 >/dev/null 2>&1 &
  local dump=$!
  sleep 1
  lab_in a ping -c 3 -i 0.2 -W 1 10.2.0.2 >/dev/null 2>&1
  sleep 0.5
  kill -INT "$dump" 2>/dev/null; wait "$dump" 2>/dev/null
  tshark -r "$LAB_RUN/$1" 2>/dev/null | wc -l
}

# `ipsec stop` on A: the tunnel's traffic is dropped and counted (ipsec_stopped), never
# routed in the clear; `ipsec stopped-traffic forward` (applied with `mbox configure`)
# routes it in the clear. (B keeps its SA: A's restarted SA would begin again at
# sequence number 1, under B's replay window, so the tunnel is not brought back.)
stopped_tunnel() {  # stopped_tunnel LABEL
  local label=$1 clear counters
  "$LAB_BUILD/mbox" --socket "$LAB_RUN/gwa.sock" ipsec stop >/dev/null
  clear=$(clear_pings_seen stopped.pcap)
  counters=$("$LAB_BUILD/mbox" --socket "$LAB_RUN/gwa.sock" --json show dataplane counters)
  if ((clear == 0)) && /usr/bin/python3 - "$counters" <<'PY'
import json, sys
c = json.loads(sys.argv[1])
assert c["drops"]["ipsec_stopped"] >= 3, c["drops"]
PY
  then ok "$label: ipsec stopped on A: pings to B's network dropped as ipsec_stopped, none in the clear"
  else not_ok "$label: ipsec stopped drops the tunnel's traffic" "in the clear: $clear" "$counters"; fi

  sed 's/^ipsec start$/ipsec stopped-traffic forward\nipsec stop/' "$LAB_RUN/gwa.conf" >"$LAB_RUN/gwa-forward.conf"
  local out
  out=$("$LAB_BUILD/mbox" --socket "$LAB_RUN/gwa.sock" configure "$LAB_RUN/gwa-forward.conf" 2>&1)
  clear=$(clear_pings_seen forward.pcap)
  if ((clear >= 3)); then ok "$label: with ipsec stopped-traffic forward the pings leave in the clear ($clear seen)"
  else not_ok "$label: ipsec stopped-traffic forward routes the tunnel's traffic in the clear" "seen: $clear" "$out"; fi
}

run_tunnel() {  # run_tunnel LABEL UDP_LINE
  local label=$1 udp=$2
  gateway_config a-to-b 198.51.100.1 198.51.100.2 10.1.0.1 10.1.0.0/24 10.2.0.0/24 \
    0x1001 "enc-key 0x$k_ba$auth_ba" 0x2001 "enc-key 0x$k_ab$auth_ab" "$udp" >"$LAB_RUN/gwa.conf"
  gateway_config b-to-a 198.51.100.2 198.51.100.1 10.2.0.1 10.2.0.0/24 10.1.0.0/24 \
    0x2001 "enc-key 0x$k_ab$auth_ab" 0x1001 "enc-key 0x$k_ba$auth_ba" "$udp" >"$LAB_RUN/gwb.conf"
  if ! lab_start_mboxd "$NS_GWA" "$LAB_RUN/gwa.conf" "$LAB_RUN/gwa.sock" gwa ||
     ! lab_start_mboxd "$NS_GWB" "$LAB_RUN/gwb.conf" "$LAB_RUN/gwb.sock" gwb; then
    not_ok "$label: both gateways start"
    return
  fi
  ok "$label: both gateways start ($algorithms)"

  ip netns exec "$NS_GWA" tcpdump -i wan0 -B 32768 -U -w "$LAB_RUN/wan.pcap" >/dev/null 2>&1 &
  local dump=$!
  sleep 1
  check "$label: host A pings host B through the tunnel" lab_in a ping -c 5 -i 0.2 -W 2 10.2.0.2
  check "$label: host B pings host A through the tunnel" lab_in b ping -c 3 -i 0.2 -W 2 10.1.0.2

  # 1500-byte packets: encapsulated they exceed the WAN MTU. Without DF the gateway
  # fragments the outer ESP packet (RFC 4303 §3.3.5) and the peer reassembles it; with
  # DF the sender gets ICMP fragmentation-needed with the tunnel's MTU. (Forget any path
  # MTU learned in an earlier run first: the host would fragment by itself.)
  lab_in a ip route flush cache
  check "$label: 1500-byte ping without DF crosses the tunnel (outer packet fragmented)" \
    lab_in a ping -c 3 -i 0.2 -W 2 -s 1472 -M dont 10.2.0.2
  local pmtu
  pmtu=$(lab_in a ping -c 1 -W 2 -s 1472 -M do 10.2.0.2 2>&1)
  if [[ $pmtu =~ From\ 10\.1\.0\.1\ .*Frag\ needed.*mtu\ =\ ([0-9]+) ]] &&
     ((BASH_REMATCH[1] >= 1400 && BASH_REMATCH[1] < 1500)); then
    ok "$label: 1500-byte ping with DF gets fragmentation-needed from 10.1.0.1 (mtu ${BASH_REMATCH[1]})"
  else
    not_ok "$label: 1500-byte ping with DF gets fragmentation-needed from 10.1.0.1" "$pmtu"
  fi
  # TTL 2 from B: gateway B forwards it into the tunnel with TTL 1, gateway A cannot
  # forward it further. A's time-exceeded must come back through the tunnel, from A's
  # LAN address (in the SA's local network), never in the clear from its WAN address.
  local out
  out=$(lab_in b ping -c 1 -t 2 -W 2 10.1.0.2 2>&1)
  if grep -q "From 10.1.0.1 .*Time to live exceeded" <<<"$out"; then
    ok "$label: time-exceeded for a tunnelled packet returns through the tunnel from 10.1.0.1"
  else
    not_ok "$label: time-exceeded for a tunnelled packet returns through the tunnel" "$out"
  fi

  if lab_tcp_transfer 52428800 10.2.0.2; then
    ok "$label: 50 MB TCP A -> B through the tunnel arrives intact"
  else
    not_ok "$label: 50 MB TCP A -> B through the tunnel arrives intact" "sent: $LAB_SENT" "received: $LAB_RECEIVED"
  fi
  sleep 0.5
  kill -INT "$dump" 2>/dev/null; wait "$dump" 2>/dev/null

  # On the WAN link: ESP (or ESP in UDP 4500) and ARP only; no inner address in the clear.
  # tshark shows a datagram's last fragment as the reassembled packet and the others as
  # bare fragments: those count as tunnel traffic when they carry ESP or UDP.
  local wire_filter plain esp
  local fragment="(ip.flags.mf == 1 || ip.frag_offset > 0)"
  if [[ -n $udp ]]; then wire_filter="udp.port == 4500 && esp"; else wire_filter="ip.proto == 50"; fi
  esp=$(tshark -r "$LAB_RUN/wan.pcap" -Y "$wire_filter" 2>/dev/null | wc -l)
  plain=$(tshark -r "$LAB_RUN/wan.pcap" -Y "!($wire_filter) && !arp && !($fragment && ip.proto in {17 50})" 2>/dev/null | wc -l)
  # A capture on gateway A's side of the link does not see A's own transmissions
  # (af_packet TX), but it sees B's: the 1500-byte echo replies (Linux sends them
  # without DF) leave gateway B as outer fragments, and gateway A took them back.
  local fragments
  fragments=$(tshark -r "$LAB_RUN/wan.pcap" -Y "$fragment && ip.src == 198.51.100.2 && ip.flags.df == 0" 2>/dev/null | wc -l)
  if ((fragments >= 6)); then
    ok "$label: the gateway fragments oversized outer packets, DF clear ($fragments fragments from B)"
  else
    not_ok "$label: the gateway fragments oversized outer packets" "fragments from 198.51.100.2: $fragments"
  fi
  if ((esp > 1000 && plain == 0)); then
    ok "$label: the WAN capture holds only ESP ($esp packets) and ARP"
  else
    not_ok "$label: the WAN capture holds only ESP and ARP" "esp $esp, other $plain" \
      "$(tshark -r "$LAB_RUN/wan.pcap" -Y "!($wire_filter) && !arp" 2>/dev/null | head -5)"
  fi
  # Outer DF: copied from the inner header by default (Linux TCP sets DF), always clear
  # with `df-bit clear`.
  local df_set
  df_set=$(tshark -r "$LAB_RUN/wan.pcap" -Y "($wire_filter) && ip.flags.df == 1" 2>/dev/null | wc -l)
  if [[ $udp == *"df-bit clear"* ]]; then
    ((df_set == 0)) && ok "$label: df-bit clear: no outer packet has DF" || not_ok "$label: df-bit clear" "$df_set with DF"
  else
    ((df_set > 1000)) && ok "$label: DF copied from the inner TCP packets ($df_set outer packets with DF)" \
      || not_ok "$label: DF copied to the outer header" "$df_set with DF"
  fi
  local sa
  sa=$("$LAB_BUILD/mbox" --socket "$LAB_RUN/gwb.sock" --json show ipsec sa)
  if /usr/bin/python3 - "$sa" <<'PY'
import json, sys
sas = json.loads(sys.argv[1])["sas"]
inbound = [s for s in sas if s["direction"] == "inbound"][0]
assert inbound["packets"] > 30000, inbound
assert not inbound["drops"], inbound["drops"]
PY
  then ok "$label: gateway B decrypted every packet with no drop"; else not_ok "$label: gateway B's inbound SA" "$sa"; fi
  local counters
  counters=$("$LAB_BUILD/mbox" --socket "$LAB_RUN/gwa.sock" --json show dataplane counters)
  if /usr/bin/python3 - "$counters" <<'PY'
import json, sys
c = json.loads(sys.argv[1])
assert c["fragmented"] >= 3 and c["fragments_created"] >= 2 * c["fragmented"], c
PY
  then ok "$label: gateway A counted the packets it fragmented"; else not_ok "$label: gateway A's fragment counters" "$counters"; fi

  if ((${LAB_EXPECT_WORKERS:-1} > 1)); then
    # Many flows from A: RSS spreads them over gateway A's workers, all for one SA. The
    # owner numbers them, so B's replay window sees them in order and drops none.
    lab_in b /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.2.0.2", 7000)); s.settimeout(3)
n = 0
try:
    while True:
        s.recvfrom(2048); n += 1
except socket.timeout:
    pass
print(n)' >"$LAB_RUN/udp.txt" &
    local listener=$!
    sleep 0.3
    lab_in a /usr/bin/python3 -c '
import socket, time
for port in range(41000, 41064):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("10.1.0.2", port))
    for _ in range(10):
        s.sendto(b"x" * 200, ("10.2.0.2", 7000))
    s.close()
    time.sleep(0.002)'
    wait "$listener"
    local got counters
    got=$(cat "$LAB_RUN/udp.txt")
    counters=$("$LAB_BUILD/mbox" --socket "$LAB_RUN/gwa.sock" --json show dataplane counters)
    sa=$("$LAB_BUILD/mbox" --socket "$LAB_RUN/gwb.sock" --json show ipsec sa)
    if [[ $got == 640 ]] && /usr/bin/python3 - "$counters" "$sa" <<'PY'
import json, sys
c, sas = json.loads(sys.argv[1]), json.loads(sys.argv[2])["sas"]
assert all(w["rx_packets"] > 0 for w in c["per_worker"]), c["per_worker"]
assert c["handed_off"] > 0, c["handed_off"]
inbound = [s for s in sas if s["direction"] == "inbound"][0]
assert not inbound["drops"], inbound["drops"]
PY
    then ok "$label: 64 flows over ${LAB_EXPECT_WORKERS} workers, one SA: all 640 arrive, handed to the owner, no replay drop"
    else not_ok "$label: one SA fed by several workers" "received $got of 640" "$counters" "$sa"; fi
  fi
  [[ -z $udp ]] && stopped_tunnel "$label"
  lab_stop_gateway
}

run_tunnel "raw ESP" ""
run_tunnel "UDP-encapsulated ESP" " udp-encap 4500 4500
 df-bit clear"
