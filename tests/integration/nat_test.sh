#!/usr/bin/env bash
# Source NAT with VPN exemption: gateway A translates its LAN's Internet traffic to its
# WAN address (overload) while LAN-to-LAN traffic crosses a manually keyed ESP tunnel to
# gateway B with its private addresses (exempt). The "Internet" is a Linux router R that
# has no route to any 10.x network: a reply reaches host A only if A's gateway
# translated it back. Prints TAP.
#
#   host A 10.1.0.2 -- [lan0 gwA wan0] 198.51.100.1 -- 198.51.100.2 [R] 203.0.113.2 -- 203.0.113.1 [wan0 gwB lan0] -- host B 10.2.0.2
#                                                                    |
#                                                               192.0.2.1 -- server S 192.0.2.2
#
#   nat_test.sh [BUILD_DIR]   (LAB_LCORES / LAB_EXPECT_WORKERS as for the other lab tests)
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export LAB_BUILD=${1:-$root/build}
source "$root/scripts/lab.sh"
probe=$here/nat_probe.py

source "$here/tap.sh"
finish() {
  if ((failed)); then
    for g in gwa gwb; do
      [[ -f $LAB_RUN/$g.log ]] && { echo "# $g log:"; sed 's/^/#   /' "$LAB_RUN/$g.log"; }
      [[ -S $LAB_RUN/$g.sock ]] && for c in "show firewall snat" "show nat sessions" "show dataplane counters"; do
        echo "# $g $c:"
        "$LAB_BUILD/mbox" --socket "$LAB_RUN/$g.sock" $c | head -40 | sed 's/^/#   /'
      done
    done
  fi
  for pid in ${servers:-}; do kill "$pid" 2>/dev/null; done
  lab_down
  echo "1..$n"
  ((failed == 0)) || exit 1
}

lab_init "mbn$$"
trap finish EXIT
# Host B of lab.sh is the Internet server S here (lab_tcp_transfer sends from A to it).
NS_GWA=$LAB_PREFIX-gwa NS_GWB=$LAB_PREFIX-gwb NS_R=$LAB_PREFIX-r NS_HB=$LAB_PREFIX-hb
for ns in "$LAB_NS_A" "$LAB_NS_B" "$NS_GWA" "$NS_GWB" "$NS_R" "$NS_HB"; do lab_namespace "$ns"; done
lab_veth "$NS_GWA" lan0 "$LAB_NS_A" eth0
lab_veth "$NS_GWA" wan0 "$NS_R" ra
lab_veth "$NS_GWB" wan0 "$NS_R" rb
lab_veth "$NS_GWB" lan0 "$NS_HB" eth0
lab_veth "$NS_R" rs "$LAB_NS_B" eth0
ip -n "$LAB_NS_A" addr add 10.1.0.2/24 dev eth0; ip -n "$LAB_NS_A" route add default via 10.1.0.1
ip -n "$NS_HB" addr add 10.2.0.2/24 dev eth0; ip -n "$NS_HB" route add default via 10.2.0.1
ip -n "$NS_HB" addr add 10.9.0.2/32 dev eth0  # the partner network's host, reached through the second tunnel
ip -n "$LAB_NS_B" addr add 192.0.2.2/24 dev eth0; ip -n "$LAB_NS_B" route add default via 192.0.2.1
ip -n "$NS_R" addr add 198.51.100.2/24 dev ra
ip -n "$NS_R" addr add 203.0.113.2/24 dev rb
ip -n "$NS_R" addr add 192.0.2.1/24 dev rs
ip netns exec "$NS_R" sysctl -qw net.ipv4.ip_forward=1

key() { openssl rand -hex 20; }  # AES-GCM-128: 16-byte key + 4-byte salt
k_ab=$(key) k_ba=$(key) k2_ab=$(key) k2_ba=$(key)

