#!/usr/bin/env bash
# IKEv2 tunnel set-up rate, end to end, three pairs in one run on the same machine:
#   (a) strongSwan -> strongSwan   (bench/ike_rate_swan.sh, called as is)
#   (b) mboxd      -> strongSwan   (the same responder, set up by this script)
#   (c) mboxd      -> mboxd
# PSK, IKE aes128-sha256 (PRF sha256) with DH 14 / 19, ESP aes128-sha256, no PFS.
# Prints one line per case and round, `X->Y dhNN: T tunnels/s (N tunnels in S s)`, then
# the median per case and the ratios mbox/strongSwan.
#
#   bench/ike_rate.sh [-n TUNNELS] [-g "14 19"] [-r ROUNDS] [-t TIMEOUT_S] [-c "swan mbox-swan mbox-mbox"] [-b BUILD]
#
# Topology (both mbox cases):
#
#   ns init: mboxd, eth0 = net_af_packet on wan0     ====   wan0 198.51.100.2/24   ns resp
#     198.51.100.1/24, ip route 198.18.0.0/15 nexthop 198.51.100.2     charon (b) or mboxd (c)
#
# * The initiator is one mboxd with TUNNELS `ipsec peer 198.18.X.Y` blocks (local ip
#   198.51.100.1, local-id t<i>.bench, local-net / remote-net tunnel i's two /24s, as
#   ike_rate_swan.sh's local_ts / remote_ts), started WITHOUT `ipsec start`; the clock
#   starts right before `mbox ipsec start`, which initiates every peer at once.
# * (b) The responder is ike_rate_swan.sh's: one charon connection (unique=never, DoS
#   thresholds raised) on TUNNELS alias addresses 198.18.X.Y, kernel-libipsec (so ESP is
#   UDP-encapsulated, mboxd sees a faked NAT). The clock stops when the responder counts
#   TUNNELS established IKE_SAs (as in (a)); mboxd's own count is read afterwards.
# * (c) The responder is a second mboxd whose interface has 198.51.100.2/24 and the
#   TUNNELS alias addresses as /32s, with TUNNELS `ipsec peer any remote-id t<i>.bench`
#   blocks (local-id its alias i, the nets mirrored): one responder, N initiator
#   identities from one address. The clock stops when the responder's `mbox --json show
#   ipsec status` says established = TUNNELS.
# * mboxd runs as scripts/lab.sh starts it: --no-huge -m 512 --no-pci, 2 lcores (control
#   thread on lcore 0, one worker on lcore 1), net_af_packet on a veth with offloads off.
#   The initiator's control thread (where all its IKE work runs) is on CPU 0; in (c) the
#   responder's is on CPU 1 (BENCH_RESP_LCORES, default --lcores=0@1,1@0), so that each
#   gateway has a core of its own for IKE, as charon's thread pools can use both. Idle
#   workers sleep. Everything shares the machine's 2 cores with the other daemon.
# * (b)'s line says how many datagrams charon's UDP socket dropped for a full receive
#   buffer (RcvbufErrors in its namespace, before/after): mboxd sends all N IKE_SA_INIT
#   requests in one burst on `ipsec start`, and each one dropped costs a 2 s retransmission.
# * On failure the line says how many were established, and the initiator's and
#   responder's `show ipsec log` tail, IKE counters and stderr tail go to $BENCH_DIAG
#   (default /tmp/ike_rate_diag.<pid>), which is kept; BENCH_DIAG_ALWAYS=1 writes them
#   after every mbox run.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
tunnels=200 groups="14 19" rounds=1 timeout=60 cases="swan mbox-swan mbox-mbox" build=$root/build
while getopts "n:g:r:t:c:b:" opt; do
  case $opt in
    n) tunnels=$OPTARG ;; g) groups=$OPTARG ;; r) rounds=$OPTARG ;; t) timeout=$OPTARG ;;
    c) cases=$OPTARG ;; b) build=$OPTARG ;;
    *) echo "usage: $0 [-n TUNNELS] [-g \"14 19\"] [-r ROUNDS] [-t TIMEOUT_S] [-c CASES] [-b BUILD]" >&2; exit 2 ;;
  esac
done
if ((tunnels < 1 || tunnels > 2000)); then echo "ike_rate: 1..2000 tunnels" >&2; exit 2; fi
[[ $(id -u) -eq 0 ]] || { echo "ike_rate: needs root (network namespaces)" >&2; exit 1; }
for f in mboxd mbox; do [[ -x $build/$f ]] || { echo "ike_rate: $build/$f not built" >&2; exit 1; }; done

export LAB_BUILD=$build
source "$root/scripts/lab.sh"
source "$root/tests/integration/swan.sh"

BENCH_PSK=${BENCH_PSK:-mbox ike rate bench}
DIAG=${BENCH_DIAG:-/tmp/ike_rate_diag.$$}

