#!/usr/bin/env bash
# mboxd against DPDK 22.11's examples/ipsec-secgw on the same input, side by side (issue 10).
#
#   bench/secgw_compare.sh [-d SECONDS] [-w WARMUP] [-r ROUNDS] [-s "64 1420"]
#                          [-c "enc-gcm enc-cbc dec-gcm dec-cbc fwd"] [-b BUILD_DIR] [-C] [-N] [-k]
#
# Run as root from the repository, after building mboxd and mbox (`ninja -C build mboxd mbox`).
# Both gateways get, in turn and one at a time, the same arrangement:
#
#   net_pcap0 (rx_pcap=IN.pcap, infinite_rx=1) -> one worker on lcore 1 -> net_pcap1
#
# net_pcap1 transmits nothing (net_pcap with rx_pcap and no tx_pcap drops what it is given,
# like net_null, and counts it); its rx_pcap holds one ARP request from the next hop, so
# that mboxd learns the next hop's address (it has no static neighbours, and net_null can
# not answer its ARP). ipsec-secgw takes the next hop's address from its command line and
# drops the ARP frame.
#
# Cases: enc-gcm / enc-cbc encrypt cleartext UDP (LAN -> tunnel) with AES-128-GCM or
# AES-128-CBC + HMAC-SHA1-96; dec-gcm / dec-cbc decrypt ESP tunnel-mode packets made by scapy
# with the same keys; fwd forwards cleartext with no SA (mboxd) / an SP bypass rule
# (ipsec-secgw). Sizes are cleartext inner IPv4 packet lengths, as in mbox-bench-esp
# (Ethernet frame = size + 14, FCS not counted). 256 flows; anti-replay off in both
# gateways, since the same ESP sequence numbers are replayed forever.
#
# Metering is from outside: the TX packet counter of the output port (DPDK's ethdev
# stats) read through the process's DPDK telemetry socket at two instants, -d seconds
# apart, after -w seconds of warm-up. dpdk-proc-info cannot attach: it is a secondary
# process, and these --no-huge primaries share no memory with one.
#
# Before metering, each case's output is checked once (first size, -N skips it): each
# gateway is given the input once and writes what it sends to a pcap, which scapy checks
# (ESP with the outbound SPI that decrypts to the right inner packet; cleartext UDP of the
# right size and addresses). -C skips the crypto ceiling (build/bench/mbox-bench-crypto,
# encrypt only, measured once before the gateways). -k keeps the temporary directory
# (configs, pcaps, logs). ipsec-secgw's source is fetched and built once into
# BUILD_DIR/secgw/.
set -euo pipefail

usage() { sed -n '2,38p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
duration=5 warmup=2 rounds=1 sizes="64 1420" cases="enc-gcm enc-cbc dec-gcm dec-cbc fwd"
build=$root/build ceiling=1 keep=0 check=1
while getopts "d:w:r:s:c:b:CNkh" opt; do
  case $opt in
    d) duration=$OPTARG ;; w) warmup=$OPTARG ;; r) rounds=$OPTARG ;; s) sizes=$OPTARG ;;
    c) cases=$OPTARG ;; b) build=$(cd "$OPTARG" && pwd) ;; C) ceiling=0 ;; N) check=0 ;; k) keep=1 ;;
    h) usage 0 ;; *) usage ;;
  esac
done

die() { echo "secgw_compare: $*" >&2; exit 1; }
log() { echo "# $*" >&2; }
trap 'echo "secgw_compare: line $LINENO failed: $BASH_COMMAND" >&2' ERR

for c in $cases; do
  case $c in enc-gcm|enc-cbc|dec-gcm|dec-cbc|fwd) ;; *) die "unknown case '$c' (enc-gcm enc-cbc dec-gcm dec-cbc fwd)" ;; esac
done
for s in $sizes; do
  [[ $s =~ ^[0-9]+$ ]] && ((s >= 28 && s <= 1420)) || die "size '$s': an inner IPv4 packet length, 28..1420"
done
[[ $duration =~ ^[0-9.]+$ && $warmup =~ ^[0-9.]+$ ]] || die "-d and -w take seconds"
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "-r takes a positive count"

