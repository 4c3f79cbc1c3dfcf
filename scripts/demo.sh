#!/usr/bin/env bash
# The main job on its embedded default: installs what is missing, builds, and runs the
# lab (scripts/lab.sh): host A -- mboxd -- host B in network namespaces. The gateway
# translates the LAN to its WAN address (firewall-snat overload); the demo pings and
# moves 10 MB of TCP through it, asks host B whom it sees, and prints what `mbox` shows.
# No hardware needed.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh build

export LAB_BUILD=$PWD/build
source scripts/lab.sh
lab_init "mbdemo$$"
trap lab_down EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

lab_up
{
  lab_config
  echo 'firewall-snat 10 overload outbound eth0 remark "PAT the LAN to the WAN address"'
} >"$LAB_RUN/lab.conf"
step "gateway configuration ($LAB_RUN/lab.conf)"
cat "$LAB_RUN/lab.conf"
build/mboxd --check-config "$LAB_RUN/lab.conf"

step "starting mboxd in namespace $LAB_NS_GW"
lab_start_gateway "$LAB_RUN/lab.conf"

step "host A (10.1.0.2) pings host B (198.51.100.2) through the gateway"
lab_in a ping -c 4 -i 0.2 198.51.100.2

step "host A sends 10 MB over TCP to host B"
transferred=0
lab_tcp_transfer 10485760 198.51.100.2 && transferred=1
echo "sent     $LAB_SENT"
echo "received $LAB_RECEIVED"
((transferred)) && echo "transfer intact" || { echo "transfer CORRUPTED"; exit 1; }

step "host B answers UDP with the address it sees: the gateway's WAN address, A's port kept"
probe=tests/integration/nat_probe.py
ip netns exec "$LAB_NS_B" /usr/bin/python3 "$probe" serve-udp 7000 &
server=$!
sleep 0.5
echo "host B sees host A as $(lab_in a /usr/bin/python3 "$probe" ask-udp 198.51.100.2 7000 40000)"
kill "$server" 2>/dev/null || true

for cmd in "show interfaces" "show ip route" "show arp" "show firewall snat" "show nat sessions" \
           "show dataplane counters"; do
  step "mbox $cmd"
  lab_mbox $cmd
done
step "done: the lab is torn down on exit"
