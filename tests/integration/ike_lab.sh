# Shared by the IKE interop tests (ike_swan_test.sh, ike_swan_rekey_test.sh,
# ike_mbox_pair_test.sh): the namespaces, mboxd's configuration from a scenario's
# policy words, strongSwan's matching swanctl.conf, waits and assertions. Source it
# after tap.sh, scripts/lab.sh and swan.sh; call ike_init PREFIX in the main shell.
#
#   hostA 10.1.0.2 -- lan0 [mboxd eth1 10.1.0.1 | eth0 198.51.100.1] wan0 ----
#        ---- wan0 198.51.100.2 [charon "sw" | 10.2.0.1] lan0 -- eth0 10.2.0.2 hostB
#
# mboxd's namespace has no kernel addresses: DPDK's af_packet owns lan0 and wan0.

IKE_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IKE_CHECK=("/usr/bin/python3" "$IKE_HERE/ike_check.py")
IKE_PSK=Letmein99

ike_init() {  # ike_init PREFIX: lab + swan state, namespace names
  lab_init "$1"
  swan_init "$1"
  NS_HA=$1-ha NS_MB=$1-mb NS_SW=$1-sw NS_HB=$1-hb
  LAB_NS_A=$NS_HA LAB_NS_B=$NS_HB   # lab_in a|b and lab_tcp_transfer
  MB_SOCK=$LAB_RUN/mb.sock
  IKE_SCENARIO_FAILED=0
}

# ike_test_begin PREFIX [nft]: the common start of the strongSwan interop tests: skip
# (TAP) without strongSwan (or nft when asked), cleanup on exit, the four namespaces and
# charon "sw". Call in the main shell; exits on failure.
ike_test_begin() {
  local missing=0
  [[ -x $SWAN_CHARON && -e /usr/lib/ipsec/plugins/libstrongswan-openssl.so ]] || missing=1
  command -v swanctl >/dev/null || missing=1
  if [[ ${2:-} == nft ]] && ! command -v nft >/dev/null; then missing=1; fi
  if ((missing)); then
    echo "1..0 # SKIP strongSwan (charon, swanctl, openssl plugin)${2:+ or $2} missing: run scripts/install-deps.sh"
    exit 0
  fi
  ike_init "$1"
  trap ike_test_finish EXIT
  if ike_topology && swan_start "$NS_SW" sw; then
    ok "namespaces hostA, mboxd, strongSwan, hostB ($LAB_PREFIX-*), charon started"
  else
    not_ok "namespaces and charon"; exit 1
  fi
}
ike_test_finish() {
  swan_cleanup
  lab_down
  echo "1..$n"
  ((failed == 0)) || exit 1
}

# The four namespaces of the picture above.
ike_topology() {
  local ns
  for ns in "$NS_HA" "$NS_MB" "$NS_SW" "$NS_HB"; do lab_namespace "$ns" || return 1; done
  lab_veth "$NS_MB" lan0 "$NS_HA" eth0
  lab_veth "$NS_MB" wan0 "$NS_SW" wan0
  lab_veth "$NS_SW" lan0 "$NS_HB" eth0
  ip -n "$NS_HA" addr add 10.1.0.2/24 dev eth0
  ip -n "$NS_HA" route add default via 10.1.0.1
  ip -n "$NS_SW" addr add 198.51.100.2/24 dev wan0
  ip -n "$NS_SW" addr add 10.2.0.1/24 dev lan0
  ip netns exec "$NS_SW" sysctl -qw net.ipv4.ip_forward=1
  ip -n "$NS_HB" addr add 10.2.0.2/24 dev eth0
  ip -n "$NS_HB" route add default via 10.2.0.1
}

