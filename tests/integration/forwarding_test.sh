#!/usr/bin/env bash
# Integration test of the IPv4 gateway in network namespaces (scripts/lab.sh):
# host A -- mboxd -- host B over veth pairs and net_af_packet. Prints TAP.
#   forwarding_test.sh [BUILD_DIR]
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export LAB_BUILD=${1:-$root/build}
source "$root/scripts/lab.sh"

source "$here/tap.sh"
drop_count() {  # drop_count REASON
  lab_mbox --json show dataplane counters | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['drops']['$1'])"
}
finish() {
  local rc=$?
  if ((failed)) && [[ -f ${LAB_RUN:-/nonexistent}/mboxd.log ]]; then
    echo "# mboxd log:"; sed 's/^/#   /' "$LAB_RUN/mboxd.log"
  fi
  lab_down
  echo "1..$n"
  ((failed == 0 && rc == 0)) || exit 1
}

lab_init "mbt$$"
trap finish EXIT
lab_up
lab_config >"$LAB_RUN/lab.conf"
if ! lab_start_gateway "$LAB_RUN/lab.conf"; then
  not_ok "mboxd starts with the lab configuration"
  exit 1
fi
ok "mboxd starts with the lab configuration"

check "host A pings host B through the gateway" lab_in a ping -c 3 -i 0.2 -W 2 198.51.100.2
check "host B pings host A through the gateway" lab_in b ping -c 3 -i 0.2 -W 2 10.1.0.2
check "host A pings the gateway's LAN address" lab_in a ping -c 2 -i 0.2 -W 2 10.1.0.1
check "host A pings the gateway's WAN address" lab_in a ping -c 2 -i 0.2 -W 2 198.51.100.1
check "host B pings the gateway's WAN address" lab_in b ping -c 2 -i 0.2 -W 2 198.51.100.1

# 10 MB of TCP from A to B: the bytes that arrive are the bytes that left.
if lab_tcp_transfer 10485760 198.51.100.2; then
  ok "10 MB TCP transfer A -> B arrives intact ($LAB_RECEIVED)"
else
  not_ok "10 MB TCP transfer A -> B arrives intact" "sent: $LAB_SENT" "received: $LAB_RECEIVED"
fi

# TTL 1: the gateway answers with ICMP time exceeded from its LAN address.
out=$(lab_in a ping -c 1 -t 1 -W 2 198.51.100.2 2>&1)
if grep -q "From 10.1.0.1 .*Time to live exceeded" <<<"$out"; then
  ok "TTL=1 gets ICMP time exceeded from 10.1.0.1"
else
  not_ok "TTL=1 gets ICMP time exceeded from 10.1.0.1" "$out"
fi
ttl_drops=$(drop_count ttl_exceeded)
[[ $ttl_drops -ge 1 ]] && ok "ttl_exceeded counted ($ttl_drops)" || not_ok "ttl_exceeded counted" "got $ttl_drops"

# An unrouted prefix: unreachable, and the drop is counted under no_route.
before=$(drop_count no_route)
out=$(lab_in a ping -c 2 -i 0.2 -W 1 203.0.113.5 2>&1)
after=$(drop_count no_route)
if grep -q "From 10.1.0.1 .*Destination Net Unreachable" <<<"$out" && ((after - before == 2)); then
  ok "unrouted 203.0.113.5 is unreachable and counted as no_route ($before -> $after)"
else
  not_ok "unrouted 203.0.113.5 is unreachable and counted as no_route" "no_route $before -> $after" "$out"
fi

# Malformed frames from host A are dropped and counted under their own reasons.
gw_mac=$(lab_in a ip -j neigh show 10.1.0.1 | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)[0]['lladdr'])")
bad_sum_before=$(drop_count ipv4_bad_checksum)
trunc_before=$(drop_count ipv4_truncated)
lab_in a /usr/bin/python3 - "$gw_mac" <<'PY'
import sys
from scapy.all import Ether, IP, ICMP, Raw, sendp, conf
conf.verb = 0
gw = sys.argv[1]
sendp(Ether(dst=gw) / IP(src="10.1.0.2", dst="198.51.100.2", chksum=0x1234) / ICMP(), iface="eth0")
# An IPv4 header that claims 1000 bytes in a 60-byte frame.
sendp(Ether(dst=gw) / IP(src="10.1.0.2", dst="198.51.100.2", len=1000) / Raw(b"x" * 20), iface="eth0")
PY
sleep 0.3
bad_sum_after=$(drop_count ipv4_bad_checksum)
trunc_after=$(drop_count ipv4_truncated)
((bad_sum_after - bad_sum_before == 1)) && ok "bad IPv4 checksum dropped and counted" \
  || not_ok "bad IPv4 checksum dropped and counted" "$bad_sum_before -> $bad_sum_after"
((trunc_after - trunc_before == 1)) && ok "truncated IPv4 packet dropped and counted" \
  || not_ok "truncated IPv4 packet dropped and counted" "$trunc_before -> $trunc_after"
check "forwarding still works after malformed frames" lab_in a ping -c 1 -W 2 198.51.100.2

# Workers: as many as EAL worker lcores, and with several, RSS (af_packet fanout)
# spreads flows over all of them.
expect_workers=${LAB_EXPECT_WORKERS:-1}
lab_in a /usr/bin/python3 -c '
import socket
for port in range(40000, 40064):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("10.1.0.2", port))
    for _ in range(4):
        s.sendto(b"flow", ("198.51.100.2", 9))
    s.close()
'
sleep 0.3
out=$(lab_mbox --json show dataplane counters 2>&1)
if /usr/bin/python3 - "$out" "$expect_workers" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
want = int(sys.argv[2])
assert d["workers"] == want, f"workers {d['workers']} != {want}"
assert len(d["per_worker"]) == want
assert all(w["rx_packets"] > 0 for w in d["per_worker"]), [w["rx_packets"] for w in d["per_worker"]]
PY
then ok "$expect_workers worker(s), every one receiving traffic"; else not_ok "$expect_workers worker(s), every one receiving traffic" "$out"; fi

# The operator's view.
out=$(lab_mbox show interfaces 2>&1)
grep -q "eth0 is enabled, link is up" <<<"$out" && grep -q "Internet address 10.1.0.1/24" <<<"$out" \
  && ok "show interfaces lists both interfaces with addresses" || not_ok "show interfaces" "$out"
out=$(lab_mbox show ip route 2>&1)
grep -Eq "^S +192.0.2.0/24 +via 198.51.100.2, eth0" <<<"$out" && grep -Eq "^C +10.1.0.0/24 +is directly connected, eth1" <<<"$out" \
  && ok "show ip route has the static and connected routes" || not_ok "show ip route" "$out"
out=$(lab_mbox show arp 2>&1)
grep -Eq "^198.51.100.2 +[0-9a-f:]{17} +eth0 +reachable" <<<"$out" \
  && ok "show arp has host B reachable on eth0" || not_ok "show arp" "$out"
out=$(lab_mbox --json show interfaces 2>&1)
/usr/bin/python3 -c "import json,sys; d=json.loads(sys.argv[1]); assert {i['name'] for i in d['interfaces']} == {'eth0','eth1'}" "$out" \
  && ok "show interfaces --json parses" || not_ok "show interfaces --json" "$out"
out=$(lab_mbox show nonsense 2>&1) && not_ok "a bad command fails" "$out" || \
  { grep -q "expected" <<<"$out" && ok "a bad command says what was expected" || not_ok "bad command message" "$out"; }