gateway_config() {  # NAME WAN_ADDR WAN_NEXTHOP PEER LAN_ADDR LOCAL_NET REMOTE_NET IN_SPI IN_KEY OUT_SPI OUT_KEY [NAT LINES]
  cat <<CONF
interface eth0
 dpdk-device net_af_packet1,iface=wan0
 ip address $2/24
 enable
!
interface eth1
 dpdk-device net_af_packet0,iface=lan0
 ip address $5/24
 enable
!
ip route 0.0.0.0/0 nexthop $3
!
ipsec manual-sa $1
 local ip $2
 peer $4
 local-net $6
 remote-net $7
 esp AES-GCM-128
 inbound spi $8 enc-key 0x$9
 outbound spi ${10} enc-key 0x${11}
!
${12:-}
ipsec start
CONF
}

gateway_config a-to-b 198.51.100.1 198.51.100.2 203.0.113.1 10.1.0.1 10.1.0.0/24 10.2.0.0/24 \
  0x1001 "$k_ba" 0x2001 "$k_ab" \
  "! a second tunnel, to partner network 10.9.0.0/24, which sees the LAN as 172.16.0.1 only
ipsec manual-sa a-to-b-translated
 local ip 198.51.100.1
 peer 203.0.113.1
 local-net 172.16.0.0/24
 remote-net 10.9.0.0/24
 esp AES-GCM-128
 inbound spi 0x1002 enc-key 0x$k2_ba
 outbound spi 0x2002 enc-key 0x$k2_ab
!
firewall-snat 5 translate outbound eth0 src 10.1.0.0/24 dst 10.9.0.0/24 xsrc 172.16.0.1 remark \"NAT into a tunnel\"
firewall-snat 10 exempt outbound eth0 src 10.1.0.0/24 dst 10.2.0.0/24 remark \"bypass NAT for VPN tunnel\"
firewall-snat 20 overload outbound eth0 remark \"PAT all sources for Internet access\"
firewall-nat timeout udp 120" >"$LAB_RUN/gwa.conf"
gateway_config b-to-a 203.0.113.1 203.0.113.2 198.51.100.1 10.2.0.1 10.2.0.0/24 10.1.0.0/24 \
  0x2001 "$k_ab" 0x1001 "$k_ba" \
  "ipsec manual-sa b-to-a-translated
 local ip 203.0.113.1
 peer 198.51.100.1
 local-net 10.9.0.0/24
 remote-net 172.16.0.0/24
 esp AES-GCM-128
 inbound spi 0x2002 enc-key 0x$k2_ab
 outbound spi 0x1002 enc-key 0x$k2_ba
!
ip route 10.9.0.0/24 nexthop 10.2.0.2" >"$LAB_RUN/gwb.conf"

check "gateway A's configuration is valid, with no warning (the tunnel is exempt)" \
  bash -c "out=\$('$LAB_BUILD/mboxd' --check-config '$LAB_RUN/gwa.conf' 2>&1) && ! grep -q warning <<<\"\$out\" || { echo \"\$out\"; false; }"
if ! lab_start_mboxd "$NS_GWA" "$LAB_RUN/gwa.conf" "$LAB_RUN/gwa.sock" gwa ||
   ! lab_start_mboxd "$NS_GWB" "$LAB_RUN/gwb.conf" "$LAB_RUN/gwb.sock" gwb; then
  not_ok "both gateways start"
  exit 1
fi
ok "both gateways start"
gwa() { "$LAB_BUILD/mbox" --socket "$LAB_RUN/gwa.sock" "$@"; }

servers=""  # started with exec (not a shell function), so $! is the server itself
ip netns exec "$LAB_NS_B" /usr/bin/python3 "$probe" serve-udp 7000 & servers+=" $!"
ip netns exec "$LAB_NS_B" /usr/bin/python3 "$probe" serve-tcp 7001 & servers+=" $!"
ip netns exec "$NS_HB" /usr/bin/python3 "$probe" serve-udp 7000 & servers+=" $!"
ip netns exec "$NS_HB" /usr/bin/python3 "$probe" serve-udp 7002 10.9.0.2 & servers+=" $!"  # replies from 10.9.0.2
ip netns exec "$NS_R" tcpdump -i ra -B 32768 -U -w "$LAB_RUN/wan.pcap" >/dev/null 2>"$LAB_RUN/tcpdump.err" &
dump=$!
for _ in $(seq 1 50); do grep -q "listening on" "$LAB_RUN/tcpdump.err" 2>/dev/null && break; sleep 0.1; done
sleep 0.5

