#!/usr/bin/env bash
# The strongSwan harness (swan.sh) proven on strongSwan alone: two charons with
# kernel-libipsec, each in its own namespace, a tunnel initiated from A, hosts pinging
# through it. IKEv2 with a PSK, then with RSA certificates (made by `pki`, then by
# openssl). Prints TAP; the timing of start-up and of one tunnel goes to "#" lines.
#
#   hostA 10.1.0.2 -- [swanA 10.1.0.1 | 198.51.100.1] ==== [198.51.100.2 | 10.2.0.1 swanB] -- 10.2.0.2 hostB
#
#   swan_selftest.sh [BUILD_DIR]   (BUILD_DIR unused: nothing of mbox is needed)
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/tap.sh"
source "$here/swan.sh"

if [[ ! -x $SWAN_CHARON ]] || ! command -v swanctl >/dev/null ||
   [[ ! -e /usr/lib/ipsec/plugins/libstrongswan-openssl.so ]]; then
  echo "1..0 # SKIP strongSwan (charon, swanctl, openssl plugin) missing: run scripts/install-deps.sh"
  exit 0
fi

finish() {
  if ((failed)); then
    for d in swanA swanB; do [[ -n ${SWAN_RUN:-} ]] && swan_dump "$d"; done
  fi
  swan_cleanup
  echo "1..$n"
  ((failed == 0)) || exit 1
}
swan_init "sws$$"
trap finish EXIT

if swan_lab_up; then ok "namespaces hostA, swanA, swanB, hostB ($SWAN_PREFIX-*)"; else not_ok "namespaces"; exit 1; fi
A=$SWAN_NS_GA B=$SWAN_NS_GB

if swan_start "$A" swanA && swan_start "$B" swanB; then
  ok "two charons start (swanA ${SWAN_START_MS[swanA]} ms, swanB ${SWAN_START_MS[swanB]} ms)"
  echo "# timing: charon start-up until vici answers: swanA ${SWAN_START_MS[swanA]} ms, swanB ${SWAN_START_MS[swanB]} ms"
else
  not_ok "two charons start"
  exit 1
fi
# Each pid file is in the daemon's private /run, and names that daemon.
pid_a=$(cat "$(swan_dir swanA)/run/charon.pid" 2>/dev/null) pid_b=$(cat "$(swan_dir swanB)/run/charon.pid" 2>/dev/null)
if [[ $pid_a == "${SWAN_PID[swanA]}" && $pid_b == "${SWAN_PID[swanB]}" && $pid_a != "$pid_b" ]]; then
  ok "each charon has its own /run (charon.pid $pid_a and $pid_b)"
else
  not_ok "each charon has its own /run" "pid files: '$pid_a' '$pid_b', started: ${SWAN_PID[swanA]} ${SWAN_PID[swanB]}"
fi

# The proposals and what list-sas must show for them: "ENCR/KEYSIZE/INTEG/DH" for the
# IKE_SA, "ENCR/KEYSIZE/INTEG" for the CHILD_SA (INTEG empty with an AEAD).
IKE_PROP=aes128-sha1-modp2048 ESP_PROP=aes128-sha1
IKE_EXPECT=AES_CBC/128/HMAC_SHA1_96/MODP_2048 ESP_EXPECT=AES_CBC/128/HMAC_SHA1_96

# conn LOCAL_ADDR REMOTE_ADDR LOCAL_TS REMOTE_TS LOCAL_AUTH_BLOCK REMOTE_AUTH_BLOCK
conn() {
  cat <<CONF
connections {
  gw {
    version = 2
    local_addrs = $1
    remote_addrs = $2
    proposals = $IKE_PROP
    local {
      $5
    }
    remote {
      $6
    }
    children {
      net {
        local_ts = $3
        remote_ts = $4
        esp_proposals = $ESP_PROP
      }
    }
  }
}
CONF
}