# Tunnel i (1-based), exactly as ike_rate_swan.sh numbers them.
alias_addr() { echo "198.18.$(( ($1 - 1) / 250 )).$(( ($1 - 1) % 250 + 1 ))"; }
local_ts() { echo "10.$(( 64 + ($1 - 1) / 256 )).$(( ($1 - 1) % 256 )).0/24"; }
remote_ts() { echo "10.$(( 200 + ($1 - 1) / 256 )).$(( ($1 - 1) % 256 )).0/24"; }
first_host() { local n=${1%/*}; echo "${n%.0}.1"; }
proposal() { case $1 in 14) echo aes128-sha256-modp2048 ;; 19) echo aes128-sha256-ecp256 ;; 31) echo aes128-sha256-curve25519 ;; *) echo "aes128-sha256-$1" ;; esac; }

lab_init "ikb$$"
swan_init "ikb$$"
cleanup() { lab_down; swan_cleanup; }
trap cleanup EXIT
NS_I=$LAB_PREFIX-init NS_R=$LAB_PREFIX-resp
SOCK_I=$LAB_RUN/init.sock SOCK_R=$LAB_RUN/resp.sock

# ---- the namespaces, made once for (b) and (c) ------------------------------------------
mbox_topology() {
  lab_namespace "$NS_I" && lab_namespace "$NS_R" || return 1
  lab_veth "$NS_I" wan0 "$NS_R" wan0
  # (b)'s charon needs the addresses in the kernel; (c)'s mboxd owns wan0 through
  # af_packet and answers for its addresses itself (the kernel ones are removed then).
}
swan_responder_addresses() {  # add|del
  local i
  { echo "addr $1 198.51.100.2/24 dev wan0"
    for i in $(seq 1 "$tunnels"); do
      echo "addr $1 $(alias_addr "$i")/32 dev lo"
      echo "addr $1 $(first_host "$(remote_ts "$i")")/32 dev lo"
    done; } | ip -n "$NS_R" -batch - >/dev/null 2>&1
}

# ---- mboxd configurations ---------------------------------------------------------------
mbox_policies() {  # GROUP
  cat <<CONF
ipsec ike-policy 10
 authentication psk
 policy AES SHA-256 $1
 version 2
!
ipsec esp-policy 10 policy AES SHA-256
!
CONF
}
mbox_initiator_conf() {  # GROUP
  local i
  cat <<CONF
interface eth0
 dpdk-device net_af_packet0,iface=wan0
 ip address 198.51.100.1/24
 enable
!
ip route 198.18.0.0/15 nexthop 198.51.100.2
!
CONF
  mbox_policies "$1"
  for i in $(seq 1 "$tunnels"); do
    cat <<CONF
ipsec peer $(alias_addr "$i")
 local ip 198.51.100.1
 local-id t$i.bench
 local-net $(local_ts "$i")
 remote-net $(remote_ts "$i")
 policy ike 10 esp 10
 psk $BENCH_PSK
!
CONF
  done
}
mbox_responder_conf() {  # GROUP
  local i
  echo "interface eth0"
  echo " dpdk-device net_af_packet0,iface=wan0"
  echo " ip address 198.51.100.2/24"
  for i in $(seq 1 "$tunnels"); do echo " ip address $(alias_addr "$i")/32"; done
  echo " enable"
  echo "!"
  mbox_policies "$1"
  for i in $(seq 1 "$tunnels"); do
    cat <<CONF
ipsec peer any remote-id t$i.bench
 local-id $(alias_addr "$i")
 local-net $(remote_ts "$i")
 remote-net $(local_ts "$i")
 policy ike 10 esp 10
 psk $BENCH_PSK
!
CONF
  done
  echo "ipsec start"
}

# ---- strongSwan responder (ike_rate_swan.sh's) ------------------------------------------
SWAN_LOG=${BENCH_LOG:-default = 0
      ike = 1}
SWAN_CHARON_OPTS='block_threshold = 100000
  cookie_threshold = 100000
  cookie_threshold_ip = 100000
  ikesa_table_size = 4096
  ikesa_table_segments = 16'
swan_responder_conf() {  # GROUP
  cat <<CONF
connections {
  bench {
    version = 2
    proposals = $(proposal "$1")
    unique = never
    local {
      auth = psk
    }
    remote {
      auth = psk
      id = %any
    }
    children {
      net {
        local_ts = 10.200.0.0/13
        remote_ts = 10.64.0.0/10
        esp_proposals = aes128-sha256
      }
    }
  }
}
secrets {
  ike-bench {
    secret = "$BENCH_PSK"
  }
}
CONF
}
swan_established() {
  swan_ctl resp --stats 2>/dev/null |
    sed -n 's/^IKE_SAs: \([0-9]*\) total, \([0-9]*\) half-open.*/\1 \2/p' | { read -r t h && echo $((t - h)); }
}

# ---- mboxd helpers ----------------------------------------------------------------------
mb() { local sock=$1; shift; "$build/mbox" --socket "$sock" "$@"; }
mb_established() {  # SOCK: peers established according to `show ipsec status --json` (no python:
  # this runs every 0.1 s during the measurement, on the same 2 cores)
  local n
  n=$(mb "$1" --json show ipsec status 2>/dev/null | grep -o '"established": *[0-9]*' | grep -o '[0-9]*$')
  echo "${n:-0}"
}
mb_counters() {  # SOCK: the IKE counters, one line
  mb "$1" --json show ipsec status 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin).get("ike", {})
drops = {k: v for k, v in d.pop("drops", {}).items() if v}
print(" ".join(f"{k}={v}" for k, v in d.items()), "drops:", drops or "none")' 2>/dev/null
}
diagnose() {  # CASE GROUP ROUND
  mkdir -p "$DIAG"
  local f=$DIAG/$1-dh$2-r$3.txt name sock
  {
    for name in init resp; do
      sock=$LAB_RUN/$name.sock
      [[ -S $sock ]] || continue
      echo "== mboxd $name: counters"; mb_counters "$sock"
      echo "== mboxd $name: show dataplane counters (non-zero)"; mb "$sock" show dataplane counters 2>&1 | grep -v ' 0$' | head -40
      echo "== mboxd $name: show interfaces"; mb "$sock" show interfaces 2>&1 | head -20
      echo "== mboxd $name: show ipsec status (first 15 lines)"; mb "$sock" show ipsec status 2>&1 | head -15
      echo "== mboxd $name: show ipsec log (last 40)"; mb "$sock" show ipsec log 2>&1 | tail -40
      echo "== mboxd $name: stderr (last 40)"; tail -40 "$LAB_RUN/$name.log" 2>/dev/null
    done
    if [[ -n ${SWAN_PID[resp]:-} ]]; then
      echo "== charon resp: stats"; swan_ctl resp --stats 2>&1
      echo "== charon resp: log (last 40)"; tail -40 "$(swan_logfile resp)" 2>/dev/null
    fi
  } >"$f" 2>&1
  echo "$f"
}