# ---- prerequisites ------------------------------------------------------------------------
((EUID == 0)) || die "run as root (DPDK's telemetry sockets are under /var/run/dpdk)"
py=/usr/bin/python3   # Debian's python: the one with scapy (python3 on PATH may lack it)
$py -c 'import scapy.layers.ipsec' 2>/dev/null || die "$py cannot import scapy (apt-get install python3-scapy)"
for f in mboxd mbox; do [[ -x $build/$f ]] || die "$build/$f missing: meson setup build && ninja -C build -j2 mboxd mbox"; done
for t in pkg-config make cc apt-get tar; do command -v $t >/dev/null || die "$t not found"; done
pkg-config --exists libdpdk || die "pkg-config finds no libdpdk (apt-get install libdpdk-dev)"
ls /usr/lib/x86_64-linux-gnu/dpdk/pmds-*/librte_crypto_ipsec_mb.so >/dev/null 2>&1 ||
  die "no crypto_ipsec_mb PMD (crypto_aesni_mb) in Debian's DPDK"

run=$(mktemp -d /tmp/secgw_compare.XXXXXX)
prefix_mbox=mbxcmp-mbox-$$ prefix_secgw=mbxcmp-secgw-$$
pid=""   # the gateway now running, started by this script
mpps=""
stop_gateway() {
  [[ -n $pid ]] || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
}

cleanup() {
  local rc=$?
  stop_gateway
  rm -rf "/var/run/dpdk/$prefix_mbox" "/var/run/dpdk/$prefix_secgw"
  if ((keep)); then log "kept $run"; else rm -rf "$run"; fi
  exit $rc
}
trap cleanup EXIT
trap 'echo "secgw_compare: interrupted, stopping" >&2; exit 130' INT TERM

# ---- ipsec-secgw from Debian's DPDK 22.11 source -----------------------------------------
cache=$build/secgw
secgw=$cache/ipsec-secgw/build/ipsec-secgw
build_secgw() {
  local apt=$cache/apt
  mkdir -p "$apt/lists/partial" "$cache/src"
  # A private apt state: deb-src for the source package only, the system's sources untouched.
  printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' >"$apt/src.sources"
  local aptopts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$apt" -o "Dir::State::Lists=$apt/lists")
  local tarball
  tarball=$(ls "$cache"/src/dpdk_22.11*.orig.tar.xz 2>/dev/null | tail -1 || true)
  if [[ -z $tarball ]]; then
    log "fetching DPDK's source package (deb-src, private apt state in $apt)"
    apt-get "${aptopts[@]}" update >"$cache/apt-update.log" 2>&1 || die "apt-get update of deb-src failed: see $cache/apt-update.log"
    (cd "$cache/src" && apt-get "${aptopts[@]}" source --download-only dpdk) >"$cache/apt-source.log" 2>&1 ||
      die "apt-get source dpdk failed: see $cache/apt-source.log"
    tarball=$(ls "$cache"/src/dpdk_22.11*.orig.tar.xz 2>/dev/null | tail -1 || true)
    [[ -n $tarball ]] || die "no dpdk_22.11*.orig.tar.xz in $cache/src (Debian moved on from 22.11?)"
  fi
  rm -rf "$cache/ipsec-secgw" "$cache/common"
  tar -xJf "$tarball" -C "$cache" --strip-components=2 --wildcards '*/examples/ipsec-secgw/*' '*/examples/common/*' ||
    die "extracting examples/ipsec-secgw from $tarball failed"
  # port_init() asks for RTE_ETH_RX_OFFLOAD_CHECKSUM (and what the SAs need) and exits when
  # a port lacks it; net_pcap/net_null have no offloads at all. Mask the request with the
  # device's capabilities (the packets then take the software checksum path, which it
  # already has for ports without TX checksum offload).
  sed -i 's|^\t/\* Check that all required capabilities are supported \*/|\t/* mbox bench: mask with the device capabilities (vdev ports) */\n\tlocal_port_conf.rxmode.offloads \&= dev_info.rx_offload_capa;\n\tlocal_port_conf.txmode.offloads \&= dev_info.tx_offload_capa;\n&|' \
    "$cache/ipsec-secgw/ipsec-secgw.c"
  grep -q 'mbox bench: mask' "$cache/ipsec-secgw/ipsec-secgw.c" || die "the offload patch no longer applies to ipsec-secgw.c"
  log "building ipsec-secgw ($(basename "$tarball")) against the installed libdpdk-dev"
  make -C "$cache/ipsec-secgw" -j2 >"$cache/make.log" 2>&1 || die "building ipsec-secgw failed: see $cache/make.log"
  [[ -x $secgw ]] || die "no $secgw after make"
}
[[ -x $secgw ]] || build_secgw

