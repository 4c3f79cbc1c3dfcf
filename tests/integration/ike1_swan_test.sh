#!/usr/bin/env bash
# mboxd's IKEv1 engine against strongSwan (charon with kernel-libipsec, swan.sh, swanctl
# `version = 1`). Prints TAP. The same lab as ike_swan_test.sh:
#
#   hostA 10.1.0.2 -- lan0 [mboxd 10.1.0.1 | 198.51.100.1] wan0 ---- wan0 [198.51.100.2 charon 10.2.0.1] lan0 -- 10.2.0.2 hostB
#
# Scenarios: 1 the appliance's sample policies exactly (IKE 3DES MD5 DH 2, ESP AES SHA
# PFS 2), mbox initiates; 2 strongSwan initiates (IKE AES SHA DH 2), mbox responds; 3
# every encryption and hash word in both phases; 4 two local networks to one remote
# network (two phase 2 SAs); 5 a mismatched policy in each phase: no tunnel, and the
# log says why naming both offers; 8 NAT-T with mbox behind an nftables masquerade
# (`nated`); 6 aggressive mode: strongSwan initiates to an `ipsec peer any remote-id`,
# then mbox initiates with `mode aggressive`; 10 RSA signatures (certificates from one CA;
# identities as addresses, then as the certificates' DNs). Each checks both sides' views (mbox `show ipsec status`, strongSwan
# `list-sas`: established/INSTALLED, matching cookies and SPIs) and pings through the
# tunnel. strongSwan with kernel-libipsec fakes a NAT, so every tunnel here floats to
# UDP 4500 (RFC 3947).
#
#   ike1_swan_test.sh [BUILD_DIR]      (IKE1_SCENARIOS="1 2 3 4 5 6 8 10" selects scenarios)
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export LAB_BUILD=${1:-$root/build}
source "$here/tap.sh"
source "$root/scripts/lab.sh"
source "$here/swan.sh"
source "$here/ike_lab.sh"
scenarios=" ${IKE1_SCENARIOS:-1 2 3 4 5 6 8 10} "

ike_test_begin "ik1$$" nft

v1_mbox() { mbox_conf version=1 "$@"; }
v1_swan() { swan_conf version=1 "$@"; }

# v1_shows_ikev1 LABEL: mbox shows the peer as IKEv1(PSK) with a NAT-T ISAKMP SA
v1_shows_ikev1() {
  local st
  st=$(mb_status)
  if [[ $("${IKE_CHECK[@]}" field "$st" peer.ike 2>&1) == "IKEv1(PSK)" &&
        $("${IKE_CHECK[@]}" field "$st" ike_sa.nat_t 2>&1) == true ]]; then
    ok "$1: mbox shows IKEv1(PSK), floated to 4500 (strongSwan's faked NAT)"
  else
    not_ok "$1: mbox shows IKEv1(PSK) with NAT-T" "$st"
  fi
}

# ---- 1. the appliance's sample: IKE 3DES MD5 2, ESP AES SHA PFS 2, mbox initiates -----------
if [[ $scenarios == *" 1 "* ]]; then
  scenario_begin "1 sample policy"
  label="1 (IKE 3DES MD5 2 / ESP AES SHA PFS 2, mbox initiates)"
  out=$(sw_load "$(v1_swan ike="3DES MD5 2" esp="AES SHA 2")" 2>&1) || not_ok "$label: strongSwan loads its connection" "$out"
  t0=$(swan_now_ms)
  if mb_start mb1 "$(v1_mbox ike="3DES MD5 2" esp="AES SHA 2" ike_life=3600 esp_life=3600)"; then
    if out=$(mb_wait_up 20) && swan_wait_child "$NS_SW" sw net INSTALLED 5; then
      ok "$label: established $(( $(swan_now_ms) - t0 )) ms after mboxd started"
      tunnel_checks "$label" --role initiator --dh MODP_1024 --ike-alg 3DES_CBC/HMAC_MD5_96/PRF_HMAC_MD5 \
        --esp-alg AES_CBC-128/HMAC_SHA1_96
      v1_shows_ikev1 "$label"
      pfs=$(swan_child_field "$NS_SW" sw net dh-group)
      if [[ $pfs == MODP_1024 ]]; then
        ok "$label: strongSwan's phase 2 used PFS group MODP_1024"
      else
        not_ok "$label: strongSwan's phase 2 used PFS group MODP_1024" "dh-group '$pfs'"
      fi
    else
      not_ok "$label: established within 20 s" "$out"
    fi
  else
    not_ok "$label: mboxd starts"
  fi
  mb_stop; sw_terminate_all
  scenario_end
fi

