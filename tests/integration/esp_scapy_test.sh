#!/usr/bin/env bash
# Interoperability of mboxd's ESP with scapy's (an independent implementation over
# python-cryptography), in the lab of scripts/lab.sh: host A -- mboxd -- the peer, where
# esp_scapy_peer.py plays the tunnel's far end 198.51.100.2 and the networks 10.2.N.0/24
# behind it. One mboxd carries a manual SA per algorithm combination (RFC 4303 tunnel
# mode), plus SAs for the drop tests, UDP encapsulation (RFC 3948) and ESN; random keys
# every run. Both directions are checked packet by packet: host A's datagrams must leave
# as ESP that scapy decrypts, scapy's ESP must reach host A. Prints TAP.
#   esp_scapy_test.sh [BUILD_DIR]
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export LAB_BUILD=${1:-$root/build}
source "$root/scripts/lab.sh"
python=/usr/bin/python3   # scapy lives there

source "$here/tap.sh"
if ! $python -c 'import scapy.layers.ipsec, cryptography' 2>/dev/null; then
  echo "1..0 # SKIP needs scapy and python3-cryptography for $python"
  exit 0
fi

finish() {
  local rc=$?
  if ((failed)) && [[ -n ${LAB_RUN:-} && -d $LAB_RUN ]]; then
    if lab_mbox show version >/dev/null 2>&1; then
      echo "# show ipsec sa:"; lab_mbox show ipsec sa 2>&1 | sed 's/^/#   /'
      echo "# show dataplane counters:"; lab_mbox show dataplane counters 2>&1 | sed 's/^/#   /'
    fi
    [[ -s $LAB_RUN/peer.err ]] && { echo "# peer stderr:"; sed 's/^/#   /' "$LAB_RUN/peer.err"; }
    [[ -f $LAB_RUN/mboxd.log ]] && { echo "# mboxd log:"; sed 's/^/#   /' "$LAB_RUN/mboxd.log"; }
  fi
  lab_down
  echo "1..$n"
  ((failed == 0 && rc == 0)) || exit 1
}

lab_init "mbs$$"
trap finish EXIT
lab_up

# The gateway: the lab's interfaces, then the tunnels (keys fresh from os.urandom).
{ lab_config; $python "$here/esp_scapy_peer.py" config "$LAB_RUN/sas.json"; } >"$LAB_RUN/esp.conf"
sas=$(grep -c '^ipsec manual-sa' "$LAB_RUN/esp.conf")
check "the configuration with $sas manual SAs is valid" "$LAB_BUILD/mboxd" --check-config "$LAB_RUN/esp.conf"
if ! lab_start_gateway "$LAB_RUN/esp.conf"; then
  not_ok "mboxd starts with $sas manual SAs"
  exit 1
fi
ok "mboxd starts with $sas manual SAs"
out=$(lab_mbox --json show ipsec sa 2>&1)
count=$($python -c 'import json,sys; print(len(json.loads(sys.argv[1])["sas"]))' "$out" 2>/dev/null)
[[ $count == $((2 * sas)) ]] && ok "show ipsec sa lists $count SAs (inbound and outbound of each)" \
  || not_ok "show ipsec sa lists $((2 * sas)) SAs" "$out"

# Neighbours first, so no test packet waits on ARP.
check "host A reaches the gateway" lab_in a ping -c 1 -W 2 10.1.0.1
check "the peer reaches the gateway" lab_in b ping -c 1 -W 2 198.51.100.1

# The peer's results become TAP lines here; its '# ...' evidence passes through.
peer_rc=
while IFS= read -r line; do
  case $line in
    "ok - "*) ok "${line#ok - }" ;;
    "not ok - "*) not_ok "${line#not ok - }" ;;
    "peer exit "*) peer_rc=${line#peer exit } ;;
    *) echo "$line" ;;
  esac
done < <(lab_in b $python -u "$here/esp_scapy_peer.py" run "$LAB_RUN/sas.json" --netns-a "/run/netns/$LAB_NS_A" \
           --mbox "$LAB_BUILD/mbox" --socket "$LAB_SOCKET" 2>"$LAB_RUN/peer.err"
         echo "peer exit $?")
[[ $peer_rc == 0 || $peer_rc == 3 ]] && ok "the scapy peer ran to the end" \
  || not_ok "the scapy peer ran to the end (exit ${peer_rc:-none})"

check "mboxd still answers after all of it" lab_mbox show version