# ---- keys, inputs, configurations ---------------------------------------------------------
# Fixed keys: the gateway's inbound SA (SPI 0x1001) decrypts the scapy packets, its outbound
# SA (SPI 0x2001) encrypts. GCM keys carry the 4-byte salt (RFC 4106), 20 bytes in all.
gcm_in=000102030405060708090a0b0c0d0e0f10111213 gcm_out=101112131415161718191a1b1c1d1e1f20212223
cbc_in=202122232425262728292a2b2c2d2e2f cbc_out=303132333435363738393a3b3c3d3e3f
sha_in=404142434445464748494a4b4c4d4e4f50515253 sha_out=505152535455565758595a5b5c5d5e5f60616263
colons() { sed 's/../&:/g; s/:$//' <<<"$1"; }

gen() { "$py" "$here/secgw_helper.py" "$@" || die "making $* failed"; }
log "making input pcaps in $run"
gen arp 198.51.100.1 198.51.100.2 "$run/arp-wan.pcap"
gen arp 10.1.0.1 10.1.0.2 "$run/arp-lan.pcap"
for s in $sizes; do
  gen clear "$s" "$run/clear-$s.pcap"
  if [[ " $cases " == *" dec-gcm "* ]]; then gen esp "$s" gcm 0x1001 $gcm_in "$run/esp-gcm-$s.pcap"; fi
  if [[ " $cases " == *" dec-cbc "* ]]; then gen esp "$s" cbc 0x1001 $cbc_in $sha_in "$run/esp-cbc-$s.pcap"; fi
done