udp_rcvbuf_errors() {  # NS: datagrams the kernel dropped for a full socket buffer (charon's)
  ip netns exec "$1" awk '/^Udp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "RcvbufErrors") c = i; h = 1 } else print $c }' /proc/net/snmp
}
rx_missed() {  # SOCK: frames the af_packet port missed (its ring was full)
  mb "$1" show interfaces 2>/dev/null | sed -n 's/.*Driver: \([0-9]*\) missed.*/\1/p' | head -1
}

declare -A RATES=()   # "case dhNN" -> rates, space separated
report() {  # LABEL GROUP DONE ELAPSED_MS EXTRA
  local label=$1 group=$2 done=$3 ms=$4 extra="${*:5}" rate
  if ((done >= tunnels)); then
    rate=$(awk -v n="$tunnels" -v ms="$ms" 'BEGIN { printf "%.1f", n * 1000 / ms }')
    echo "$label dh$group: $rate tunnels/s ($tunnels tunnels in $(awk -v ms="$ms" 'BEGIN { printf "%.2f", ms / 1000 }') s; $extra)"
    RATES["$label dh$group"]+="$rate "
  else
    rate=$(awk -v n="$done" -v s="$timeout" 'BEGIN { printf "%.1f", n / s }')
    echo "$label dh$group: $rate tunnels/s (only $done of $tunnels established in $timeout s; $extra)"
  fi
}

# mboxd initiator for GROUP, started and answering, not yet initiating.
start_initiator() {
  mbox_initiator_conf "$1" >"$LAB_RUN/init.conf"
  rm -f "$SOCK_I"
  lab_start_mboxd "$NS_I" "$LAB_RUN/init.conf" "$SOCK_I" init
}
wait_count() {  # COUNT_FN ARG: polls until TUNNELS or the timeout; sets DONE, ELAPSED (from T0)
  local now
  while :; do
    DONE=$("$1" "${2:-}")
    now=$(swan_now_ms)
    ((DONE >= tunnels || now - T0 >= timeout * 1000)) && break
    sleep 0.1
  done
  ELAPSED=$((now - T0))
}