# ---- 2. strongSwan initiates: IKE AES SHA 2, ESP AES SHA PFS 2 --------------------------------
if [[ $scenarios == *" 2 "* ]]; then
  scenario_begin "2 strongSwan initiates"
  label="2 (IKE AES SHA 2 / ESP AES SHA PFS 2, strongSwan initiates, mbox responds)"
  sw_load "$(v1_swan ike="AES SHA 2" esp="AES SHA 2")" >/dev/null 2>&1
  sw_block_mbox_v1_init 198.51.100.1
  if mb_start mb2 "$(v1_mbox ike="AES SHA 2" esp="AES SHA 2")"; then
    sleep 0.5
    t0=$(swan_now_ms)
    if out=$(swan_initiate "$NS_SW" sw net mbox 15 2>&1) && mb_wait_up 5 >/dev/null; then
      ok "$label: swanctl --initiate succeeds ($(( $(swan_now_ms) - t0 )) ms)"
      tunnel_checks "$label" --role responder --dh MODP_1024 --ike-alg AES_CBC-128/HMAC_SHA1_96/PRF_HMAC_SHA1 \
        --esp-alg AES_CBC-128/HMAC_SHA1_96
    else
      not_ok "$label: swanctl --initiate succeeds" "$out"
    fi
  else
    not_ok "$label: mboxd starts"
  fi
  mb_stop; sw_terminate_all; sw_unblock
  scenario_end
fi

# ---- 3. every encryption and hash word in both phases ---------------------------------------
# IKE words | ESP words (a trailing number: PFS group) | who initiates
combos=(
  "3DES SHA 5|3DES MD5|swan"
  "AES-192 SHA-256 14|AES-192 SHA-256 14|mbox"
  "AES-256 SHA-512 19|AES-256 SHA-512|swan"
  "AES MD5 2|AES-GCM-128 14|mbox"
  "AES-256 SHA-256 20|AES-GCM-256|swan"
  "AES SHA 15|AES SHA-512 21|mbox"
)
if [[ $scenarios == *" 3 "* ]]; then
  scenario_begin "3 algorithms"
  ike_algorithm_checks 1 "${combos[@]}"
  scenario_end
fi