mbox_config() {  # CASE IN_DEVICE OUT_DEVICE
  local in_if out_if
  # The input interface comes first: it is port 0 (MAC 02:70:63:61:70:00, the frames' destination).
  if [[ $1 == dec-* ]]; then
    in_if="eth0 198.51.100.1/24" out_if="eth1 10.1.0.1/24"
  else
    in_if="eth1 10.1.0.1/24" out_if="eth0 198.51.100.1/24"
  fi
  printf 'interface %s\n dpdk-device %s\n ip address %s\n enable\n!\n' "${in_if% *}" "$2" "${in_if#* }"
  printf 'interface %s\n dpdk-device %s\n ip address %s\n enable\n!\n' "${out_if% *}" "$3" "${out_if#* }"
  echo "ip route 10.2.0.0/16 nexthop 198.51.100.2"
  echo "!"
  [[ $1 == fwd ]] && return
  local esp inb outb
  if [[ ${1#*-} == gcm ]]; then
    esp=AES-GCM-128 inb="enc-key 0x$gcm_in" outb="enc-key 0x$gcm_out"
  else
    esp="AES SHA" inb="enc-key 0x$cbc_in auth-key 0x$sha_in" outb="enc-key 0x$cbc_out auth-key 0x$sha_out"
  fi
  cat <<CONF
ipsec manual-sa bench
 local ip 198.51.100.1
 peer 198.51.100.2
 local-net 10.1.0.0/24
 remote-net 10.2.0.0/16
 esp $esp
 inbound spi 0x1001 $inb
 outbound spi 0x2001 $outb
 replay-window 0
!
ipsec start
CONF
}

secgw_config() {  # CASE: ipsec-secgw's cfg file (SPI 0x1001 = 4097 in, 0x2001 = 8193 out)
  local in out
  if [[ $1 == fwd ]]; then
    # Bypass: the cleartext leaves as it came. ipsec-secgw refuses an unprotected port
    # without an inbound SA, so the GCM SAs are there, unused.
    echo "sp ipv4 out esp bypass pri 1 dst 10.2.0.0/16 sport 0:65535 dport 0:65535"
    echo "rt ipv4 dst 10.2.0.0/16 port 1"
  fi
  if [[ $1 == fwd || ${1#*-} == gcm ]]; then
    in="aead_algo aes-128-gcm aead_key $(colons $gcm_in)" out="aead_algo aes-128-gcm aead_key $(colons $gcm_out)"
  else
    in="cipher_algo aes-128-cbc cipher_key $(colons $cbc_in) auth_algo sha1-hmac auth_key $(colons $sha_in)"
    out="cipher_algo aes-128-cbc cipher_key $(colons $cbc_out) auth_algo sha1-hmac auth_key $(colons $sha_out)"
  fi
  if [[ $1 != fwd ]]; then
    echo "sp ipv4 out esp protect 8193 pri 1 dst 10.2.0.0/16 sport 0:65535 dport 0:65535"
    echo "sp ipv4 in esp protect 4097 pri 1 dst 10.1.0.0/24 sport 0:65535 dport 0:65535"
  fi
  cat <<CONF
sa out 8193 $out mode ipv4-tunnel src 198.51.100.1 dst 198.51.100.2
sa in 4097 $in mode ipv4-tunnel src 198.51.100.2 dst 198.51.100.1
rt ipv4 dst 198.51.100.0/24 port 1
rt ipv4 dst 10.1.0.0/24 port 1
CONF
}

devices() {  # CASE SIZE [TX_PCAP]: the input and output ports into $in_dev and $out_dev
  case $1 in
    dec-*) in_dev="net_pcap0,rx_pcap=$run/esp-${1#*-}-$2.pcap" out_dev="net_pcap1,rx_pcap=$run/arp-lan.pcap" ;;
    *) in_dev="net_pcap0,rx_pcap=$run/clear-$2.pcap" out_dev="net_pcap1,rx_pcap=$run/arp-wan.pcap" ;;
  esac
  # Measuring: the input replayed forever, the output dropped. Checking: the input once,
  # the output written to TX_PCAP.
  if [[ -n ${3:-} ]]; then out_dev+=",tx_pcap=$3"; else in_dev+=",infinite_rx=1"; fi
}

# Gateways run in this shell (not in $(...)) so that the EXIT trap knows $pid and stops them.
measure() {  # GATEWAY PREFIX TAG: meter port 1 of the running gateway $pid into $mpps
  if ! "$py" "$here/secgw_helper.py" meter "$2" 1 "$warmup" "$duration" "$pid" >"$run/$3.meter" 2>&1; then
    echo "secgw_compare: $1 ($3): $(cat "$run/$3.meter")" >&2
    echo "# last lines of its log ($run/$3.log):" >&2; tail -15 "$run/$3.log" | sed 's/^/#   /' >&2
    exit 1
  fi
  read -r mpps _ <"$run/$3.meter"
}

check_output() {  # GATEWAY PREFIX TAG CASE SIZE: what $pid sent to $run/TAG.out.pcap is right
  local alg=${4#*-} keys=()
  # Wait for the gateway to be up, then for the 256 input frames to go through.
  measure "$1" "$2" "$3"
  sleep 1
  stop_gateway
  case $4 in
    enc-gcm) keys=(gcm 0x2001 "$gcm_out") ;;
    enc-cbc) keys=(cbc 0x2001 "$cbc_out" "$sha_out") ;;
  esac
  if ! "$py" "$here/secgw_helper.py" check "${4%%-*}" "$5" "$run/$3.out.pcap" "${keys[@]}" >"$run/$3.checked" 2>&1; then
    die "$1 sent wrong packets for $4 at $5 bytes: $(cat "$run/$3.checked") (-k keeps $run/$3.out.pcap)"
  fi
  log "$4 $5 bytes: $1 sent $(cat "$run/$3.checked") correct packets for 256 in"
}

# MODE: measure (into $mpps) or check (the output of one pass of the input, see check_output).
run_mbox() {  # CASE SIZE ROUND MODE: start mboxd, meter or check, stop
  local tag=mbox-$1-$2-$3 conf
  [[ $4 == check ]] && tag=mbox-$1-$2-check
  conf=$run/$tag.conf
  devices "$1" "$2" "$([[ $4 == check ]] && echo "$run/$tag.out.pcap")"
  mbox_config "$1" "$in_dev" "$out_dev" >"$conf"
  "$build/mboxd" --check-config "$conf" >"$run/$tag.check" 2>&1 || die "mboxd rejects $conf: $(cat "$run/$tag.check")"
  rm -rf "/var/run/dpdk/$prefix_mbox"
  "$build/mboxd" -c "$conf" --socket "$run/mboxd.sock" -- --no-huge -m 512 --no-pci -l 0-1 \
    --file-prefix "$prefix_mbox" >"$run/$tag.log" 2>&1 &
  pid=$!
  if [[ $4 == check ]]; then check_output mboxd "$prefix_mbox" "$tag" "$1" "$2"; return; fi
  measure mboxd "$prefix_mbox" "$tag"
  "$build/mbox" --socket "$run/mboxd.sock" show dataplane counters >"$run/$tag.counters" 2>&1 || true
  stop_gateway
}

run_secgw() {  # CASE SIZE ROUND MODE
  local tag=secgw-$1-$2-$3 cfg unprotected
  [[ $4 == check ]] && tag=secgw-$1-$2-check
  devices "$1" "$2" "$([[ $4 == check ]] && echo "$run/$tag.out.pcap")"
  cfg=$run/$tag.cfg
  secgw_config "$1" >"$cfg"
  # -u: the unprotected (tunnel-side) port. Encrypt and forward: LAN in on port 0, out on 1.
  case $1 in dec-*) unprotected=0x1 ;; *) unprotected=0x2 ;; esac
  rm -rf "/var/run/dpdk/$prefix_secgw"
  # One lcore (1), which is both EAL main and the only worker: the same CPU as mboxd's worker.
  "$secgw" --no-huge -m 512 --no-pci -l 1 --file-prefix "$prefix_secgw" \
    --vdev "$in_dev" --vdev "$out_dev" \
    --vdev crypto_aesni_mb -- -p 0x3 -P -u "$unprotected" --config "(0,0,1),(1,0,1)" -f "$cfg" \
    >"$run/$tag.log" 2>&1 &
  pid=$!
  if [[ $4 == check ]]; then check_output ipsec-secgw "$prefix_secgw" "$tag" "$1" "$2"; return; fi
  measure ipsec-secgw "$prefix_secgw" "$tag"
  stop_gateway
}

# ---- crypto ceiling -----------------------------------------------------------------------
declare -A ceil=()
if ((ceiling)) && [[ -x $build/bench/mbox-bench-crypto ]]; then
  log "crypto ceiling: mbox-bench-crypto --seconds 0.3 --sizes ${sizes// /,} (EspEngine encrypt)"
  if timeout 300 "$build/bench/mbox-bench-crypto" --seconds 0.3 --sizes "${sizes// /,}" >"$run/ceiling.txt" 2>&1; then
    while IFS='|' read -r _ alg bytes path mpps _; do
      alg=$(xargs <<<"$alg") bytes=$(xargs <<<"$bytes") path=$(xargs <<<"$path") mpps=$(xargs <<<"$mpps")
      [[ $path == engine ]] || continue
      case $alg in AES-128-GCM-16) ceil[gcm-$bytes]=$mpps ;; "AES-128-CBC + HMAC-SHA1-96") ceil[cbc-$bytes]=$mpps ;; esac
    done <"$run/ceiling.txt"
  else
    log "mbox-bench-crypto failed or took too long; no ceiling column (see $run/ceiling.txt with -k)"
  fi
