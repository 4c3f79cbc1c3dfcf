#!/usr/bin/env bash
# IKEv2 tunnel set-up rate, strongSwan initiating to strongSwan (PSK), for DH 14 and 19.
# Prints "strongswan->strongswan dh14: X tunnels/s" (and dh19).
#
#   bench/ike_rate_swan.sh [-n TUNNELS] [-g "14 19"] [-r ROUNDS] [-t TIMEOUT_S]
#
# Method (meant to be reused unchanged with mboxd as the initiator):
#
#   initiator ns  wan0 198.51.100.1/24  ============  wan0 198.51.100.2/24  responder ns
#     (strongSwan now, mboxd later)                   + 198.18.0.0/15 aliases on lo
#     route 198.18.0.0/15 via 198.51.100.2            charon, ONE connection "bench"
#
# * The responder is a charon (kernel-libipsec) with one connection that accepts any
#   initiator with the PSK $BENCH_PSK on any of its addresses: it has TUNNELS alias
#   addresses 198.18.X.Y (the RFC 2544 benchmarking range), one per tunnel, so tunnel i
#   is simply "the peer at alias i". That is how an mbox initiator is configured as well
#   (one `ipsec peer 198.18.X.Y` per tunnel, `ip route 198.18.0.0/15 nexthop 198.51.100.2`,
#   ike-policy "AES SHA-256 14|19", esp-policy "AES SHA-256", local-net and remote-net
#   as printed by local_ts and remote_ts below). unique=never, and the DoS limits
#   (block_threshold 5 half-open per IP, cookies above 30 half-open) are raised so a
#   burst from one initiator address is neither blocked nor asked for cookies.
# * Traffic selectors: tunnel i proposes local_ts(i) === remote_ts(i), two /24s of its
#   own (10.64.0.0/10 on the initiator's side, 10.200.0.0/13 on the responder's); the
#   responder allows 10.200.0.0/13 === 10.64.0.0/10 and narrows to what is proposed.
#   Distinct subnets on BOTH sides are required: kernel-libipsec routes every CHILD_SA
#   (table 220, dev ipsec0), and a second CHILD_SA whose route has the same destination
#   fails ("error installing route with policy", "unable to install IPsec policies
#   (SPD)"): its IKE_SA is established, its CHILD_SA is not. The same error comes when
#   a side has no address inside the CHILD_SA's local subnet (the route's src): each
#   side gets X.Y.Z.1 of each of its /24s on lo.
# * The initiator gets TUNNELS connections (for strongSwan: swanctl.conf with children
#   start_action=start, so `swanctl --load-conns` starts all of them at once: one
#   burst, no per-tunnel command in the measurement).
# * The clock starts right before the initiator is told to go, and stops when the
#   responder counts TUNNELS established IKE_SAs (`swanctl --stats`: total - half-open,
#   polled every 0.1 s; in IKEv2 the CHILD_SA is installed in the same IKE_AUTH exchange);
#   the responder's CHILD_SA count (list-sas) and, for strongSwan, the initiator's are
#   checked afterwards. rate = TUNNELS / elapsed. If TIMEOUT_S passes first, the rate
#   is established / TIMEOUT_S and the line says how many of TUNNELS were reached.
# * Both daemons are restarted for each group and round; logging is at level 0 and the
#   retransmission settings are strongSwan's defaults (4 s, 5 tries), so an overloaded
#   responder shows up as retransmissions (counted from the initiator's log when a run
#   takes longer than 4 s), not as failures.
# Everything (namespaces "ikr<pid>-*", temp dir) is removed at exit, even on failure.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/tests/integration/swan.sh"

tunnels=200 groups="14 19" rounds=1 timeout=60
while getopts "n:g:r:t:" opt; do
  case $opt in
    n) tunnels=$OPTARG ;; g) groups=$OPTARG ;; r) rounds=$OPTARG ;; t) timeout=$OPTARG ;;
    *) echo "usage: $0 [-n TUNNELS] [-g \"14 19\"] [-r ROUNDS] [-t TIMEOUT_S]" >&2; exit 2 ;;
  esac
done
if ((tunnels < 1 || tunnels > 2000)); then echo "ike_rate_swan: 1..2000 tunnels" >&2; exit 2; fi
[[ $(id -u) -eq 0 ]] || { echo "ike_rate_swan: needs root (network namespaces)" >&2; exit 1; }

BENCH_PSK=${BENCH_PSK:-mbox ike rate bench}

alias_addr() { echo "198.18.$(( ($1 - 1) / 250 )).$(( ($1 - 1) % 250 + 1 ))"; }   # tunnel i (1-based)
local_ts() { echo "10.$(( 64 + ($1 - 1) / 256 )).$(( ($1 - 1) % 256 )).0/24"; }    # tunnel i's initiator subnet
remote_ts() { echo "10.$(( 200 + ($1 - 1) / 256 )).$(( ($1 - 1) % 256 )).0/24"; }  # and its responder subnet
proposal() { case $1 in 14) echo aes128-sha256-modp2048 ;; 19) echo aes128-sha256-ecp256 ;; *) echo "aes128-sha256-$1" ;; esac; }

