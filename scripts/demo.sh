#!/usr/bin/env bash
# The main job on its embedded default: installs what is missing, builds, and runs a
# branch-office lab in network namespaces, no hardware needed:
#
#   branch host 10.1.0.2 -- [mboxd 10.1.0.1 | 198.51.100.1] -- "Internet" router
#        -- [strongSwan HQ gateway 203.0.113.2 | 10.2.0.1] -- HQ host 10.2.0.2
#
# mboxd is configured with the appliance manual's sample as it is written there, with the
# lab's addresses: IKEv1 (`ike-policy ... policy 3DES MD5 2 keylife 3600 version 1`), ESP
# AES/SHA with PFS group 2, an `ipsec peer` with a pre-shared key, `firewall-snat` exempt
# (the tunnel) + overload (the Internet), `ipsec start`. strongSwan's kernel-libipsec
# always puts ESP in UDP 4500, so the tunnel uses NAT traversal (RFC 3947). The demo brings the tunnel up, pings HQ across it,
# pings the Internet through PAT, and prints `show ipsec status` and `show ipsec peer`.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh build

export LAB_BUILD=$PWD/build
source scripts/lab.sh
source tests/integration/swan.sh
prefix="mbdemo$$"
lab_init "$prefix"
swan_init "$prefix"
finish() { lab_down || true; swan_cleanup || true; }
trap finish EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

BRANCH=$prefix-a MBOX=$prefix-gw INET=$prefix-inet HQGW=$prefix-hq HQ=$prefix-b
for ns in "$BRANCH" "$MBOX" "$INET" "$HQGW" "$HQ"; do lab_namespace "$ns"; done
lab_veth "$MBOX" lan0 "$BRANCH" eth0
lab_veth "$MBOX" wan0 "$INET" eth0
lab_veth "$INET" eth1 "$HQGW" wan0
lab_veth "$HQGW" lan0 "$HQ" eth0
ip -n "$BRANCH" addr add 10.1.0.2/24 dev eth0 && ip -n "$BRANCH" route add default via 10.1.0.1
ip -n "$INET" addr add 198.51.100.254/24 dev eth0 && ip -n "$INET" addr add 203.0.113.254/24 dev eth1
ip netns exec "$INET" sysctl -qw net.ipv4.ip_forward=1
ip -n "$HQGW" addr add 203.0.113.2/24 dev wan0 && ip -n "$HQGW" addr add 10.2.0.1/24 dev lan0
ip -n "$HQGW" route add default via 203.0.113.254
ip netns exec "$HQGW" sysctl -qw net.ipv4.ip_forward=1
ip -n "$HQ" addr add 10.2.0.2/24 dev eth0 && ip -n "$HQ" route add default via 10.2.0.1

step "HQ: strongSwan (charon with kernel-libipsec) at 203.0.113.2"
swan_start "$HQGW" hq
swan_load "$HQGW" hq "connections {
  branch {
    version = 1
    local_addrs = 203.0.113.2
    remote_addrs = 198.51.100.1
    proposals = 3des-md5-modp1024
    local { auth = psk
            id = 203.0.113.2 }
    remote { auth = psk
             id = 198.51.100.1 }
    children { lan { local_ts = 10.2.0.0/24
                     remote_ts = 10.1.0.0/24
                     esp_proposals = aes128-sha1-modp1024 } }
  }
}" "ike-branch { id = 198.51.100.1
  secret = Letmein99 }" >/dev/null

cat >"$LAB_RUN/branch.conf" <<'CONF'
interface eth0
 description WAN (Internet)
 dpdk-device net_af_packet1,iface=wan0
 ip address 198.51.100.1/24
 ip default-gateway 198.51.100.254
 enable
!
interface eth1
 description branch LAN
 dpdk-device net_af_packet0,iface=lan0
 ip address 10.1.0.1/24
 enable
!
ipsec ike-policy 10
 authentication psk
 policy 3DES MD5 2
 keylife 3600
 version 1
!
ipsec esp-policy 10 policy AES SHA 2 keylife 3600
!
ipsec peer 203.0.113.2
 local ip 198.51.100.1
 local-net 10.1.0.0/24
 remote-net 10.2.0.0/24
 policy ike 10 esp 10
 psk Letmein99
 dpd 30
!
firewall-snat 10 exempt outbound eth0 src 10.1.0.0/24 dst 10.2.0.0/24 remark "bypass NAT for VPN tunnel"
firewall-snat 12 overload outbound eth0 remark "PAT all sources for Internet access"
!
ipsec start
CONF
step "branch gateway configuration ($LAB_RUN/branch.conf)"
cat "$LAB_RUN/branch.conf"
build/mboxd --check-config "$LAB_RUN/branch.conf"

step "starting mboxd in namespace $MBOX: it initiates to 203.0.113.2"
lab_start_mboxd "$MBOX" "$LAB_RUN/branch.conf" "$LAB_SOCKET" mboxd
for _ in $(seq 1 100); do
  lab_mbox show ipsec status --json | grep -q '"established": *1' && break
  sleep 0.1
done
lab_mbox show ipsec status --json | grep -q '"established": *1' || { echo "the tunnel did not come up"; lab_mbox show ipsec log; exit 1; }
echo "tunnel established"

step "branch host 10.1.0.2 pings HQ host 10.2.0.2 through the tunnel"
ip netns exec "$BRANCH" ping -c 4 -i 0.2 10.2.0.2
step "HQ host 10.2.0.2 pings the branch host 10.1.0.2 back"
ip netns exec "$HQ" ping -c 2 -i 0.2 10.1.0.2
step "branch host pings an Internet address (203.0.113.254): PAT to 198.51.100.1, not the tunnel"
ip netns exec "$BRANCH" ping -c 2 -i 0.2 203.0.113.254

for cmd in "show ipsec status" "show ipsec peer" "show ipsec log" "show nat sessions"; do
  step "mbox $cmd"
  lab_mbox $cmd
done
step "strongSwan's view (swanctl --list-sas)"
swan_ctl hq --list-sas
step "done: the lab is torn down on exit"
exit 0