# ---- algorithm words -> strongSwan proposal keywords ---------------------------------
swan_enc() {
  case $1 in
    3DES) echo 3des ;; AES) echo aes128 ;; AES-192) echo aes192 ;; AES-256) echo aes256 ;;
    AES-GCM-128) echo aes128gcm16 ;; AES-GCM-256) echo aes256gcm16 ;; *) return 1 ;;
  esac
}
swan_integ() {
  case $1 in
    MD5) echo md5 ;; MD5-128) echo md5_128 ;; SHA) echo sha1 ;; SHA-256) echo sha256 ;; SHA-512) echo sha512 ;; *) return 1 ;;
  esac
}
swan_prf() {
  case $1 in
    MD5|MD5-128) echo prfmd5 ;; SHA) echo prfsha1 ;; SHA-256) echo prfsha256 ;; SHA-512) echo prfsha512 ;; *) return 1 ;;
  esac
}
swan_dh() {
  case $1 in
    1) echo modp768 ;; 2) echo modp1024 ;; 5) echo modp1536 ;; 14) echo modp2048 ;; 15) echo modp3072 ;;
    16) echo modp4096 ;; 17) echo modp6144 ;; 18) echo modp8192 ;; 19) echo ecp256 ;; 20) echo ecp384 ;;
    21) echo ecp521 ;; 31) echo curve25519 ;; *) return 1 ;;
  esac
}
# strongSwan's list-sas name of a DH group (dh-group field)
swan_dh_name() {
  case $1 in
    1) echo MODP_768 ;; 2) echo MODP_1024 ;; 5) echo MODP_1536 ;; 14) echo MODP_2048 ;; 15) echo MODP_3072 ;;
    16) echo MODP_4096 ;; 17) echo MODP_6144 ;; 18) echo MODP_8192 ;; 19) echo ECP_256 ;; 20) echo ECP_384 ;;
    21) echo ECP_521 ;; 31) echo CURVE_25519 ;; *) return 1 ;;
  esac
}

# swan_ike_proposal "ENC HASH GROUP": e.g. "AES SHA 14" -> aes128-sha1-prfsha1-modp2048
swan_ike_proposal() {
  local enc hash group
  read -r enc hash group <<<"$1"
  echo "$(swan_enc "$enc")-$(swan_integ "$hash")-$(swan_prf "$hash")-$(swan_dh "$group")"
}

# swan_esp_proposal "ENC [HASH] [PFS]": "AES SHA" -> aes128-sha1, "AES-GCM-256 14" ->
# aes256gcm16-modp2048 (a group: PFS on CREATE_CHILD_SA)
swan_esp_proposal() {
  local words w out
  read -ra words <<<"$1"
  out=$(swan_enc "${words[0]}")
  for w in "${words[@]:1}"; do
    if [[ $w =~ ^[0-9]+$ ]]; then out+=-$(swan_dh "$w"); else out+=-$(swan_integ "$w"); fi
  done
  echo "$out"
}