# ---- 4. two local networks to one remote network: one phase 2 per pair ----------------------
if [[ $scenarios == *" 4 "* ]]; then
  scenario_begin "4 two local networks"
  label="4 (local-net 10.1.0.0/24,10.3.0.0/24: two phase 2 SAs)"
  ip -n "$NS_HA" addr add 10.3.0.2/24 dev eth0
  # strongSwan's IKEv1 has one pair of selectors per CHILD SA: a child per local network.
  conf=$(v1_swan)
  conf=${conf/    children \{/    children \{
      net3 \{
        local_ts = 10.2.0.0/24
        remote_ts = 10.3.0.0/24
        esp_proposals = $(swan_esp_proposal "AES SHA")
      \}}
  sw_load "$conf" >/dev/null 2>&1
  if mb_start mb4 "$(v1_mbox local_nets=10.1.0.0/24,10.3.0.0/24 lan_addrs="10.1.0.1/24 10.3.0.1/24")"; then
    if out=$(mb_wait_up 20) && swan_wait_child "$NS_SW" sw net INSTALLED 5 && swan_wait_child "$NS_SW" sw net3 INSTALLED 5; then
      ok "$label: established"
      check "$label: 10.3.0.2 pings hostB" lab_in a ping -c 3 -i 0.2 -W 2 -I 10.3.0.2 10.2.0.2
      check "$label: hostB pings 10.3.0.2" ping_ba 3 10.3.0.2
      tunnel_checks "$label" --children 2 --remote-ts 10.1.0.0/24,10.3.0.0/24
    else
      not_ok "$label: established" "$out"
    fi
  else
    not_ok "$label: mboxd starts"
  fi
  mb_stop; sw_terminate_all
  ip -n "$NS_HA" addr del 10.3.0.2/24 dev eth0
  scenario_end
fi

# ---- 5. mismatched policies: no tunnel, and the log says why ----------------------------------
if [[ $scenarios == *" 5 "* ]]; then
  scenario_begin "5 proposal mismatch"
  label="5a (phase 1: mbox AES-256 initiates, strongSwan aes128 only)"
  sw_load "$(v1_swan ike_prop=aes128-sha1-modp2048)" >/dev/null 2>&1
  if mb_start mb5 "$(v1_mbox ike="AES-256 SHA 14")"; then
    if mb_wait_log "NO-PROPOSAL-CHOSEN" 10; then
      ok "$label: mbox's log says the peer reported NO-PROPOSAL-CHOSEN: $(mb_log | grep -m1 NO-PROPOSAL-CHOSEN)"
    else
      not_ok "$label: mbox's log says NO-PROPOSAL-CHOSEN" "$(mb_log)"
    fi
    check "$label: mbox's log names the suite it offered (AES_CBC-256)" bash -c "grep -q 'initiating main mode.*AES_CBC-256' <<<\"\$1\"" _ "$(mb_log)"
    check "$label: mbox is not established" "${IKE_CHECK[@]}" down "$(mb_status)"
    check "$label: strongSwan has no SA" test "$(swan_child_count "$NS_SW" sw)" = 0

    label="5b (phase 1: strongSwan aes128 initiates, mbox AES-256 responds)"
    if out=$(swan_initiate "$NS_SW" sw net mbox 10 2>&1); then
      not_ok "$label: strongSwan's initiation fails" "$out"
    else
      ok "$label: strongSwan's initiation fails"
    fi
    if mb_wait_log "no proposal chosen: the peer offered" 5; then
      line=$(mb_log | grep "no proposal chosen: the peer offered" | head -1)
      if [[ $line == *AES_CBC-128* && $line == *AES_CBC-256* ]]; then
        ok "$label: mbox's log names both offers: $line"
      else
        not_ok "$label: mbox's log names both offers" "$(mb_log)"
      fi
    else
      not_ok "$label: mbox's log says no proposal chosen" "$(mb_log)"
    fi
    check "$label: still no tunnel on mbox" "${IKE_CHECK[@]}" down "$(mb_status)"
  else
    not_ok "$label: mboxd starts"
  fi
  mb_stop; sw_terminate_all

  label="5c (phase 2: mbox ESP AES-256 initiates, strongSwan aes128 only)"
  sw_load "$(v1_swan esp_prop=aes128-sha1)" >/dev/null 2>&1
  if mb_start mb5c "$(v1_mbox esp="AES-256 SHA")"; then
    if mb_wait_log "NO-PROPOSAL-CHOSEN" 10; then
      ok "$label: mbox's log says the peer refused the phase 2: $(mb_log | grep -m1 NO-PROPOSAL-CHOSEN)"
    else
      not_ok "$label: mbox's log says the peer refused the phase 2" "$(mb_log)"
    fi
    check "$label: mbox's log names its phase 2 offer (AES-256)" bash -c "grep -q 'quick mode.*offering.*AES.*256' <<<\"\$1\"" _ "$(mb_log)"
    check "$label: strongSwan has no CHILD SA" test "$(swan_child_count "$NS_SW" sw)" = 0
    if out=$("${IKE_CHECK[@]}" up "$(mb_status)" 2>&1); then
      not_ok "$label: no phase 2 on mbox" "$out"
    else
      ok "$label: no phase 2 on mbox ($out)"
    fi
  else
    not_ok "$label: mboxd starts"
  fi
  mb_stop; sw_terminate_all
  scenario_end
fi

# ---- 6. aggressive mode with a remote-id ----------------------------------------------------
if [[ $scenarios == *" 6 "* ]]; then
  scenario_begin "6 aggressive mode"
  label="6a (strongSwan initiates aggressive mode as sw.example.com; mbox: ipsec peer any remote-id)"
  sw_load "$(v1_swan local_id=sw.example.com ike_extra="aggressive = yes")" >/dev/null 2>&1
  if mb_start mb6a "$(v1_mbox peer="any remote-id sw.example.com")"; then
    sleep 0.5
    if out=$(swan_initiate "$NS_SW" sw net mbox 15 2>&1) && mb_wait_up 5 >/dev/null; then
      ok "$label: swanctl --initiate succeeds"
      tunnel_checks "$label" --role responder
      rid=$("${IKE_CHECK[@]}" field "$(mb_status)" ike_sa.remote_id)
      if [[ $rid == sw.example.com ]]; then
        ok "$label: mbox found the peer by its identity ($rid)"
      else
        not_ok "$label: mbox found the peer by its identity" "remote identity '$rid'"
      fi
    else
      not_ok "$label: swanctl --initiate succeeds" "$out"
    fi
  else
    not_ok "$label: mboxd starts"
  fi
  mb_stop; sw_terminate_all

  label="6b (mbox initiates with mode aggressive)"
  sw_load "$(v1_swan ike_extra="aggressive = yes")" >/dev/null 2>&1
  if mb_start mb6b "$(v1_mbox peer_extra=" mode aggressive")"; then
    if out=$(mb_wait_up 20) && swan_wait_child "$NS_SW" sw net INSTALLED 5; then
      ok "$label: established"
      tunnel_checks "$label" --role initiator
      if grep -q "aggressive" <<<"$(mb_log)"; then
        ok "$label: mbox's log names aggressive mode: $(mb_log | grep -m1 -i aggressive)"
      else
        not_ok "$label: mbox's log names aggressive mode" "$(mb_log)"
      fi
    else
      not_ok "$label: established" "$out"
    fi
  else
    not_ok "$label: mboxd starts"
  fi
  mb_stop; sw_terminate_all
  scenario_end
fi

# ---- 8. NAT-T: mbox behind an nftables masquerade (see ike_nat_topology) ---------------------
if [[ $scenarios == *" 8 "* ]]; then
  scenario_begin "8 NAT-T"
  label="8 (mbox behind NAT, local ip 192.168.7.2 nated)"
  ike_nat_topology
  ike_nat_checks "$label" 1
  mb_stop; sw_terminate_all
  scenario_end
fi

# ---- 10. RSA signatures: certificates from one CA, identities as addresses and as DNs --------
if [[ $scenarios == *" 10 "* ]]; then
  scenario_begin "10 rsa-sig"
  ike_rsa_checks 1
  scenario_end
fi