swan_init "ikr$$"
NS_I=$SWAN_PREFIX-init NS_R=$SWAN_PREFIX-resp
swan_netns "$NS_I" && swan_netns "$NS_R" && swan_veth "$NS_I" wan0 "$NS_R" wan0 || exit 1
ip -n "$NS_I" addr add 198.51.100.1/24 dev wan0
ip -n "$NS_I" route add 198.18.0.0/15 via 198.51.100.2
ip -n "$NS_R" addr add 198.51.100.2/24 dev wan0
# Per tunnel: the responder's alias, and on each side an address inside the tunnel's
# local subnet (kernel-libipsec uses it as the route's src and fails without one).
first_host() { local n=${1%/*}; echo "${n%.0}.1"; }
for i in $(seq 1 "$tunnels"); do echo "addr add $(first_host "$(local_ts "$i")")/32 dev lo"; done | ip -n "$NS_I" -batch - || exit 1
for i in $(seq 1 "$tunnels"); do
  echo "addr add $(alias_addr "$i")/32 dev lo"
  echo "addr add $(first_host "$(remote_ts "$i")")/32 dev lo"
done | ip -n "$NS_R" -batch - || exit 1

# Daemons for a benchmark: quiet, default retransmissions, DoS limits out of the way.
# ike 1 for the "retransmit N of request" lines counted below.
SWAN_LOG=${BENCH_LOG:-default = 0
      ike = 1}
SWAN_CHARON_OPTS='block_threshold = 100000
  cookie_threshold = 100000
  cookie_threshold_ip = 100000
  ikesa_table_size = 4096
  ikesa_table_segments = 16'

responder_conf() {  # GROUP
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
CONF
}

strongswan_initiator_conf() {  # GROUP
  local i
  echo "connections {"
  for i in $(seq 1 "$tunnels"); do
    cat <<CONF
  t$i {
    version = 2
    local_addrs = 198.51.100.1
    remote_addrs = $(alias_addr "$i")
    proposals = $(proposal "$1")
    local {
      auth = psk
    }
    remote {
      auth = psk
      id = %any
    }
    children {
      t$i {
        local_ts = $(local_ts "$i")
        remote_ts = $(remote_ts "$i")
        esp_proposals = aes128-sha256
        start_action = start
      }
    }
  }
CONF
  done
  echo "}"
}

psk_secret="ike-bench {
    secret = \"$BENCH_PSK\"
  }"

established_ike() {  # NAME: established IKE_SAs (total - half-open) of a daemon
  swan_ctl "$1" --stats 2>/dev/null |
    sed -n 's/^IKE_SAs: \([0-9]*\) total, \([0-9]*\) half-open.*/\1 \2/p' | { read -r t h && echo $((t - h)); }
}

run_round() {  # GROUP: one measurement; prints the rate line
  local group=$1 out
  swan_start "$NS_R" resp && swan_start "$NS_I" init || return 1
  out=$(swan_load "$NS_R" resp "$(responder_conf "$group")" "$psk_secret" 2>&1) || { echo "$out" >&2; return 1; }
  # Initiator config written beforehand; only the load (which starts every tunnel) is timed.
  local init_dir
  init_dir=$(swan_dir init)/swanctl
  strongswan_initiator_conf "$group" >"$init_dir/swanctl.conf"
  printf 'secrets {\n  %s\n}\n' "$psk_secret" >>"$init_dir/swanctl.conf"
  swan_ctl init --load-creds --noprompt >/dev/null || return 1

  local t0 now done=0 elapsed
  t0=$(swan_now_ms)
  swan_ctl init --load-conns >/dev/null || return 1
  while :; do
    done=$(established_ike resp)
    now=$(swan_now_ms)
    ((done >= tunnels || now - t0 >= timeout * 1000)) && break
    sleep 0.1
  done
  elapsed=$((now - t0))
  sleep 0.5   # the initiator handles the last IKE_AUTH responses
  local children_r children_i retrans
  children_r=$(swan_child_count "$NS_R" resp) children_i=$(swan_child_count "$NS_I" init)
  retrans=$(cat "$(swan_logfile init)" "$(swan_logfile resp)" 2>/dev/null | grep -c 'retransmit [0-9]* of')
  local rate
  if ((done >= tunnels)); then
    rate=$(awk -v n="$tunnels" -v ms="$elapsed" 'BEGIN { printf "%.1f", n * 1000 / ms }')
    echo "strongswan->strongswan dh$group: $rate tunnels/s ($tunnels tunnels in $elapsed ms;" \
      "CHILD_SAs installed: responder $children_r, initiator $children_i; retransmissions $retrans)"
  else
    rate=$(awk -v n="$done" -v s="$timeout" 'BEGIN { printf "%.1f", n / s }')
    echo "strongswan->strongswan dh$group: $rate tunnels/s (only $done of $tunnels established in ${timeout} s;" \
      "CHILD_SAs installed: responder $children_r, initiator $children_i; retransmissions $retrans)"
  fi
  swan_stop "$NS_I" init
  swan_stop "$NS_R" resp
  rm -rf "$(swan_dir init)" "$(swan_dir resp)"
  ((done >= tunnels && children_r >= tunnels && children_i >= tunnels))
}

echo "# ike_rate_swan: $tunnels tunnels per run, PSK, ESP aes128-sha256, kernel-libipsec on both sides, $(nproc) CPUs"
status=0
for group in $groups; do
  for r in $(seq 1 "$rounds"); do
    run_round "$group" || { echo "ike_rate_swan: dh$group: not every tunnel was established" >&2; status=1; }
  done
done
exit $status