# ---- the Internet through PAT ----
check "host A pings the Internet server through PAT" lab_in a ping -c 3 -i 0.2 -W 2 192.0.2.2
out=$(lab_in a /usr/bin/python3 "$probe" ask-udp 192.0.2.2 7000 40000 2>&1)
[[ $out == "198.51.100.1:40000" ]] && ok "UDP arrives from the WAN address with its port kept (40000) and the reply returns" \
  || not_ok "UDP through PAT" "server saw: $out"
out=$(lab_in a /usr/bin/python3 "$probe" ask-tcp 192.0.2.2 7001 2>&1)
[[ $out == 198.51.100.1:* ]] && ok "TCP arrives from the WAN address ($out) and the connection completes" \
  || not_ok "TCP through PAT" "server saw: $out"
if lab_tcp_transfer 10485760 192.0.2.2; then
  ok "10 MB TCP A -> server through PAT arrives intact"
else
  not_ok "10 MB TCP A -> server through PAT arrives intact" "sent: $LAB_SENT" "received: $LAB_RECEIVED"
fi

# ---- traceroute-style probes ----
out=$(lab_in a /usr/bin/python3 "$probe" ttl-probe 192.0.2.2 2 33434 2>&1)
[[ $out == "from=198.51.100.2 type=11 code=0 quoted_src=10.1.0.2 quoted_sport=33434" ]] \
  && ok "time-exceeded from the router past the gateway reaches A, quoting A's own address and port" \
  || not_ok "time-exceeded from beyond the gateway is translated back" "$out"
out=$(lab_in a /usr/bin/python3 "$probe" ttl-probe 192.0.2.2 1 33436 2>&1)
[[ $out == "from=10.1.0.1 type=11 code=0 quoted_src=10.1.0.2 quoted_sport=33436" ]] \
  && ok "time-exceeded from the gateway itself (TTL 1) comes from its LAN address" \
  || not_ok "time-exceeded from the gateway" "$out"

# ---- tunnel and Internet at once ----
check "host A pings host B through the tunnel" lab_in a ping -c 3 -i 0.2 -W 2 10.2.0.2
lab_in a /usr/bin/python3 "$probe" ask-udp 10.2.0.2 7000 40001 >"$LAB_RUN/tunnel.txt" 2>&1 &
t1=$!
lab_in a /usr/bin/python3 "$probe" ask-udp 192.0.2.2 7000 40002 >"$LAB_RUN/internet.txt" 2>&1 &
t2=$!
wait "$t1" "$t2"
tunnel=$(cat "$LAB_RUN/tunnel.txt") internet=$(cat "$LAB_RUN/internet.txt")
if [[ $tunnel == "10.1.0.2:40001" && $internet == "198.51.100.1:40002" ]]; then
  ok "at once: host B sees A's private address through the tunnel, the server sees the WAN address"
else
  not_ok "tunnel traffic keeps its private address while Internet traffic is translated" \
    "host B saw: $tunnel" "server saw: $internet"
fi

# NAT into a tunnel: translated before the policy lookup, so the second tunnel carries
# 172.16.0.1; the reply comes out of the tunnel and is translated back before routing.
out=$(lab_in a /usr/bin/python3 "$probe" ask-udp 10.9.0.2 7002 40003 2>&1)
[[ $out == "172.16.0.1:40003" ]] && ok "NAT into a tunnel: the partner sees 172.16.0.1:40003 and its reply reaches A" \
  || not_ok "NAT into a tunnel (translate before the policy lookup, back after decapsulation)" "partner saw: $out"