# run_case LABEL CONF_A CONF_B SECRETS ID_A ID_B: load both, initiate from A, traffic,
# assertions (ID_A, ID_B: the identities each side must have proved to the other).
run_case() {
  local label=$1 conf_a=$2 conf_b=$3 secrets=$4 id_a=$5 id_b=$6 out
  if out=$(swan_load "$A" swanA "$conf_a" "$secrets" 2>&1 && swan_load "$B" swanB "$conf_b" "$secrets" 2>&1); then
    ok "$label: swanctl --load-all on both"
  else
    not_ok "$label: swanctl --load-all on both" "$out"
    return
  fi
  local t0 t1
  t0=$(swan_now_ms)
  if out=$(swan_initiate "$A" swanA net gw 2>&1); then
    t1=$(swan_now_ms)
    ok "$label: swanA initiates, IKE_SA and CHILD_SA established ($((t1 - t0)) ms)"
    echo "# timing: $label: swanctl --initiate until established: $((t1 - t0)) ms"
  else
    not_ok "$label: swanA initiates" "$out"
    return
  fi
  check "$label: swanB has the CHILD_SA installed" swan_wait_child "$B" swanB net INSTALLED 5

  ip netns exec "$B" tcpdump -i wan0 -n -U -w "$SWAN_RUN/wan.pcap" >/dev/null 2>&1 &
  local dump=$!
  sleep 0.5
  check "$label: hostA pings hostB through the tunnel" ip netns exec "$SWAN_NS_HA" ping -c 5 -i 0.2 -W 2 10.2.0.2
  check "$label: hostB pings hostA through the tunnel" ip netns exec "$SWAN_NS_HB" ping -c 3 -i 0.2 -W 2 10.1.0.2
  sleep 0.3
  kill -INT "$dump" 2>/dev/null; wait "$dump" 2>/dev/null
  local esp plain
  esp=$(tcpdump -n -r "$SWAN_RUN/wan.pcap" 'udp port 4500' 2>/dev/null | wc -l)
  plain=$(tcpdump -n -r "$SWAN_RUN/wan.pcap" 'icmp or net 10.0.0.0/8' 2>/dev/null | wc -l)
  if ((esp >= 16 && plain == 0)); then
    ok "$label: on the WAN only ESP in UDP 4500 ($esp packets), no inner packet in the clear"
  else
    not_ok "$label: on the WAN only ESP in UDP 4500" "udp/4500: $esp, plain: $plain" \
      "$(tcpdump -n -r "$SWAN_RUN/wan.pcap" 2>/dev/null | head -20)"
  fi

  local sa_a sa_b
  sa_a=$(swan_sas_json "$A" swanA) sa_b=$(swan_sas_json "$B" swanB)
  if out=$(/usr/bin/python3 - "$sa_a" "$sa_b" "$id_a" "$id_b" "$IKE_EXPECT" "$ESP_EXPECT" <<'PY' 2>&1
import json, sys
a, b = (json.loads(x) for x in sys.argv[1:3])
id_a, id_b, ike_expect, esp_expect = sys.argv[3:]
def algs(sa, *keys):
    return "/".join(sa.get(k, "") for k in keys)
assert len(a) == 1 and len(b) == 1, (a, b)
for ike in a + b:
    assert ike["state"] == "ESTABLISHED", ike
    assert algs(ike, "encr-alg", "encr-keysize", "integ-alg", "dh-group") == ike_expect, ike
    assert ike["local-port"] == "4500" and ike["remote-port"] == "4500", ike   # the faked NAT
    assert len(ike["child-sas"]) == 1, ike
    c = ike["child-sas"][0]
    assert c["state"] == "INSTALLED" and c["encap"] == "yes" and c["mode"] == "TUNNEL", c
    assert algs(c, "encr-alg", "encr-keysize", "integ-alg") == esp_expect, c
    assert int(c["packets-in"]) >= 8 and int(c["packets-out"]) >= 8, c
    assert int(c["bytes-in"]) > 0 and int(c["bytes-out"]) > 0, c
ia, ib = a[0], b[0]
assert (ia["initiator-spi"], ia["responder-spi"]) == (ib["initiator-spi"], ib["responder-spi"]), (ia, ib)
assert ia.get("initiator") == "yes" and "initiator" not in ib, (ia, ib)
assert ia["local-id"] == ib["remote-id"] == id_a and ib["local-id"] == ia["remote-id"] == id_b, (ia, ib)
ca, cb = ia["child-sas"][0], ib["child-sas"][0]
assert ca["spi-in"] == cb["spi-out"] and ca["spi-out"] == cb["spi-in"], (ca, cb)
assert ca["packets-out"] == cb["packets-in"] and cb["packets-out"] == ca["packets-in"], (ca, cb)
assert ca["local-ts"] == cb["remote-ts"] == ["10.1.0.0/24"] and ca["remote-ts"] == cb["local-ts"] == ["10.2.0.0/24"], (ca, cb)
print(f'IKE SPIs {ia["initiator-spi"]}/{ia["responder-spi"]}, ESP SPIs A->B {ca["spi-out"]} B->A {ca["spi-in"]}, '
      f'packets A out {ca["packets-out"]} in {ca["packets-in"]}')
PY
  ); then
    ok "$label: list-sas on both: IDs, INSTALLED, IKE $IKE_EXPECT, ESP $ESP_EXPECT, matching SPIs and counters ($out)"
  else
    not_ok "$label: list-sas on both sides agree" "$out" "swanA: $(swan_list_sas "$A" swanA)" "swanB: $(swan_list_sas "$B" swanB)"
  fi
  # The helpers the interop tests will use.
  local st spi_a spi_b pk
  st=$(swan_child_field "$A" swanA net state) spi_a=$(swan_child_field "$A" swanA net spi-out)
  spi_b=$(swan_child_field "$B" swanB net spi-in) pk=$(swan_child_field "$B" swanB net packets-in)
  if [[ $st == INSTALLED && -n $spi_a && $spi_a == "$spi_b" && $pk -gt 0 &&
        $(swan_ike_field "$B" swanB gw state) == ESTABLISHED && $(swan_child_count "$B" swanB) == 1 ]]; then
    ok "$label: swan_child_field / swan_ike_field / swan_child_count"
  else
    not_ok "$label: field helpers" "state '$st' spi A out '$spi_a' B in '$spi_b' packets '$pk'"
  fi
  local route
  route=$(ip -n "$A" route show table 220)
  if [[ $route == *"10.2.0.0/24 dev ipsec0"*"src 10.1.0.1"* ]]; then
    ok "$label: kernel-libipsec's route in table 220 ($route)"
  else
    not_ok "$label: kernel-libipsec's route in table 220" "$route"
  fi

  if out=$(swan_terminate "$A" swanA gw 2>&1) && [[ $(swan_child_count "$A" swanA) == 0 ]]; then
    ok "$label: swanA terminates the IKE_SA"
  else
    not_ok "$label: swanA terminates the IKE_SA" "$out"
  fi
  local i
  for i in $(seq 1 20); do [[ -z $(swan_list_sas "$B" swanB | grep 'list-sa event') ]] && break; sleep 0.1; done
  check "$label: swanB deleted its SAs too" test -z "$(swan_list_sas "$B" swanB | grep 'list-sa event')"
  if ! ip netns exec "$SWAN_NS_HA" ping -c 1 -W 1 10.2.0.2 >/dev/null 2>&1 && [[ -z $(ip -n "$A" route show table 220) ]]; then
    ok "$label: no tunnel, no route in table 220, no ping"
  else
    not_ok "$label: the tunnel is gone" "table 220: $(ip -n "$A" route show table 220)"
  fi
}

