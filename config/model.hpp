// The configuration model: plain value types for everything the mbox language and
// the YAML form can say. Both parsers produce this, both emitters consume it, and
// the control thread applies it. Nothing here knows about DPDK or OpenSSL.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/ipv4.hpp"
#include "config/secret_text.hpp"

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

// CBC ciphers, which need a Hash beside them, and AES-GCM with a 16-byte ICV
// (RFC 4106), an AEAD that authenticates by itself. GCM is for ESP only.
enum class Encryption { TripleDes, Aes128, Aes192, Aes256, AesGcm128, AesGcm256 };
enum class Hash { Md5, Md5_128, Sha1, Sha256, Sha512 };

constexpr bool is_aead(Encryption encryption) {
    return encryption == Encryption::AesGcm128 || encryption == Encryption::AesGcm256;
}

// Bytes of key material an ESP SA takes for each algorithm, as `ip xfrm state` takes
// it: for GCM the AES key followed by the 4-byte salt (RFC 4106 section 8.1); for a
// hash the HMAC key, as long as the hash output (RFC 2404, 2403, 4868).
size_t esp_key_length(Encryption);
size_t esp_key_length(Hash);
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
    std::optional<Hash> hash = Hash::Sha1;  // absent exactly when the encryption is GCM
    std::optional<int> pfs_group;  // absent: no PFS
    uint32_t keylife = kDefaultEspKeylife;
    SourceLocation where;

    bool operator==(const EspPolicy&) const = default;
};

// IKEv1 phase 1 exchange (RFC 2409 section 5): main mode protects the identities,
// aggressive mode takes three messages instead of six.
enum class IkeMode { Main, Aggressive };
std::string_view to_string(IkeMode);
std::optional<IkeMode> parse_ike_mode(std::string_view);  // main aggressive

// Dead peer detection (RFC 3706 for IKEv1, an empty INFORMATIONAL for IKEv2): 0 is off,
// otherwise an interval in seconds.
inline constexpr uint32_t kDpdMin = 5;
inline constexpr uint32_t kDpdMax = 3600;

struct Peer {
    // `ipsec peer A`; empty for `ipsec peer any`: a responder-only peer that may come
    // from any address and is told apart from other `any` peers by its remote-id.
    std::optional<Ipv4Address> address;
    std::optional<Ipv4Address> local_ip;   // `local ip A [nated]`
    bool nated = false;
    std::string local_id;                  // `local-id X`
    std::vector<Ipv4Prefix> local_nets;    // `local-net P[,P...]`
    std::string remote_id;                 // `remote-id X`
    bool remote_ip_any = false;            // `remote-ip any`: accept the peer (known by address) from any address
    std::vector<Ipv4Prefix> remote_nets;   // `remote-net P[,P...]`
    std::optional<int> ike_policy;         // `policy ike N esp M`
    std::optional<int> esp_policy;
    SecretText psk;                       // `psk TEXT` (YAML: psk or psk-file)
    std::string psk_file;                  // YAML only: where the secret lives; psk holds its content
    uint32_t dpd = 0;                      // `dpd SECONDS`: 0 (off) or kDpdMin..kDpdMax
    std::optional<IkeMode> mode;           // `mode main|aggressive`, IKEv1 only; absent: main
    SourceLocation where;

    bool operator==(const Peer&) const = default;

    bool is_any() const { return !address.has_value(); }
    IkeMode effective_mode() const { return mode.value_or(IkeMode::Main); }
    // How the peer is named in messages and told apart in a diff: "203.0.113.2",
    // "any remote-id vpn.example.com" (the header that opens it), or "any" without a remote-id.
    std::string name() const;
};

// A PEM file named by `ipsec pki`. Relative names are relative to the configuration
// file (the directory of where.file).
struct PkiFile {
    std::string file;      // as written
    SourceLocation where;  // its line, for the diagnostics about it

    bool operator==(const PkiFile&) const = default;
};

// `ipsec pki`: the certificates and key for rsa-sig IKE authentication. Validation
// reads the files (PEM, OpenSSL); the model holds their names only.
struct Pki {
    std::vector<PkiFile> ca_certs;         // `ca-cert FILE`, may repeat: the CAs peers' certificates chain to
    std::optional<PkiFile> local_cert;     // `local-cert FILE`: our certificate
    std::optional<PkiFile> local_key;      // `local-key FILE`: its private key (unencrypted PEM)
    SourceLocation where;                  // the first `ipsec pki` line