elif ((ceiling)); then
  log "no $build/bench/mbox-bench-crypto (ninja -C build bench/mbox-bench-crypto): no ceiling column"
fi

# ---- the runs -----------------------------------------------------------------------------
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
declare -A res_mbox=() res_secgw=()
if ((check)); then
  # A gateway that forwards ESP undecrypted or sends cleartext where it should encrypt
  # would measure fast: check every case's output once (first size) before metering.
  saved=$duration; duration=0.2
  for c in $cases; do
    run_mbox "$c" "${sizes%% *}" 0 check
    run_secgw "$c" "${sizes%% *}" 0 check
  done
  duration=$saved
fi
for c in $cases; do
  for s in $sizes; do
    for r in $(seq "$rounds"); do
      run_mbox "$c" "$s" "$r" measure
      res_mbox[$c-$s]+=" $mpps"
      log "$c $s bytes, round $r: mboxd $mpps Mpps"
      run_secgw "$c" "$s" "$r" measure
      res_secgw[$c-$s]+=" $mpps"
      log "$c $s bytes, round $r: ipsec-secgw $mpps Mpps"
    done
  done
done

load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "mboxd vs ipsec-secgw (DPDK $(pkg-config --modversion libdpdk), aesni_mb), 1 worker on lcore 1, net_pcap in/out"
echo "$(date -u +%FT%TZ), load average $load, $(nproc) CPUs; ${duration} s metered after ${warmup} s, median of $rounds round(s)"
echo "sizes: inner IPv4 packet bytes; Mpps: TX packets/s of the output port (ethdev counters via telemetry)"
printf '%-8s %6s %10s %11s %11s %13s\n' case bytes "mbox Mpps" "secgw Mpps" mbox/secgw "ceiling Mpps"
for c in $cases; do
  for s in $sizes; do
    m=$(median <<<"${res_mbox[$c-$s]}") g=$(median <<<"${res_secgw[$c-$s]}")
    ratio=$(awk -v m="$m" -v g="$g" 'BEGIN {print (g > 0 ? sprintf("%.2f", m / g) : "-")}')
    cl=-; [[ $c != fwd ]] && cl=${ceil[${c#*-}-$s]:--}
    printf '%-8s %6s %10.3f %11.3f %11s %13s\n' "$c" "$s" "$m" "$g" "$ratio" "$cl"
  done
done
((rounds == 1)) || { echo "rounds (mbox | secgw):"; for c in $cases; do for s in $sizes; do
  echo "  $c $s:${res_mbox[$c-$s]} |${res_secgw[$c-$s]}"; done; done; }