# --- PSK ---------------------------------------------------------------------------
psk_secret='ike-gw {
    id-a = 198.51.100.1
    id-b = 198.51.100.2
    secret = "swan selftest pre-shared key"
  }'
psk_a='auth = psk
      id = 198.51.100.1' psk_b='auth = psk
      id = 198.51.100.2'
run_case "PSK" \
  "$(conn 198.51.100.1 198.51.100.2 10.1.0.0/24 10.2.0.0/24 "$psk_a" "$psk_b")" \
  "$(conn 198.51.100.2 198.51.100.1 10.2.0.0/24 10.1.0.0/24 "$psk_b" "$psk_a")" \
  "$psk_secret" 198.51.100.1 198.51.100.2

# --- PSK with AES-GCM and ECP-256 (DH 19) -------------------------------------------
IKE_PROP=aes256gcm16-prfsha256-ecp256 ESP_PROP=aes256gcm16
IKE_EXPECT=AES_GCM_16/256//ECP_256 ESP_EXPECT=AES_GCM_16/256/
run_case "PSK GCM/ECP256" \
  "$(conn 198.51.100.1 198.51.100.2 10.1.0.0/24 10.2.0.0/24 "$psk_a" "$psk_b")" \
  "$(conn 198.51.100.2 198.51.100.1 10.2.0.0/24 10.1.0.0/24 "$psk_b" "$psk_a")" \
  "$psk_secret" 198.51.100.1 198.51.100.2
IKE_PROP=aes128-sha1-modp2048 ESP_PROP=aes128-sha1
IKE_EXPECT=AES_CBC/128/HMAC_SHA1_96/MODP_2048 ESP_EXPECT=AES_CBC/128/HMAC_SHA1_96

# --- RSA certificates ---------------------------------------------------------------
# swanA is known by its DN, swanB by its IP address (the certificate's subjectAltName).
dn_a='"C=CH, O=mbox test, CN=swanA"'
rsa_case() {  # rsa_case TOOL
  local tool=$1 dir=$SWAN_RUN/pki-$1
  if SWAN_PKI_TOOL=$tool swan_pki "$dir" swanA=198.51.100.1 swanB=198.51.100.2 &&
     swan_pki_install swanA swanA "$dir" && swan_pki_install swanB swanB "$dir"; then
    ok "RSA ($tool): CA and two gateway certificates"
  else
    not_ok "RSA ($tool): CA and two gateway certificates"
    return
  fi
  run_case "RSA ($tool)" \
    "$(conn 198.51.100.1 198.51.100.2 10.1.0.0/24 10.2.0.0/24 "auth = pubkey
      certs = swanA.pem
      id = $dn_a" "auth = pubkey
      id = 198.51.100.2")" \
    "$(conn 198.51.100.2 198.51.100.1 10.2.0.0/24 10.1.0.0/24 "auth = pubkey
      certs = swanB.pem
      id = 198.51.100.2" "auth = pubkey
      id = $dn_a")" "" "C=CH, O=mbox test, CN=swanA" 198.51.100.2
}
if command -v pki >/dev/null; then rsa_case pki; fi
rsa_case openssl
