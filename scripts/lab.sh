# The mbox lab: three network namespaces joined by veth pairs, no hardware needed.
#
#   host A (LAN)                 gateway (mboxd)                   host B (WAN)
#   eth0 10.1.0.2/24 ---- lan0 [net_af_packet0]  [net_af_packet1] wan0 ---- eth0 198.51.100.2/24
#        gw 10.1.0.1           eth1 10.1.0.1/24   eth0 198.51.100.1/24          gw 198.51.100.1
#
# Source this file, then: lab_init PREFIX; lab_up; lab_config > FILE; lab_start_gateway FILE;
# ... lab_in a CMD / lab_mbox show interfaces ...; lab_down. Every name carries PREFIX,
# so labs can run twice and side by side; lab_down removes everything, even after a failure.

lab_init() {
  LAB_PREFIX=$1
  LAB_ROOT=${LAB_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
  LAB_BUILD=${LAB_BUILD:-$LAB_ROOT/build}
  LAB_NS_A=${LAB_PREFIX}-a
  LAB_NS_GW=${LAB_PREFIX}-gw
  LAB_NS_B=${LAB_PREFIX}-b
  LAB_RUN=$(mktemp -d "/tmp/${LAB_PREFIX}.XXXXXX")
  LAB_SOCKET=$LAB_RUN/mboxd.sock
  LAB_PIDS=()
  LAB_EXTRA_NS=()
}

lab_in() {  # lab_in a|gw|b COMMAND...
  local ns
  case $1 in a) ns=$LAB_NS_A ;; gw) ns=$LAB_NS_GW ;; b) ns=$LAB_NS_B ;; *) echo "lab_in: no host $1" >&2; return 2 ;; esac
  shift
  ip netns exec "$ns" "$@"
}

lab_veth() {  # lab_veth NS1 IFACE1 NS2 IFACE2: a veth pair, up, offloads off (af_packet needs full checksums)
  ip link add "$2" netns "$1" type veth peer name "$4" netns "$3"
  ip netns exec "$1" ethtool -K "$2" tx off rx off >/dev/null 2>&1 || true
  ip netns exec "$3" ethtool -K "$4" tx off rx off >/dev/null 2>&1 || true
  ip -n "$1" link set "$2" up
  ip -n "$3" link set "$4" up
}

lab_link() {  # lab_link GW_IFACE HOST_NS: the gateway's GW_IFACE to eth0 of a host
  lab_veth "$LAB_NS_GW" "$1" "$2" eth0
}

lab_namespace() {  # lab_namespace NS: an extra namespace, removed by lab_down
  ip netns add "$1"
  LAB_EXTRA_NS+=("$1")
  ip -n "$1" link set lo up
  ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}

lab_up() {
  local ns
  for ns in "$LAB_NS_A" "$LAB_NS_GW" "$LAB_NS_B"; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    # No IPv6 chatter: the gateway forwards IPv4 only and counts anything else as a drop.
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  done
  lab_link lan0 "$LAB_NS_A"
  lab_link wan0 "$LAB_NS_B"
  ip -n "$LAB_NS_A" addr add 10.1.0.2/24 dev eth0
  ip -n "$LAB_NS_A" route add default via 10.1.0.1
  ip -n "$LAB_NS_B" addr add 198.51.100.2/24 dev eth0
  ip -n "$LAB_NS_B" route add default via 198.51.100.1
}

lab_config() {  # the gateway's configuration, in the mbox language
  cat <<'CONF'
# mbox lab: a LAN on eth1, the "Internet" on eth0
interface eth0
 description WAN towards host B
 dpdk-device net_af_packet1,iface=wan0
 ip address 198.51.100.1/24
 enable
!
interface eth1
 description LAN with host A
 dpdk-device net_af_packet0,iface=lan0
 ip address 10.1.0.1/24
 enable
!
ip route 192.0.2.0/24 nexthop 198.51.100.2
!
CONF
}

lab_start_mboxd() {  # lab_start_mboxd NAMESPACE CONFIG SOCKET NAME [extra EAL args...]: logs to $LAB_RUN/NAME.log
  local ns=$1 conf=$2 socket=$3 name=$4
  shift 4
  ip netns exec "$ns" "$LAB_BUILD/mboxd" -c "$conf" --socket "$socket" -- \
    --no-huge -m 512 --no-pci ${LAB_LCORES:---lcores=0@0,1@1} --file-prefix "$LAB_PREFIX-$name" \
    --log-level=lib.eal:warning "$@" >"$LAB_RUN/$name.log" 2>&1 &
  local pid=$!
  LAB_PIDS+=("$pid")
  local i
  for i in $(seq 1 300); do
    if "$LAB_BUILD/mbox" --socket "$socket" show version >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "lab: mboxd ($name) exited during start-up:" >&2
      cat "$LAB_RUN/$name.log" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "lab: mboxd ($name) did not answer on $socket within 30 s" >&2
  cat "$LAB_RUN/$name.log" >&2
  return 1
}

lab_start_gateway() {  # lab_start_gateway CONFIG_FILE [extra EAL args...]: the lab's one gateway
  local conf=$1
  shift
  lab_start_mboxd "$LAB_NS_GW" "$conf" "$LAB_SOCKET" mboxd "$@"
}

lab_tcp_transfer() {  # lab_tcp_transfer BYTES DEST_ADDR: host A sends to host B over TCP
  # Sets LAB_SENT and LAB_RECEIVED to "LENGTH SHA256" as each end saw the stream;
  # returns 0 when all BYTES arrived intact.
  local bytes=$1 dest=$2 server
  local tool=$LAB_ROOT/tests/integration/tcp_transfer.py
  lab_in b /usr/bin/python3 "$tool" serve 5001 >"$LAB_RUN/recv.txt" 2>&1 &
  server=$!
  sleep 0.5
  LAB_SENT=$(lab_in a /usr/bin/python3 "$tool" send "$dest" 5001 "$bytes" 2>&1)
  wait "$server"
  LAB_RECEIVED=$(cat "$LAB_RUN/recv.txt")
  [[ $LAB_SENT == "$bytes "* && $LAB_SENT == "$LAB_RECEIVED" ]]
}

lab_mbox() { "$LAB_BUILD/mbox" --socket "$LAB_SOCKET" "$@"; }

lab_stop_gateway() {  # stops every mboxd the lab started
  local pid i
  for pid in "${LAB_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${LAB_PIDS[@]}"; do
    for i in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  LAB_PIDS=()
}

lab_down() {
  lab_stop_gateway
  local ns
  for ns in "$LAB_NS_A" "$LAB_NS_GW" "$LAB_NS_B" "${LAB_EXTRA_NS[@]}"; do
    ip netns del "$ns" 2>/dev/null || true
  done
  [[ -n ${LAB_RUN:-} && -d $LAB_RUN ]] && rm -rf "$LAB_RUN"
  # A DPDK process killed hard leaves its runtime directory behind.
  rm -rf "/var/run/dpdk/$LAB_PREFIX"-* 2>/dev/null || true
}