run_mbox_swan() {  # GROUP ROUND
  local group=$1 round=$2 out init_up
  swan_responder_addresses add
  swan_start "$NS_R" resp || return 1
  out=$(swan_load "$NS_R" resp "$(swan_responder_conf "$group")" 2>&1) || { echo "$out" >&2; return 1; }
  start_initiator "$group" || { swan_stop "$NS_R" resp; return 1; }
  local rcvbuf_before rcvbuf_after
  rcvbuf_before=$(udp_rcvbuf_errors "$NS_R")
  T0=$(swan_now_ms)
  mb "$SOCK_I" ipsec start >/dev/null
  wait_count swan_established
  sleep 0.5
  init_up=$(mb_established "$SOCK_I")
  local children retrans
  children=$(swan_child_count "$NS_R" resp) rcvbuf_after=$(udp_rcvbuf_errors "$NS_R")
  retrans=$(mb_counters "$SOCK_I" | grep -o 'retransmitted=[0-9]*')
  report "mbox->strongswan" "$group" "$DONE" "$ELAPSED" \
    "responder CHILD_SAs $children, mboxd established $init_up, mboxd $retrans," \
    "charon's socket dropped $((rcvbuf_after - rcvbuf_before)) (RcvbufErrors), mboxd rx missed $(rx_missed "$SOCK_I")"
  local ok=$((DONE >= tunnels && init_up >= tunnels))
  ((ok && !${BENCH_DIAG_ALWAYS:-0})) || echo "  diagnostics: $(diagnose mbox-swan "$group" "$round")"
  lab_stop_gateway
  swan_stop "$NS_R" resp
  rm -rf "$(swan_dir resp)"
  swan_responder_addresses del
  ((ok))
}

run_mbox_mbox() {  # GROUP ROUND
  local group=$1 round=$2 init_up
  mbox_responder_conf "$group" >"$LAB_RUN/resp.conf"
  rm -f "$SOCK_R"
  # The responder's control thread on CPU 1, the initiator's on CPU 0 (lab.sh's default
  # --lcores=0@0,1@1 would put both control threads, where all IKE work is done, on CPU 0).
  LAB_LCORES=${BENCH_RESP_LCORES:---lcores=0@1,1@0} lab_start_mboxd "$NS_R" "$LAB_RUN/resp.conf" "$SOCK_R" resp || return 1
  start_initiator "$group" || { lab_stop_gateway; return 1; }
  T0=$(swan_now_ms)
  mb "$SOCK_I" ipsec start >/dev/null
  wait_count mb_established "$SOCK_R"
  sleep 0.5
  init_up=$(mb_established "$SOCK_I")
  report "mbox->mbox" "$group" "$DONE" "$ELAPSED" \
    "initiator established $init_up, initiator $(mb_counters "$SOCK_I" | grep -o 'retransmitted=[0-9]*')," \
    "rx missed: initiator $(rx_missed "$SOCK_I"), responder $(rx_missed "$SOCK_R")"
  local ok=$((DONE >= tunnels && init_up >= tunnels))
  ((ok && !${BENCH_DIAG_ALWAYS:-0})) || echo "  diagnostics: $(diagnose mbox-mbox "$group" "$round")"
  lab_stop_gateway
  ((ok))
}

run_swan_swan() {  # GROUP: ike_rate_swan.sh, one round
  local line
  line=$("$here/ike_rate_swan.sh" -n "$tunnels" -g "$1" -r 1 -t "$timeout" 2>&1 | grep '^strongswan->strongswan')
  [[ -n $line ]] || { echo "strongswan->strongswan dh$1: no result"; return 1; }
  echo "$line"
  if [[ $line =~ dh$1:\ ([0-9.]+)\ tunnels/s\ \($tunnels\ tunnels ]]; then RATES["strongswan->strongswan dh$1"]+="${BASH_REMATCH[1]} "; fi
}

echo "# ike_rate: $tunnels tunnels per run, PSK, IKE aes128-sha256, ESP aes128-sha256, $(nproc) CPUs, $(date -u +%FT%TZ)"
mbox_topology || exit 1
status=0
for round in $(seq 1 "$rounds"); do
  for group in $groups; do
    for c in $cases; do
      case $c in
        swan) run_swan_swan "$group" || status=1 ;;
        mbox-swan) run_mbox_swan "$group" "$round" || status=1 ;;
        mbox-mbox) run_mbox_mbox "$group" "$round" || status=1 ;;
        *) echo "ike_rate: unknown case $c" >&2; exit 2 ;;
      esac
    done
  done
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print ""; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo "# medians (tunnels/s) and ratios to strongswan->strongswan (target: >= 2)"
for group in $groups; do
  base=$(median <<<"${RATES["strongswan->strongswan dh$group"]:-}")
  for label in "strongswan->strongswan" "mbox->strongswan" "mbox->mbox"; do
    m=$(median <<<"${RATES["$label dh$group"]:-}")
    [[ -n $m ]] || continue
    ratio=$( [[ -n $base ]] && awk -v a="$m" -v b="$base" 'BEGIN { printf "%.2f", a / b }' || echo "-")
    echo "$label dh$group: median $m tunnels/s (rounds: ${RATES["$label dh$group"]% }), ratio to strongswan $ratio"
  done
done
exit $status