sleep 0.5
kill -INT "$dump" 2>/dev/null; wait "$dump" 2>/dev/null
private=$(tshark -r "$LAB_RUN/wan.pcap" -Y "ip.addr == 10.1.0.0/16 || ip.addr == 10.2.0.0/16" 2>/dev/null | wc -l)
esp=$(tshark -r "$LAB_RUN/wan.pcap" -Y "ip.proto == 50" 2>/dev/null | wc -l)
((private == 0 && esp > 0)) && ok "the WAN link carries no private address in the clear ($esp ESP packets)" \
  || not_ok "no private address on the WAN link" "private: $private, ESP: $esp"

# ---- what the operator sees ----
sessions=$(gwa --json show nat sessions)
if /usr/bin/python3 - "$sessions" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
m = {(s["protocol"], s["inside"]): s for s in d["sessions"]}
udp = m[("udp", "10.1.0.2:40000")]
assert udp["outside"] == "198.51.100.1:40000" and udp["remote"] == "192.0.2.2:7000", udp
assert udp["packets_out"] >= 1 and udp["packets_in"] >= 1, udp
assert 0 < udp["expires_in_seconds"] <= 120, udp  # firewall-nat timeout udp 120
assert any(s["protocol"] == "tcp" and s["outside"].startswith("198.51.100.1:") for s in d["sessions"]), d
assert any(s["protocol"] == "icmp" for s in d["sessions"]), d
assert not any(s["inside"].startswith("10.1.0.2:40001") for s in d["sessions"]), "tunnel traffic was mapped"
assert d["live"] == len(d["sessions"]), d
PY
then ok "show nat sessions: the UDP, TCP and ICMP mappings with endpoints, counters and the configured timeout"
else not_ok "show nat sessions" "$sessions"; fi
rules=$(gwa --json show firewall snat)
if /usr/bin/python3 - "$rules" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
r = {x["rule"]: x for x in d["rules"]}
assert r[10]["action"] == "exempt" and r[10]["hits"] > 0, r[10]
assert r[20]["action"] == "overload" and r[20]["translate_to"] == "198.51.100.1" and r[20]["hits"] > 1000, r[20]
# Replies translated back: the 10 MB transfer's ACKs (their number depends on how the
# receiver coalesces them, 800-1500 seen) plus the pings and UDP replies.
assert d["nat"]["mappings"] > 0 and d["nat"]["translated_in"] > 200, d["nat"]
PY
then ok "show firewall snat: both rules counted their hits"
else not_ok "show firewall snat" "$rules"; fi
counters=$(gwa --json show dataplane counters)
if /usr/bin/python3 - "$counters" <<'PY'
import json, sys
d = json.loads(sys.argv[1])["drops"]
bad = {k: v for k, v in d.items() if k.startswith("nat_") and v}
assert not bad, bad
PY
then ok "no NAT drop on the way"
else not_ok "no NAT drop" "$counters"; fi

# ---- many flows (with two workers: replies on the other worker are handed over) ----
flows=200
out=$(lab_in a /usr/bin/python3 "$probe" udp-flows 192.0.2.2 7000 $flows 2>&1)
counters=$(gwa --json show dataplane counters)
if [[ $out == "$flows/$flows 198.51.100.1 distinct=$flows" ]] && /usr/bin/python3 - "$counters" "${LAB_EXPECT_WORKERS:-1}" <<'PY'
import json, sys
c, workers = json.loads(sys.argv[1]), int(sys.argv[2])
assert len(c["per_worker"]) == workers, c["per_worker"]
if workers > 1:
    assert all(w["rx_packets"] > 0 for w in c["per_worker"]), c["per_worker"]
    assert c["handed_off"] > 0, c["handed_off"]
PY
then ok "$flows concurrent UDP flows on ${LAB_EXPECT_WORKERS:-1} worker(s): every reply delivered, each flow its own port"
else not_ok "$flows concurrent UDP flows" "$out" "$counters" "$(gwa show nat sessions 2>&1 | grep -v '198.51.100.1:' | head -40)"; fi

check "clear nat sessions" gwa clear nat sessions
out=$(gwa --json show nat sessions)
[[ $(/usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1])["live"])' "$out") -le 2 ]] \
  && ok "after clear nat sessions the table is empty (but for what arrived since)" \
  || not_ok "clear nat sessions empties the table" "$out"
