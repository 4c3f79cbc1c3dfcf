// The configuration model: plain value types for everything the mbox language and
// the YAML form can say. Both parsers produce this, both emitters consume it, and
// the control thread applies it. Nothing here knows about DPDK or OpenSSL.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/ipv4.hpp"

namespace mbox::config {

// Where a value came from, for diagnostics: "lab.conf:12" or "lab.yaml:7 (ipsec.peers.203.0.113.2.ike-policy)".
struct SourceLocation {
    std::string file;
    int line = 0;          // 1-based; 0 when unknown
    std::string key_path;  // YAML key path, empty for the mbox language

    std::string to_string() const;
    std::string file_and_line() const;  // "lab.yaml:7", for "already defined at ..."

    // Two configurations are the same when they say the same things, wherever they
    // were written: a location never makes model values unequal.
    bool operator==(const SourceLocation&) const { return true; }
};

struct Interface {
    std::string name;                       // "eth0"
    std::string dpdk_device;                // vdev string ("net_af_packet0,iface=wan0") or PCI address
    std::vector<Ipv4Prefix> addresses;      // host address + prefix length, as written
    std::optional<uint16_t> mtu;            // absent: 1500
    bool enabled = false;                   // `enable`
    std::string description;
    std::optional<Ipv4Address> default_gateway;  // `ip default-gateway A` inside the block
    SourceLocation where;

    bool operator==(const Interface&) const = default;

    uint16_t effective_mtu() const { return mtu.value_or(1500); }
};

struct Route {
    Ipv4Prefix prefix;      // network form (host bits must be zero; validation says so)
    Ipv4Address nexthop;
    SourceLocation where;

    bool operator==(const Route&) const = default;
};

enum class Encryption { TripleDes, Aes128, Aes192, Aes256 };
enum class Hash { Md5, Md5_128, Sha1, Sha256, Sha512 };
enum class IkeAuthentication { Psk, RsaSig };

// Defaults follow the appliance: a policy line that omits keylife gets these.
inline constexpr uint32_t kDefaultIkeKeylife = 28800;
inline constexpr uint32_t kDefaultEspKeylife = 3600;

struct IkePolicy {
    int id = 0;
    IkeAuthentication authentication = IkeAuthentication::Psk;
    Encryption encryption = Encryption::Aes128;
    Hash hash = Hash::Sha1;
    int dh_group = 2;
    uint32_t keylife = kDefaultIkeKeylife;  // seconds
    int version = 2;                        // 1 or 2
    SourceLocation where;

    bool operator==(const IkePolicy&) const = default;
};

struct EspPolicy {
    int id = 0;
    Encryption encryption = Encryption::Aes128;
    Hash hash = Hash::Sha1;
    std::optional<int> pfs_group;  // absent: no PFS
    uint32_t keylife = kDefaultEspKeylife;
    SourceLocation where;

    bool operator==(const EspPolicy&) const = default;
};

struct Peer {
    Ipv4Address address;                   // `ipsec peer A`
    std::optional<Ipv4Address> local_ip;   // `local ip A [nated]`
    bool nated = false;
    std::string local_id;                  // `local-id X`
    std::vector<Ipv4Prefix> local_nets;    // `local-net P[,P...]`
    std::string remote_id;                 // `remote-id X`
    bool remote_ip_any = false;            // `remote-ip any`: accept the peer from any address
    std::vector<Ipv4Prefix> remote_nets;   // `remote-net P[,P...]`
    std::optional<int> ike_policy;         // `policy ike N esp M`
    std::optional<int> esp_policy;
    std::string psk;                       // `psk TEXT` (YAML: psk or psk-file)
    std::string psk_file;                  // YAML only: where the secret lives; psk holds its content
    SourceLocation where;

    bool operator==(const Peer&) const = default;
};

enum class SnatAction { Exempt, Overload };
enum class IpProtocol : uint8_t { Icmp = 1, Tcp = 6, Udp = 17 };

struct SnatRule {
    int rule = 0;
    SnatAction action = SnatAction::Overload;
    std::string interface;                 // `outbound IFACE`
    std::optional<IpProtocol> protocol;    // absent: any
    std::vector<Ipv4Prefix> src;           // empty: any
    std::vector<Ipv4Prefix> dst;           // empty: any
    std::string remark;
    SourceLocation where;

    bool operator==(const SnatRule&) const = default;
};

struct Config {
    std::vector<Interface> interfaces;          // in the order written
    std::vector<Route> routes;                  // in the order written
    std::map<int, IkePolicy> ike_policies;      // by policy number
    std::map<int, EspPolicy> esp_policies;
    std::vector<Peer> peers;                    // in the order written
    std::vector<SnatRule> snat_rules;           // sorted by rule number
    bool ipsec_enabled = false;                 // `ipsec start` (true) / `ipsec stop` (false)
    SourceLocation ipsec_enabled_where;

    bool operator==(const Config&) const = default;

    const Interface* find_interface(std::string_view name) const;
};

std::string_view to_string(Encryption);
std::string_view to_string(Hash);
std::string_view to_string(IkeAuthentication);
std::string_view to_string(SnatAction);
std::string_view to_string(IpProtocol);
std::optional<Encryption> parse_encryption(std::string_view);  // 3DES AES AES-192 AES-256, any case
std::optional<Hash> parse_hash(std::string_view);              // MD5 MD5-128 SHA SHA-256 SHA-512, any case
std::optional<IkeAuthentication> parse_ike_authentication(std::string_view);  // psk rsa-sig
std::optional<SnatAction> parse_snat_action(std::string_view);                // exempt overload
std::optional<IpProtocol> parse_ip_protocol(std::string_view);                // tcp udp icmp

// The Diffie-Hellman groups an ike-policy (DH group) or esp-policy (PFS group) may
// name: MODP 1, 2, 5, 14..18 (RFC 2409, 3526) and ECP 19..21 (RFC 5903).
inline constexpr int kSupportedDhGroups[] = {1, 2, 5, 14, 15, 16, 17, 18, 19, 20, 21};
bool is_supported_dh_group(int group);

// The accepted words, comma-separated ("3DES, AES, AES-192, AES-256"), for messages
// that tell the reader what they could have written.
std::string encryption_choices();
std::string hash_choices();
std::string ike_authentication_choices();
std::string snat_action_choices();
std::string ip_protocol_choices();
std::string dh_group_choices();

}  // namespace mbox::config
