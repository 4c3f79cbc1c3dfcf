// The two example configurations of DESIGN.md ("Configuration language"), verbatim.
#pragma once

#include <string_view>

namespace mbox::config::testing {

inline constexpr std::string_view kDesignExampleMbox = R"(interface eth0
 dpdk-device net_af_packet0,iface=wan0
 ip address 198.51.100.1/24
 enable
!
interface eth1
 dpdk-device net_af_packet1,iface=lan0
 ip address 10.1.0.1/24
 enable
!
ip route 0.0.0.0/0 nexthop 198.51.100.254
!
ipsec ike-policy 10 authentication psk policy 3DES MD5 2 keylife 3600 version 1
ipsec ike-policy 20
 authentication rsa-sig
 policy AES-256 SHA-256 14
 keylife 28800
 version 2
!
ipsec esp-policy 10 policy AES SHA 2 keylife 3600
!
ipsec peer 203.0.113.2
 local ip 198.51.100.1 nated
 local-net 10.1.0.0/24,10.3.0.0/24
 remote-id 192.168.7.2
 remote-net 10.2.0.0/24
 policy ike 10 esp 10
 psk Letmein99
!
firewall-snat 10 exempt outbound eth0 src 10.1.0.0/24 dst 10.2.0.0/24 remark "bypass NAT for VPN tunnel"
firewall-snat 12 overload outbound eth0 remark "PAT all sources for Internet access"
!
ipsec start
)";

inline constexpr std::string_view kDesignExampleYaml = R"(interfaces:
  eth0: {dpdk-device: "net_af_packet0,iface=wan0", addresses: [198.51.100.1/24], enabled: true}
  eth1: {dpdk-device: "0000:3b:00.0", addresses: [10.1.0.1/24], mtu: 1500, enabled: true}
routes:
  - {prefix: 0.0.0.0/0, nexthop: 198.51.100.254}
ipsec:
  enabled: true                      # ipsec start
  ike-policies:
    10: {authentication: psk, encryption: 3DES, hash: MD5, dh-group: 2, keylife: 3600, version: 1}
  esp-policies:
    10: {encryption: AES, hash: SHA, pfs-group: 2, keylife: 3600}
  peers:
    203.0.113.2:
      local-ip: 198.51.100.1
      nated: true
      local-nets: [10.1.0.0/24, 10.3.0.0/24]
      remote-id: 192.168.7.2
      remote-nets: [10.2.0.0/24]
      ike-policy: 10
      esp-policy: 10
      psk-file: /etc/mbox/secrets/203.0.113.2.psk   # or psk: ..., so secrets can live apart
firewall:
  snat:
    - {rule: 10, action: exempt, interface: eth0, src: [10.1.0.0/24], dst: [10.2.0.0/24], remark: "bypass NAT for VPN tunnel"}
    - {rule: 12, action: overload, interface: eth0, remark: "PAT all sources for Internet access"}
)";

inline constexpr std::string_view kDesignExamplePskFile = "/etc/mbox/secrets/203.0.113.2.psk";

}  // namespace mbox::config::testing
