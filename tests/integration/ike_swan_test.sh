#!/usr/bin/env bash
# mboxd's IKEv2 engine against strongSwan (charon with kernel-libipsec, swan.sh). Prints TAP.
#
#   hostA 10.1.0.2 -- lan0 [mboxd 10.1.0.1 | 198.51.100.1] wan0 ---- wan0 [198.51.100.2 charon 10.2.0.1] lan0 -- 10.2.0.2 hostB
#
# Scenarios: 1 PSK AES SHA 14 / ESP AES SHA, mbox initiates; 2 strongSwan initiates (mbox
# responder), then both at once; 3 every encryption and hash word in IKE and ESP, and the
# DH groups; 4 two local networks to one remote network; 5 proposal mismatch, both roles;
# 8 NAT-T with mbox behind an nftables masquerade. Each checks both sides' views (mbox
# `show ipsec status`, strongSwan `list-sas`: established/INSTALLED, matching IKE and ESP
# SPIs) and pings through the tunnel. strongSwan always sends ESP in UDP 4500 (it fakes a
# NAT, see swan.sh), so every tunnel here is NAT-T on mbox's side too.
#
#   ike_swan_test.sh [BUILD_DIR]      (IKE_SCENARIOS="1 2 3 4 5 8 10" selects scenarios)
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export LAB_BUILD=${1:-$root/build}
source "$here/tap.sh"
source "$root/scripts/lab.sh"
source "$here/swan.sh"
source "$here/ike_lab.sh"
scenarios=" ${IKE_SCENARIOS:-1 2 3 4 5 8 10} "

ike_test_begin "iks$$" nft

# ---- 1. PSK AES SHA 14 / ESP AES SHA, mbox initiates --------------------------------------
if [[ $scenarios == *" 1 "* ]]; then
  scenario_begin "1 mbox initiates"
  label="1 (AES SHA 14 / AES SHA, mbox initiates)"
  out=$(sw_load "$(swan_conf)" 2>&1) || not_ok "$label: strongSwan loads its connection" "$out"
  t0=$(swan_now_ms)
  if mb_start mb1 "$(mbox_conf)"; then
    if out=$(mb_wait_up 20); then
      ok "$label: established $(( $(swan_now_ms) - t0 )) ms after mboxd started"
      swan_wait_child "$NS_SW" sw net INSTALLED 5
      tunnel_checks "$label" --role initiator --dh MODP_2048 --ike-alg AES_CBC-128/HMAC_SHA1_96/PRF_HMAC_SHA1 \
        --esp-alg AES_CBC-128/HMAC_SHA1_96
      st=$(mb_status)
      if [[ $("${IKE_CHECK[@]}" field "$st" ike_sa.nat_remote) == true ]]; then
        ok "$label: mbox saw strongSwan's (faked) NAT and floated to 4500"
      else
        not_ok "$label: mbox saw strongSwan's NAT" "$(mb show ipsec peer)"
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

# ---- 10. RSA signatures: certificates from one CA, identities as addresses and as DNs --------
if [[ $scenarios == *" 10 "* ]]; then
  scenario_begin "10 rsa-sig"
  ike_rsa_checks 2
  scenario_end
fi