    bool operator==(const Pki&) const = default;
    bool empty() const { return ca_certs.empty() && !local_cert && !local_key; }
};

// One direction of a manually keyed SA: `inbound|outbound spi SPI enc-key KEY [auth-key KEY]`.
struct ManualSaKeys {
    uint32_t spi = 0;                 // 256..0xffffffff (RFC 4303 section 2.1: 1..255 reserved, 0 invalid)
    std::vector<uint8_t> enc_key;     // GCM: key then 4-byte salt
    std::vector<uint8_t> auth_key;    // HMAC key; empty with GCM
    std::string enc_key_file;         // YAML only: where the key lives; enc_key holds its content
    std::string auth_key_file;
    SourceLocation where;             // the inbound/outbound line, for key diagnostics

    bool operator==(const ManualSaKeys&) const = default;
};

// ESP in UDP (RFC 3948) with fixed ports, for a manual SA through NAT.
struct UdpEncap {
    uint16_t source_port = 4500;
    uint16_t destination_port = 4500;

    bool operator==(const UdpEncap&) const = default;
};

// The anti-replay window in packets: 0 turns the check off (RFC 4303 section 3.4.3
// lets a receiver do so), otherwise 32 (RFC 4303's minimum) to 65536.
inline constexpr uint32_t kDefaultReplayWindow = 1024;

// The outer header's DF bit (RFC 4301 §8.1): copied from the inner packet (default),
// always set, or always clear.
enum class DfBit { Copy, Set, Clear };
std::string_view to_string(DfBit);

// `ipsec manual-sa NAME`: an ESP tunnel keyed by hand, with no IKE. Optional fields
// are optional in the language too (a block may be written over several single
// lines); validation says which are missing.
struct ManualSa {
    std::string name;
    std::optional<Ipv4Address> local_ip;    // `local ip A`: must be one of our interface addresses
    std::optional<Ipv4Address> peer;        // `peer A`: the tunnel's far end
    std::vector<Ipv4Prefix> local_nets;     // `local-net P[,P...]`, may repeat
    std::vector<Ipv4Prefix> remote_nets;    // `remote-net P[,P...]`, may repeat
    std::optional<Encryption> encryption;   // `esp ENC [HASH]`
    std::optional<Hash> hash;               // required with CBC, absent with GCM
    std::optional<ManualSaKeys> inbound;
    std::optional<ManualSaKeys> outbound;
    std::optional<UdpEncap> udp_encap;      // `udp-encap SPORT DPORT`
    uint32_t replay_window = kDefaultReplayWindow;
    bool esn = false;                       // extended (64-bit) sequence numbers
    DfBit df_bit = DfBit::Copy;             // `df-bit copy|set|clear`
    SourceLocation where;

    bool operator==(const ManualSa&) const = default;
};

enum class SnatAction { Exempt, Overload, Translate };

// `xsrc FIRST[-LAST]`: the addresses a translate rule maps sources to.
struct Ipv4Range {
    Ipv4Address first;
    Ipv4Address last;  // == first for a single address

    auto operator<=>(const Ipv4Range&) const = default;
    uint64_t size() const { return uint64_t{last.value} - first.value + 1; }
    std::string to_string() const;
};
enum class IpProtocol : uint8_t { Icmp = 1, Tcp = 6, Udp = 17 };

// A translate pool is shared out per source host; larger pools are rarely what is meant.
inline constexpr uint64_t kMaxTranslatePool = 256;
inline constexpr size_t kMaxSnatRules = 256;  // the data plane keeps a hit counter per rule

struct SnatRule {
    int rule = 0;
    SnatAction action = SnatAction::Overload;
    std::string interface;                 // `outbound IFACE`
    std::optional<IpProtocol> protocol;    // absent: any
    std::vector<Ipv4Prefix> src;           // empty: any
    std::vector<Ipv4Prefix> dst;           // empty: any
    std::optional<Ipv4Range> xsrc;         // translate: the pool (required there, refused elsewhere)
    std::string remark;
    SourceLocation where;

