#!/usr/bin/env bash
# mboxd's IKEv2 engine against strongSwan over time: CHILD and IKE rekeys under continuous
# traffic (scenario 6), dead-peer detection (scenario 7). Prints TAP; the packets lost
# during the rekeys and the detection time go to "#" lines.
#
#   hostA 10.1.0.2 -- [mboxd 198.51.100.1] ---- [198.51.100.2 charon] -- 10.2.0.2 hostB
#
# 6a: strongSwan rekeys (children rekey_time 12 s, IKE 18 s; ESP with PFS MODP-2048):
#     two CHILD rekeys and one IKE rekey answered by mbox during 26 s of pings every 50 ms.
# 6b: mbox rekeys (keylife 60 s for IKE and ESP, the configuration's minimum: mbox rekeys
#     at 51-54 s), strongSwan's lifetimes long: one CHILD and one IKE rekey initiated by mbox
#     during 58 s of pings.
# Lost pings: the target is 0 (both sides are make-before-break). Allowed: one per CHILD
# rekey, for the only race left: a packet already in flight on the old SA when the peer
# removes its old inbound SA on the DELETE (strongSwan does that at once, no drain time);
# at 20 packets/s and a sub-millisecond path that race rarely catches even one packet.
# IKE rekeys move the CHILD SAs untouched and may lose nothing more.
# 7:  `dpd 5` on the mbox peer; charon is killed (SIGKILL: no DELETE); mbox must declare the
#     peer dead (log "dead peer") and drop the tunnel within 30 s (IKE_DPD_LIMIT): 5 s of
#     silence, then the liveness check and its retransmissions.
#
# IKE_VERSION=1 runs the same with IKEv1 (`version 1` / swanctl `version = 1`): phase 2
# rekeys are new quick modes, a phase 1 rekey a new main mode (strongSwan's keeps the
# phase 2 SAs, mbox's negotiates them again under the new ISAKMP SA), DPD is RFC 3706's.
#
#   ike_swan_rekey_test.sh [BUILD_DIR]    (IKE_SCENARIOS="6a 6b 7" selects)
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export LAB_BUILD=${1:-$root/build}
source "$here/tap.sh"
source "$root/scripts/lab.sh"
source "$here/swan.sh"
source "$here/ike_lab.sh"
scenarios=" ${IKE_SCENARIOS:-6a 6b 7} "
dpd_limit=${IKE_DPD_LIMIT:-30}   # seconds from charon's death until mbox says the peer is down
version=${IKE_VERSION:-2}

ike_test_begin "ikr$version$$"

# rekey_counts STATUS: "CHILD_REKEYS IKE_REKEYS" since the tunnel came up. IKEv1 has no
# rekey counters of its own: every phase 2 and phase 1 after the first is one.
rekey_counts() {
  if ((version == 1)); then
    local children phase1
    children=$("${IKE_CHECK[@]}" field "$1" ikev1.child_sas_installed) phase1=$("${IKE_CHECK[@]}" field "$1" ikev1.phase1_established)
    echo "$((children - 1)) $((phase1 - 1))"
  else
    echo "$("${IKE_CHECK[@]}" field "$1" ike.child_rekeys) $("${IKE_CHECK[@]}" field "$1" ike.ike_rekeys)"
  fi
}