# ---- mboxd ------------------------------------------------------------------------------
# mbox_conf [key=value...]: mboxd's configuration for a scenario. Keys (defaults):
#   ike="AES SHA 14" esp="AES SHA" ike_life=28800 esp_life=3600 wan=198.51.100.1/24
#   peer=198.51.100.2 local_ip=198.51.100.1 (add " nated" for NAT) local_nets=10.1.0.0/24
#   remote_nets=10.2.0.0/24 lan_addrs="10.1.0.1/24" routes="10.2.0.0/24 198.51.100.2"
#   peer_extra="" (more peer lines, e.g. " dpd 5") start=1 (ipsec start) psk=$IKE_PSK
#   pki="" (a directory with ca.pem, mbox.pem, mbox.key: rsa-sig instead of the PSK)
#   version=2 (the ike-policy's IKE version)
mbox_conf() {
  local ike="AES SHA 14" esp="AES SHA" ike_life=28800 esp_life=3600 wan=198.51.100.1/24 version=2
  local peer=198.51.100.2 local_ip=198.51.100.1 local_nets=10.1.0.0/24 remote_nets=10.2.0.0/24
  local lan_addrs="10.1.0.1/24" routes="10.2.0.0/24 198.51.100.2" peer_extra="" start=1 psk=$IKE_PSK pki=""
  (($#)) && local "$@"
  local a r auth=psk secret=" psk $psk"
  [[ -n $pki ]] && auth=rsa-sig secret=""
  cat <<CONF
interface eth0
 dpdk-device net_af_packet1,iface=wan0
 ip address $wan
 enable
!
interface eth1
 dpdk-device net_af_packet0,iface=lan0
$(for a in $lan_addrs; do echo " ip address $a"; done)
 enable
!
$(while read -r r; do [[ -n $r ]] && echo "ip route ${r% *} nexthop ${r#* }"; done <<<"$routes")
!
ipsec ike-policy 10
 authentication $auth
 policy $ike
 keylife $ike_life
 version $version
!
ipsec esp-policy 10 policy $esp keylife $esp_life
!
ipsec peer $peer
 local ip $local_ip
 local-net $local_nets
 remote-net $remote_nets
 policy ike 10 esp 10
${secret:+$secret
}${peer_extra:+$peer_extra
}!
$([[ -n $pki ]] && printf 'ipsec pki\n ca-cert %s/ca.pem\n local-cert %s/mbox.pem\n local-key %s/mbox.key\n!\n' "$pki" "$pki" "$pki")
firewall-snat 10 exempt outbound eth0 src $local_nets dst $remote_nets remark "bypass NAT for VPN tunnel"
firewall-snat 12 overload outbound eth0 remark "PAT all sources for Internet access"
!
CONF
  ((start)) && echo "ipsec start"
}

# mb_start NAME CONF_TEXT [NS] [SOCK]: write the config, start mboxd (logs to $LAB_RUN/NAME.log)
mb_start() {
  local name=$1 ns=${3:-$NS_MB} sock=${4:-$MB_SOCK}
  printf '%s\n' "$2" >"$LAB_RUN/$name.conf"
  rm -f "$sock"
  MB_LOG=$LAB_RUN/$name.log
  lab_start_mboxd "$ns" "$LAB_RUN/$name.conf" "$sock" "$name"
}
mb_stop() { lab_stop_gateway; }

mb() { "$LAB_BUILD/mbox" --socket "${MB_SOCKET_OVERRIDE:-$MB_SOCK}" "$@"; }
mb_status() { mb --json show ipsec status 2>&1; }   # JSON (or the error text)
mb_log() { mb show ipsec log 2>&1; }

# mb_wait_up [TIMEOUT_S] [SOCK]: until mbox's peer is established with a CHILD SA
mb_wait_up() {
  local deadline=$(( $(swan_now_ms) + ${1:-15} * 1000 ))
  while (( $(swan_now_ms) < deadline )); do
    "${IKE_CHECK[@]}" up "$(MB_SOCKET_OVERRIDE=${2:-} mb_status)" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  "${IKE_CHECK[@]}" up "$(MB_SOCKET_OVERRIDE=${2:-} mb_status)"
  return 1
}

# mb_wait_log TEXT [TIMEOUT_S]: until `show ipsec log` contains TEXT
mb_wait_log() {
  local deadline=$(( $(swan_now_ms) + ${2:-10} * 1000 ))
  while (( $(swan_now_ms) < deadline )); do
    mb_log | grep -qF -- "$1" && return 0
    sleep 0.3
  done
  return 1
}

# ---- strongSwan --------------------------------------------------------------------------
# swan_conf [key=value...]: swanctl.conf for charon "sw". Keys (defaults):
#   ike="AES SHA 14" esp="AES SHA" (mbox words, or ike_prop=/esp_prop= strongSwan keywords)
#   local=198.51.100.2 remote=198.51.100.1 remote_id=198.51.100.1 local_ts=10.2.0.0/24
#   remote_ts=10.1.0.0/24 child_extra="" ike_extra="" (more lines, e.g. "rekey_time = 20s")
#   cert="" (a certificate file installed in charon's x509/: public-key authentication)
#   local_id=$local version=2 (1: IKEv1, main mode unless ike_extra says aggressive = yes)
swan_conf() {
  local ike="AES SHA 14" esp="AES SHA" ike_prop="" esp_prop="" local=198.51.100.2 remote=198.51.100.1
  local remote_id=198.51.100.1 local_ts=10.2.0.0/24 remote_ts=10.1.0.0/24 child_extra="" ike_extra="" cert=""
  local local_id="" version=2
  (($#)) && local "$@"
  local auth=psk certs=""
  [[ -n $cert ]] && auth=pubkey certs="certs = $cert"
  [[ -n $local_id ]] || local_id=$local
  [[ -n $ike_prop ]] || ike_prop=$(swan_ike_proposal "$ike")
  [[ -n $esp_prop ]] || esp_prop=$(swan_esp_proposal "$esp")
  cat <<CONF
connections {
  mbox {
    version = $version
    local_addrs = $local
    remote_addrs = $remote
    proposals = $ike_prop
    $ike_extra
    local {
      auth = $auth
      id = "$local_id"
      $certs
    }
    remote {
      auth = $auth
      id = "$remote_id"
    }
    children {
      net {
        local_ts = $local_ts
        remote_ts = $remote_ts
        esp_proposals = $esp_prop
        $child_extra
      }
    }
  }
}
CONF
}

# sw_load CONF_TEXT: (re)load charon sw's connections and the PSK
sw_load() {
  swan_load "$NS_SW" sw "$1" "  ike-mbox {
    secret = \"$IKE_PSK\"
  }"
}
sw_sas() { swan_sas_json "$NS_SW" sw; }
sw_terminate_all() { swan_ctl sw --terminate --ike mbox --force --timeout 5 >/dev/null 2>&1 || true; }

# sw_block_mbox_init ADDR / sw_unblock: in charon's namespace, drop IKE requests (not
# responses: flags byte of the IKE header, bit 0x20) that ADDR sends to port 500, so
# mbox's own initiation never arrives and strongSwan is the initiator.
sw_block_mbox_init() {
  ip netns exec "$NS_SW" nft -f - <<NFT
table inet ikeblock {
  chain input { type filter hook input priority 0;
    ip saddr $1 udp dport 500 @th,216,8 & 0x20 == 0 counter drop
  }
}
NFT
}
# sw_block_mbox_v1_init ADDR: in charon's namespace, drop the main mode requests that
# start an exchange (responder cookie zero: ISAKMP has no initiator flag) that ADDR sends
# to port 500, so that strongSwan is the initiator. sw_unblock removes it.
sw_block_mbox_v1_init() {
  ip netns exec "$NS_SW" nft -f - <<NFT
table inet ikeblock {
  chain input { type filter hook input priority 0;
    ip saddr $1 udp dport 500 @th,128,64 0 counter drop
  }
}
NFT
}

sw_unblock() { ip netns exec "$NS_SW" nft delete table inet ikeblock 2>/dev/null || true; }
sw_blocked_count() {
  ip netns exec "$NS_SW" nft list table inet ikeblock 2>/dev/null | sed -n 's/.*counter packets \([0-9]*\).*/\1/p'
}

# ---- traffic ------------------------------------------------------------------------------
ping_ab() { lab_in a ping -c "${1:-4}" -i 0.2 -W 2 "${2:-10.2.0.2}" 2>&1; }
ping_ba() { lab_in b ping -c "${1:-4}" -i 0.2 -W 2 "${2:-10.1.0.2}" 2>&1; }

# ping_loss OUTPUT: "sent received" from ping's summary line
ping_counts() { sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1 \2/p' <<<"$1"; }

# tunnel_checks LABEL [ike_check pair options...]: both views agree, traffic both ways
tunnel_checks() {
  local label=$1 out
  shift
  check "$label: hostA pings hostB through the tunnel" ping_ab 5
  check "$label: hostB pings hostA through the tunnel" ping_ba 3
  if out=$("${IKE_CHECK[@]}" pair "$(mb_status)" "$(sw_sas)" --udp "$@" 2>&1); then
    ok "$label: mbox established, strongSwan INSTALLED, SPIs match, packets counted on both ($out)"
  else
    not_ok "$label: both views of the tunnel agree" "$out"
  fi
}

# ike_expect / esp_expect: strongSwan's names for mbox's IKE and ESP words
ike_expect() {  # swan's encr-alg[-keysize]/integ-alg/prf-alg for mbox IKE words
  local enc hash e i p
  read -r enc hash _ <<<"$1"
  case $enc in 3DES) e=3DES_CBC ;; AES) e=AES_CBC-128 ;; AES-192) e=AES_CBC-192 ;; AES-256) e=AES_CBC-256 ;; esac
  case $hash in
    MD5) i=HMAC_MD5_96 p=PRF_HMAC_MD5 ;; MD5-128) i=HMAC_MD5_128 p=PRF_HMAC_MD5 ;; SHA) i=HMAC_SHA1_96 p=PRF_HMAC_SHA1 ;;
    SHA-256) i=HMAC_SHA2_256_128 p=PRF_HMAC_SHA2_256 ;; SHA-512) i=HMAC_SHA2_512_256 p=PRF_HMAC_SHA2_512 ;;
  esac
  echo "$e/$i/$p"
}
esp_expect() {
  local enc hash e i=""
  read -r enc hash _ <<<"$1"
  case $enc in
    3DES) e=3DES_CBC ;; AES) e=AES_CBC-128 ;; AES-192) e=AES_CBC-192 ;; AES-256) e=AES_CBC-256 ;;
    AES-GCM-128) e=AES_GCM_16-128 ;; AES-GCM-256) e=AES_GCM_16-256 ;;
  esac
  case $hash in
    MD5) i=HMAC_MD5_96 ;; MD5-128) i=HMAC_MD5_128 ;; SHA) i=HMAC_SHA1_96 ;; SHA-256) i=HMAC_SHA2_256_128 ;; SHA-512) i=HMAC_SHA2_512_256 ;;
  esac
  echo "$e/$i"
}
# ike_nat_topology: mbox behind an nftables masquerade, beside the main lab (NS_HA8,
# NS_MB8, NS_NAT; charon's namespace gets wan1 203.0.113.2):
#   hostA -- [mboxd 192.168.7.2] wan0 -- in0 [NAT 192.168.7.1 | 203.0.113.1 masquerade] out0 --
#        -- wan1 [203.0.113.2 charon] -- hostB
ike_nat_topology() {
  NS_HA8=$LAB_PREFIX-ha8 NS_MB8=$LAB_PREFIX-mb8 NS_NAT=$LAB_PREFIX-nat
  lab_namespace "$NS_HA8" && lab_namespace "$NS_MB8" && lab_namespace "$NS_NAT"
  lab_veth "$NS_MB8" lan0 "$NS_HA8" eth0
  lab_veth "$NS_MB8" wan0 "$NS_NAT" in0
  lab_veth "$NS_NAT" out0 "$NS_SW" wan1
  ip -n "$NS_HA8" addr add 10.1.0.2/24 dev eth0
  ip -n "$NS_HA8" route add default via 10.1.0.1
  ip -n "$NS_NAT" addr add 192.168.7.1/24 dev in0
  ip -n "$NS_NAT" addr add 203.0.113.1/24 dev out0
  ip netns exec "$NS_NAT" sysctl -qw net.ipv4.ip_forward=1
  ip -n "$NS_SW" addr add 203.0.113.2/24 dev wan1
  ip netns exec "$NS_NAT" nft -f - <<'NFT'
table ip nat {
  chain post { type nat hook postrouting priority 100;
    oifname "out0" counter masquerade
  }
}
NFT
}