# ---- 2. strongSwan initiates (mbox responder), then both at once ----------------------------
if [[ $scenarios == *" 2 "* ]]; then
  scenario_begin "2 strongSwan initiates"
  label="2a (strongSwan initiates, mbox responds)"
  sw_load "$(swan_conf)" >/dev/null 2>&1
  # mboxd initiates on `ipsec start` too: its IKE_SA_INIT requests to port 500 are dropped
  # in charon's namespace (responses pass), so strongSwan's initiation is the one that counts.
  sw_block_mbox_init 198.51.100.1
  if mb_start mb2 "$(mbox_conf)"; then
    sleep 0.5
    t0=$(swan_now_ms)
    if out=$(swan_initiate "$NS_SW" sw net mbox 15 2>&1); then
      ok "$label: swanctl --initiate succeeds ($(( $(swan_now_ms) - t0 )) ms)"
      mb_wait_up 5 >/dev/null
      tunnel_checks "$label" --role responder
      echo "# $label: mbox IKE_SA_INIT requests dropped on the way: $(sw_blocked_count)"
    else
      not_ok "$label: swanctl --initiate succeeds" "$out"
    fi
  else
    not_ok "$label: mboxd starts"
  fi
  mb_stop; sw_terminate_all; sw_unblock

  # Both initiate: mboxd on `ipsec start`, charon as soon as mboxd answers its socket.
  # mboxd is usually faster (its tunnel is up ~70 ms after the socket answers, and charon
  # then declines a duplicate CHILD_SA), so this is "both try", not a crossing of the two
  # IKE_SA_INITs (no netem here to delay one; the engine's own tests cover the crossing).
  # One tunnel must remain either way.
  label="2b (both initiate)"
  sw_load "$(swan_conf)" >/dev/null 2>&1
  if mb_start mb2b "$(mbox_conf)"; then
    swan_ctl sw --initiate --child net --ike mbox --timeout 15 >"$LAB_RUN/2b.txt" 2>&1 &
    init=$!
    t0=$(swan_now_ms)
    mb_wait_up 20 >/dev/null
    t1=$(swan_now_ms)
    wait "$init"
    echo "# $label: mbox established after $((t1 - t0)) ms; swanctl --initiate returned after $(( $(swan_now_ms) - t0 )) ms: $(tail -n 1 "$LAB_RUN/2b.txt")"
    sleep 2   # let a duplicate IKE SA be deleted
    tunnel_checks "$label"
  else
    not_ok "$label: mboxd starts"
  fi
  mb_stop; sw_terminate_all

  # A responder-only peer: `ipsec peer any remote-id ID` never initiates; strongSwan
  # (identity 198.51.100.2) finds it by that identity.
  label="2c (ipsec peer any remote-id 198.51.100.2, mbox only answers)"
  sw_load "$(swan_conf)" >/dev/null 2>&1
  conf=$(mbox_conf peer="any remote-id 198.51.100.2")
  printf '%s\n' "$conf" >"$LAB_RUN/mb2c.conf"
  if ! out=$("$LAB_BUILD/mboxd" --check-config "$LAB_RUN/mb2c.conf" 2>&1); then
    ok "$label # SKIP the configuration language refuses it: $(grep -m1 error <<<"$out")"
  elif mb_start mb2c "$conf"; then
    sleep 1
    if out=$(swan_initiate "$NS_SW" sw net mbox 15 2>&1) && mb_wait_up 5 >/dev/null; then
      ok "$label: strongSwan initiates, the any peer answers"
      tunnel_checks "$label" --role responder
    else
      not_ok "$label: strongSwan initiates, the any peer answers" "$out"
    fi
  else
    not_ok "$label: mboxd starts"
  fi
  mb_stop; sw_terminate_all
  scenario_end
fi

# ---- 3. every encryption, hash and DH word ------------------------------------------------
# IKE words | ESP words (a trailing number: PFS group) | who initiates
combos=(
  "3DES MD5 2|3DES MD5|mbox"
  "AES-192 SHA-256 5|AES-192 SHA-256 5|swan"
  "AES-256 SHA-512 19|AES-256 SHA-512 19|mbox"
  "AES MD5-128 15|AES MD5-128|swan"
  "AES-256 SHA-256 20|AES-GCM-128 14|mbox"
  "AES SHA 21|AES-GCM-256|swan"
  "AES SHA-256 31|AES SHA-256 31|mbox"
)
if [[ $scenarios == *" 3 "* ]]; then
  scenario_begin "3 algorithms"
  ike_algorithm_checks 2 "${combos[@]}"
  scenario_end
fi