# rekey_run LABEL PINGS MIN_CHILD_REKEYS MIN_IKE_REKEYS WHO: pings every 50 ms from hostA
# while the SAs rekey; checks the rekey counters, the new SPIs, the loss.
rekey_run() {
  local label=$1 pings=$2 min_child=$3 min_ike=$4 who=$5 out st0 st1
  if ! out=$(mb_wait_up 20) || ! swan_wait_child "$NS_SW" sw net INSTALLED 5; then
    not_ok "$label: established" "$out"
    return
  fi
  ok "$label: established"
  st0=$(mb_status)
  local child0 ike0
  child0=$("${IKE_CHECK[@]}" field "$st0" child.inbound_spi) ike0=$("${IKE_CHECK[@]}" field "$st0" ike_sa.spi_i)
  local t0 p
  t0=$(swan_now_ms)
  p=$(lab_in a ping -c "$pings" -i 0.05 -W 1 10.2.0.2 2>&1)
  echo "# $label: $((($(swan_now_ms) - t0) / 1000)) s of pings: $(grep -m1 transmitted <<<"$p")"
  local missing
  missing=$(awk -v n="$pings" '/icmp_seq=/ { sub(/.*icmp_seq=/, ""); sub(/ .*/, ""); got[$0] = 1 }
    END { for (i = 1; i <= n; i++) if (!(i in got)) printf "%d (%.1f s) ", i, (i - 1) * 0.05 }' <<<"$p")
  [[ -n $missing ]] && echo "# $label: lost icmp_seq (time after the first ping): $missing; pings started $(date -u -d "@$((t0 / 1000))" +%T) UTC"
  [[ -n $missing ]] && mb_log | grep -i "rekey\|replac\|deleted\|installed" | sed 's/^/#   /'
  p=$(grep -A3 -- '--- 10.2.0.2 ping statistics' <<<"$p")
  sleep 2   # old SAs deleted, counters settled
  st1=$(mb_status)
  local child_rekeys ike_rekeys child1 ike1 sent received lost
  read -r child_rekeys ike_rekeys <<<"$(rekey_counts "$st1")"
  child1=$("${IKE_CHECK[@]}" field "$st1" child.inbound_spi) ike1=$("${IKE_CHECK[@]}" field "$st1" ike_sa.spi_i)
  if [[ $child_rekeys =~ ^[0-9]+$ && $ike_rekeys =~ ^[0-9]+$ ]] && ((child_rekeys >= min_child && ike_rekeys >= min_ike)) &&
     [[ $child1 != "$child0" && $ike1 != "$ike0" ]]; then
    ok "$label: $child_rekeys CHILD rekeys and $ike_rekeys IKE rekeys ($who initiated), new SPIs (CHILD in $child0 -> $child1, IKE $ike0 -> $ike1)"
  else
    not_ok "$label: at least $min_child CHILD and $min_ike IKE rekeys" \
      "counters: child_rekeys '$child_rekeys' ike_rekeys '$ike_rekeys'; CHILD in $child0 -> $child1; IKE $ike0 -> $ike1"
  fi
  read -r sent received <<<"$(ping_counts "$p")"
  if [[ -n $sent && -n $received ]]; then
    lost=$((sent - received))
    echo "# $label: packets lost during the rekeys: $lost of $sent (CHILD rekeys: ${child_rekeys:-?}, IKE rekeys: ${ike_rekeys:-?})"
    local allowed=${child_rekeys:-0}
    [[ $allowed =~ ^[0-9]+$ ]] || allowed=0
    if ((lost <= allowed)); then
      ok "$label: $lost of $sent pings lost across the rekeys (allowed: $allowed, one per CHILD rekey)"
    else
      not_ok "$label: $lost of $sent pings lost across the rekeys (allowed: $allowed)" "$p"
    fi
  else
    not_ok "$label: continuous pings" "$p"
  fi
  # The two views are read one after the other: a rekey that strongSwan starts in between
  # (under load the run reaches its next rekey time) makes them differ for a moment.
  local try
  for try in 1 2 3; do
    out=$("${IKE_CHECK[@]}" pair "$(mb_status)" "$(sw_sas)" --udp 2>&1) && break
    sleep 1.5
  done
  if out=$("${IKE_CHECK[@]}" pair "$(mb_status)" "$(sw_sas)" --udp 2>&1); then
    ok "$label: after the rekeys one IKE SA and one CHILD SA on each side, SPIs match ($out)"
  else
    not_ok "$label: after the rekeys both views agree" "$out"
  fi
  check "$label: hostB still pings hostA" ping_ba 3
}

# ---- 6a. strongSwan rekeys --------------------------------------------------------------
if [[ $scenarios == *" 6a "* ]]; then
  scenario_begin "6a strongSwan rekeys"
  sw_load "$(swan_conf version=$version esp="AES SHA 14" child_extra="rekey_time = 12s" ike_extra="rekey_time = 18s")" >/dev/null 2>&1
  if mb_start mb6a "$(mbox_conf version=$version esp="AES SHA 14")"; then
    rekey_run "6a (strongSwan rekeys: CHILD every 12 s with PFS, IKE at 18 s)" 520 2 1 strongSwan
  else
    not_ok "6a: mboxd starts"
  fi
  mb_stop; sw_terminate_all
  scenario_end
fi

# ---- 6b. mbox rekeys ---------------------------------------------------------------------
if [[ $scenarios == *" 6b "* ]]; then
  scenario_begin "6b mbox rekeys"
  sw_load "$(swan_conf version=$version esp="AES SHA 14")" >/dev/null 2>&1
  if mb_start mb6b "$(mbox_conf version=$version esp="AES SHA 14" ike_life=60 esp_life=60)"; then
    rekey_run "6b (mbox rekeys: keylife 60 s for IKE and ESP)" 1160 1 1 mbox
  else
    not_ok "6b: mboxd starts"
  fi
  mb_stop; sw_terminate_all
  scenario_end
fi

# ---- 7. dead-peer detection --------------------------------------------------------------
if [[ $scenarios == *" 7 "* ]]; then
  scenario_begin "7 DPD"
  label="7 (dpd 5, charon killed)"
  conf=$(mbox_conf version=$version peer_extra=" dpd 5")
  printf '%s\n' "$conf" >"$LAB_RUN/mb7.conf"
  if ! out=$("$LAB_BUILD/mboxd" --check-config "$LAB_RUN/mb7.conf" 2>&1); then
    ok "$label # SKIP the configuration language has no dpd yet: $(grep -m1 error <<<"$out")"
  else
    sw_load "$(swan_conf version=$version)" >/dev/null 2>&1
    if mb_start mb7 "$conf"; then
      if out=$(mb_wait_up 20) && swan_wait_child "$NS_SW" sw net INSTALLED 5; then
        ok "$label: established"
        check "$label: hostA pings hostB" ping_ab 3
        kill -KILL "${SWAN_PID[sw]}"
        t0=$(swan_now_ms)
        swan_stop "$NS_SW" sw 2>/dev/null   # (bash reports the SIGKILL of its job)
        down=""
        while (($(swan_now_ms) - t0 < dpd_limit * 1000)); do
          if "${IKE_CHECK[@]}" down "$(mb_status)" >/dev/null 2>&1; then down=$(($(swan_now_ms) - t0)); break; fi
          sleep 0.5
        done
        if [[ -n $down ]]; then
          echo "# $label: mbox took the tunnel down $((down / 1000)).$(((down % 1000) / 100)) s after charon died"
          ok "$label: mbox takes the tunnel down $((down / 1000)) s after charon died"
        else
          not_ok "$label: mbox takes the tunnel down within $dpd_limit s" "$(mb show ipsec peer 2>&1)" \
            "IKE counters: $("${IKE_CHECK[@]}" field "$(mb_status)" ike 2>&1)"
        fi
        if mb_wait_log "dead peer" 5; then
          ok "$label: the log says: $(mb_log | grep -m1 'dead peer')"
        else
          not_ok "$label: the log says dead peer" "$(mb_log)"
        fi
      else
        not_ok "$label: established" "$out"
      fi
    else
      not_ok "$label: mboxd starts"
    fi
    mb_stop
  fi
  scenario_end
fi