# ike_nat_checks LABEL VERSION: in ike_nat_topology, mbox (`nated`) initiates to strongSwan
# through the masquerade; both views agree, strongSwan sees mbox at the NAT's address.
ike_nat_checks() {
  local label=$1 out rh rp nr rid conntrack
  sw_load "$(swan_conf version="$2" local=203.0.113.2 remote=%any remote_id=192.168.7.2)" >/dev/null 2>&1
  LAB_NS_A=$NS_HA8
  if mb_start mb8 "$(mbox_conf version="$2" wan=192.168.7.2/24 local_ip="192.168.7.2 nated" peer=203.0.113.2 \
      routes="0.0.0.0/0 192.168.7.1")" "$NS_MB8"; then
    if out=$(mb_wait_up 20) && swan_wait_child "$NS_SW" sw net INSTALLED 5; then
      ok "$label: established through the NAT"
      tunnel_checks "$label" --role initiator --nat-local
      rh=$(swan_ike_field "$NS_SW" sw mbox remote-host) rp=$(swan_ike_field "$NS_SW" sw mbox remote-port)
      nr=$(swan_ike_field "$NS_SW" sw mbox nat-remote) rid=$(swan_ike_field "$NS_SW" sw mbox remote-id)
      if [[ $rh == 203.0.113.1 && $nr == yes && $rid == 192.168.7.2 ]]; then
        ok "$label: strongSwan sees mbox as $rid at the NAT's $rh:$rp (nat-remote=yes)"
      else
        not_ok "$label: strongSwan sees mbox behind the NAT" "remote-host $rh:$rp nat-remote '$nr' remote-id '$rid'"
      fi
      conntrack=$(ip netns exec "$NS_NAT" nft list table ip nat | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
      echo "# $label: NAT masquerade rule matched $conntrack new flows"
    else
      not_ok "$label: established through the NAT" "$out"
    fi
  else
    not_ok "$label: mboxd starts"
  fi
  LAB_NS_A=$NS_HA
}

# ike_rsa_checks VERSION: rsa-sig against strongSwan with certificates from one CA (swan_pki):
# identities as addresses (strongSwan initiates), then as the certificates' DNs (mbox
# initiates); both views agree and mbox shows IKEvVERSION(RSA).
ike_rsa_checks() {
  local pki ids label sw_conf mb_conf initiator out st
  pki=$SWAN_RUN/pki
  if swan_pki "$pki" mbox=198.51.100.1 sw=198.51.100.2 >/dev/null 2>&1 && swan_pki_install sw sw "$pki"; then
    ok "10: a CA and certificates for mbox (SAN 198.51.100.1) and strongSwan (SAN 198.51.100.2)"
  else
    not_ok "10: certificates made"
  fi
  for ids in address dn; do
    if [[ $ids == address ]]; then
      label="10a (rsa-sig, identities are the addresses, strongSwan initiates)"
      sw_conf=$(swan_conf version="$1" cert=sw.pem local_id=198.51.100.2 remote_id=198.51.100.1)
      mb_conf=$(mbox_conf version="$1" pki="$pki" peer_extra=" local-id 198.51.100.1")
      initiator=sw
    else
      label="10b (rsa-sig, identities are the certificates' DNs, mbox initiates)"
      sw_conf=$(swan_conf version="$1" cert=sw.pem "local_id=C=CH, O=mbox test, CN=sw" "remote_id=C=CH, O=mbox test, CN=mbox")
      mb_conf=$(mbox_conf version="$1" pki="$pki" peer_extra=" remote-id C=CH, O=mbox test, CN=sw")
      initiator=mbox
    fi
    out=$(sw_load "$sw_conf" 2>&1) || not_ok "$label: strongSwan loads its connection" "$out"
    if [[ $initiator == sw ]]; then
      if (($1 == 1)); then sw_block_mbox_v1_init 198.51.100.1; else sw_block_mbox_init 198.51.100.1; fi
    fi
    if mb_start "mb10$ids" "$mb_conf"; then
      [[ $initiator == sw ]] && swan_initiate "$NS_SW" sw net mbox 15 >/dev/null 2>&1
      if out=$(mb_wait_up 20); then
        ok "$label: established"
        swan_wait_child "$NS_SW" sw net INSTALLED 5
        tunnel_checks "$label"
        st=$(mb_status)
        if [[ $st == *"\"ike\": \"IKEv$1(RSA)\""* || $st == *"\"ike\":\"IKEv$1(RSA)\""* ]]; then
          ok "$label: mbox shows IKEv$1(RSA)"
        else
          not_ok "$label: mbox shows IKEv$1(RSA)" "$st"
        fi
      else
        not_ok "$label: established within 20 s" "$out
$(mb_log)"
      fi
    else
      not_ok "$label: mboxd starts"
    fi
    sw_unblock
    mb_stop; sw_terminate_all
  done
}

# ike_algorithm_checks VERSION "IKE WORDS|ESP WORDS|mbox or swan" ...: each combination of
# policy words negotiated with strongSwan, the named side initiating; both sides' views
# agree on the algorithms and the DH group, and pings cross the tunnel.
ike_algorithm_checks() {
  local k combo ike esp who label conf out role group
  k=0
  for combo in "${@:2}"; do
    IFS='|' read -r ike esp who <<<"$combo"
    k=$((k + 1))
    label="3.$k (IKE $ike / ESP $esp, $who initiates)"
    conf=$(mbox_conf version="$1" ike="$ike" esp="$esp")
    printf '%s\n' "$conf" >"$LAB_RUN/mb3.conf"
    if ! out=$("$LAB_BUILD/mboxd" --check-config "$LAB_RUN/mb3.conf" 2>&1); then
      ok "$label # SKIP the configuration language refuses it: $(grep -m1 error <<<"$out")"
      continue
    fi
    sw_load "$(swan_conf version="$1" ike="$ike" esp="$esp")" >/dev/null 2>&1
    if [[ $who == swan ]]; then
      if (($1 == 1)); then sw_block_mbox_v1_init 198.51.100.1; else sw_block_mbox_init 198.51.100.1; fi
    fi
    if ! mb_start "mb3-$k" "$conf"; then
      not_ok "$label: mboxd starts"; sw_unblock; continue
    fi
    if [[ $who == swan ]]; then
      sleep 0.5
      if out=$(swan_initiate "$NS_SW" sw net mbox 15 2>&1) && mb_wait_up 5 >/dev/null; then
        ok "$label: established"
      else
        not_ok "$label: established" "$out"
      fi
      role=responder
    else
      if out=$(mb_wait_up 20) && swan_wait_child "$NS_SW" sw net INSTALLED 5; then
        ok "$label: established"
      else
        not_ok "$label: established" "$out"
      fi
      role=initiator
    fi
    read -r _ _ group <<<"$ike"
    check "$label: hostA pings hostB" ping_ab 3
    check "$label: hostB pings hostA" ping_ba 2
    if out=$("${IKE_CHECK[@]}" pair "$(mb_status)" "$(sw_sas)" --udp --role "$role" --dh "$(swan_dh_name "$group")" \
        --ike-alg "$(ike_expect "$ike")" --esp-alg "$(esp_expect "$esp")" 2>&1); then
      ok "$label: both views agree ($out)"
    else
      not_ok "$label: both views agree" "$out"
    fi
    mb_stop; sw_terminate_all; sw_unblock
  done
}

# ---- failure output --------------------------------------------------------------------------
# scenario_begin LABEL / scenario_end: on a failure inside, dump both daemons' views once
scenario_begin() { IKE_SCENARIO=$1 IKE_FAILED_BEFORE=$failed IKE_T0=$(swan_now_ms); }
scenario_end() {
  local secs
  secs=$(( ($(swan_now_ms) - IKE_T0) ))
  echo "# timing: $IKE_SCENARIO: $((secs / 1000)).$(( (secs % 1000) / 100 )) s"
  ((failed > IKE_FAILED_BEFORE)) || return 0
  ike_dump
}
ike_dump() {
  echo "# ---- $IKE_SCENARIO failed: state of both sides ----"
  if [[ -S $MB_SOCK ]]; then
    echo "# mbox show ipsec status:"; mb show ipsec status 2>&1 | sed 's/^/#   /'
    echo "# mbox show ipsec peer:"; mb show ipsec peer 2>&1 | sed 's/^/#   /'
    echo "# mbox show ipsec log:"; mb_log | tail -n 40 | sed 's/^/#   /'
  fi
  [[ -n ${MB_LOG:-} && -f $MB_LOG ]] && { echo "# mboxd stderr ($MB_LOG):"; tail -n 60 "$MB_LOG" | sed 's/^/#   /'; }
  [[ -n ${SWAN_PID[sw]:-} ]] && { echo "# strongSwan list-sas:"; swan_list_sas "$NS_SW" sw 2>&1 | sed 's/^/#   /'; }
  local f=${SWAN_RUN:-}/sw/charon.log
  [[ -n ${SWAN_RUN:-} && -f $f ]] && { echo "# charon log ($f, without configuration lines):"; grep -v '\[CFG\]' "$f" | tail -n 50 | sed 's/^/#   /'; }
}