# ---- 4. two local networks to one remote network ------------------------------------------
if [[ $scenarios == *" 4 "* ]]; then
  scenario_begin "4 two local networks"
  label="4 (local-net 10.1.0.0/24,10.3.0.0/24)"
  ip -n "$NS_HA" addr add 10.3.0.2/24 dev eth0
  sw_load "$(swan_conf remote_ts=10.1.0.0/24,10.3.0.0/24)" >/dev/null 2>&1
  if mb_start mb4 "$(mbox_conf local_nets=10.1.0.0/24,10.3.0.0/24 lan_addrs="10.1.0.1/24 10.3.0.1/24")"; then
    if out=$(mb_wait_up 20) && swan_wait_child "$NS_SW" sw net INSTALLED 5; then
      ok "$label: established"
      check "$label: 10.1.0.2 pings hostB" ping_ab 3
      check "$label: 10.3.0.2 pings hostB" lab_in a ping -c 3 -i 0.2 -W 2 -I 10.3.0.2 10.2.0.2
      check "$label: hostB pings 10.3.0.2" ping_ba 3 10.3.0.2
      if out=$("${IKE_CHECK[@]}" pair "$(mb_status)" "$(sw_sas)" --udp --remote-ts 10.1.0.0/24,10.3.0.0/24 2>&1); then
        ok "$label: one CHILD SA with both networks on both sides ($out)"
      else
        not_ok "$label: one CHILD SA with both networks" "$out"
      fi
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

# ---- 5. proposal mismatch ------------------------------------------------------------------
if [[ $scenarios == *" 5 "* ]]; then
  scenario_begin "5 proposal mismatch"
  label="5a (mbox AES-256 initiates, strongSwan aes128 only)"
  sw_load "$(swan_conf ike_prop=aes128-sha1-modp2048)" >/dev/null 2>&1
  if mb_start mb5 "$(mbox_conf ike="AES-256 SHA 14")"; then
    if mb_wait_log NO_PROPOSAL_CHOSEN 10; then
      ok "$label: mbox's log says NO_PROPOSAL_CHOSEN"
    else
      not_ok "$label: mbox's log says NO_PROPOSAL_CHOSEN" "$(mb_log)"
    fi
    if mb_log | grep NO_PROPOSAL_CHOSEN | grep -q "AES_CBC-256"; then
      ok "$label: the log line names the suite offered (AES_CBC-256)"
    else
      not_ok "$label: the log line names the suite offered" "$(mb_log)"
    fi
    check "$label: mbox is not established" "${IKE_CHECK[@]}" down "$(mb_status)"
    check "$label: strongSwan has no SA" test "$(swan_child_count "$NS_SW" sw)" = 0
    check "$label: strongSwan logged the mismatch" grep -q "no acceptable proposal found\|received proposals" "$(swan_logfile sw)"

    label="5b (strongSwan aes128 initiates, mbox AES-256 responds)"
    if out=$(swan_initiate "$NS_SW" sw net mbox 10 2>&1); then
      not_ok "$label: strongSwan's initiation fails" "$out"
    else
      ok "$label: strongSwan's initiation fails"
    fi
    if mb_wait_log "no proposal chosen" 5; then
      line=$(mb_log | grep "no proposal chosen" | grep "AES_CBC-128" | head -1)
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
  scenario_end
fi

# ---- 8. NAT-T: mbox behind an nftables masquerade ------------------------------------------
#   hostA -- [mboxd 192.168.7.2] wan0 -- in0 [NAT 192.168.7.1 | 203.0.113.1 masquerade] out0 --
#        -- wan1 [203.0.113.2 charon] -- hostB
if [[ $scenarios == *" 8 "* ]]; then
  scenario_begin "8 NAT-T"
  label="8 (mbox behind NAT, local ip 192.168.7.2 nated)"
  ike_nat_topology
  ike_nat_checks "$label" 2
  mb_stop; sw_terminate_all
  scenario_end
fi