    bool operator==(const SnatRule&) const = default;
};

// `firewall-nat ...`: the NAT session table and its timeouts (seconds). Defaults:
// RFC 5382 REQ-5 (TCP established >= 2 h 4 min, transitory 4 min), RFC 4787 REQ-5
// (UDP 5 min), RFC 5508 REQ-1 (ICMP query 60 s).
struct NatTimeouts {
    uint32_t tcp_established = 7440;
    uint32_t tcp_transitory = 240;
    uint32_t udp = 300;
    uint32_t icmp = 60;
    uint32_t other = 600;

    bool operator==(const NatTimeouts&) const = default;
};

struct NatSettings {
    uint32_t sessions = 262144;   // the whole table, shared out among the workers
    uint16_t port_first = 1024;   // external ports and ICMP identifiers PAT hands out
    uint16_t port_last = 65535;
    NatTimeouts timeouts;
    SourceLocation where;         // the first firewall-nat line (empty when none)

    bool operator==(const NatSettings& o) const {
        return sessions == o.sessions && port_first == o.port_first && port_last == o.port_last &&
               timeouts == o.timeouts;
    }
};

// What traffic between a tunnel's local-net and remote-net does while ipsec is stopped
// (`ipsec stopped-traffic drop|forward`). With ipsec started it is always dropped when
// no SA carries it: a tunnel's traffic never leaves in the clear by accident.
enum class StoppedTraffic { Drop, Forward };

struct Config {
    std::vector<Interface> interfaces;          // in the order written
    std::vector<Route> routes;                  // in the order written
    std::map<int, IkePolicy> ike_policies;      // by policy number
    std::map<int, EspPolicy> esp_policies;
    Pki pki;
    std::vector<Peer> peers;                    // in the order written
    std::vector<ManualSa> manual_sas;           // in the order written
    std::vector<SnatRule> snat_rules;           // sorted by rule number
    NatSettings nat;
    bool ipsec_enabled = false;                 // `ipsec start` (true) / `ipsec stop` (false)
    SourceLocation ipsec_enabled_where;
    StoppedTraffic ipsec_stopped_traffic = StoppedTraffic::Drop;  // `ipsec stopped-traffic WORD`

    bool operator==(const Config&) const = default;

    const Interface* find_interface(std::string_view name) const;
};

std::string_view to_string(Encryption);
std::string_view to_string(Hash);
std::string_view to_string(IkeAuthentication);
std::string_view to_string(SnatAction);
std::string_view to_string(IpProtocol);
std::string_view to_string(StoppedTraffic);
// 3DES AES AES-192 AES-256 AES-GCM-128 AES-GCM-256, any case
std::optional<Encryption> parse_encryption(std::string_view);
std::optional<Hash> parse_hash(std::string_view);              // MD5 MD5-128 SHA SHA-256 SHA-512, any case
std::optional<IkeAuthentication> parse_ike_authentication(std::string_view);  // psk rsa-sig
std::optional<SnatAction> parse_snat_action(std::string_view);                // exempt overload
std::optional<IpProtocol> parse_ip_protocol(std::string_view);                // tcp udp icmp
std::optional<StoppedTraffic> parse_stopped_traffic(std::string_view);        // drop forward

// The Diffie-Hellman groups an ike-policy (DH group) or esp-policy (PFS group) may
// name: MODP 1, 2, 5, 14..18 (RFC 2409, 3526), ECP 19..21 (RFC 5903) and
// Curve25519 31 (RFC 8031), as crypto/ike_dh.hpp offers them.
inline constexpr int kSupportedDhGroups[] = {1, 2, 5, 14, 15, 16, 17, 18, 19, 20, 21, 31};
bool is_supported_dh_group(int group);

// The accepted words, comma-separated ("3DES, AES, AES-192, AES-256"), for messages
// that tell the reader what they could have written.
std::string encryption_choices();
std::string ike_encryption_choices();  // the CBC ciphers only
std::string hash_choices();
std::string ike_authentication_choices();
std::string snat_action_choices();
std::string ip_protocol_choices();
std::string stopped_traffic_choices();
std::string dh_group_choices();

}  // namespace mbox::config
