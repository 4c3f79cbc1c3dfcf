// Reading one value (a number, an address, a prefix, an algorithm word) from its
// text, with the message both configuration forms report when it is wrong. Keeping
// the messages here makes the mbox language and the YAML form say the same thing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/ipv4.hpp"
#include "config/model.hpp"

namespace mbox::config {

// Keywords and algorithm words are accepted in any case ("aes-256", "Enable").
bool equals_ignoring_case(std::string_view a, std::string_view b);

// Configuration text is UTF-8. (yaml-cpp writes invalid sequences back as U+FFFD,
// so accepting them would break the YAML round trip.)
bool is_valid_utf8(std::string_view text);

struct Failure {
    std::string message;
};

// The value read, or the message saying why there is none.
template <typename T>
class Parsed {
public:
    Parsed(T value) : value_(std::move(value)) {}
    Parsed(Failure failure) : error_(std::move(failure.message)) {}

    explicit operator bool() const { return value_.has_value(); }
    const T& operator*() const { return *value_; }
    const T* operator->() const { return &*value_; }
    const std::string& error() const { return error_; }

private:
    std::optional<T> value_;
    std::string error_;
};

struct NumberRange {
    int64_t min = 0;
    int64_t max = 0;
};

inline constexpr NumberRange kMtuRange{68, 9600};
inline constexpr NumberRange kKeylifeRange{60, 86400};       // seconds, IKE and ESP alike
inline constexpr NumberRange kPolicyNumberRange{1, 65535};   // ike-policy / esp-policy numbers
inline constexpr NumberRange kSnatRuleNumberRange{1, 65535};
inline constexpr NumberRange kUdpPortRange{1, 65535};
inline constexpr NumberRange kNatSessionsRange{1024, 16777216};
inline constexpr NumberRange kNatTimeoutRange{1, 86400};  // seconds

// "invalid MTU '20' (expected a number 68..9600)"
Parsed<int64_t> parse_number(std::string_view text, std::string_view what, NumberRange range);
// "invalid address '300.1.1.1' (expected A.B.C.D)"
Parsed<Ipv4Address> parse_address(std::string_view text);
// "invalid prefix '10.0.0.0/33' (expected A.B.C.D/N, N 0..32)"
Parsed<Ipv4Prefix> parse_prefix(std::string_view text);
// A prefix that names a network: parse_prefix, and no host bits set.
Parsed<Ipv4Prefix> parse_network(std::string_view text, std::string_view context);
// Comma-separated networks, no spaces: "10.1.0.0/24,10.3.0.0/24".
Parsed<std::vector<Ipv4Prefix>> parse_network_list(std::string_view text, std::string_view context);
// "ip route: 10.1.0.1/24 has host bits set (did you mean 10.1.0.0/24?)"
std::string host_bits_message(std::string_view context, const Ipv4Prefix& prefix);

// "A.B.C.D" or "A.B.C.D-A.B.C.D" with first <= last: "invalid address range '...' (expected A.B.C.D or A.B.C.D-A.B.C.D, first <= last)"
Parsed<Ipv4Range> parse_address_range(std::string_view text);
// "1024-65535": ports 1..65535, first <= last.
Parsed<std::pair<uint16_t, uint16_t>> parse_port_range(std::string_view text);

// "unknown encryption 'AES-512' (expected one of: 3DES, AES, AES-192, AES-256)"
Parsed<Encryption> parse_encryption_word(std::string_view text);
// An ike-policy's encryption: a CBC cipher. "encryption AES-GCM-128 is for ESP only,
// not for an ike-policy (expected one of: 3DES, AES, AES-192, AES-256)"
Parsed<Encryption> parse_ike_encryption_word(std::string_view text);
Parsed<Hash> parse_hash_word(std::string_view text);
// What is wrong with an ESP encryption/hash pair, if anything: a CBC cipher needs a
// hash, GCM takes none. "AES-GCM-128 takes no hash (GCM authenticates the packets itself)"
std::optional<std::string> esp_transform_problem(Encryption, std::optional<Hash>);
Parsed<IkeAuthentication> parse_authentication_word(std::string_view text);
Parsed<SnatAction> parse_snat_action_word(std::string_view text);
Parsed<IpProtocol> parse_protocol_word(std::string_view text);
// "unknown stopped-traffic action 'pass' (expected one of: drop, forward)"
Parsed<StoppedTraffic> parse_stopped_traffic_word(std::string_view text);
// what: "DH group" or "PFS group". "invalid DH group '3' (expected one of: 1, 2, 5, ...)"
Parsed<int> parse_dh_group(std::string_view text, std::string_view what);
// "invalid IKE version '3' (expected 1 or 2)"
Parsed<int> parse_ike_version(std::string_view text);

// An ESP SPI, decimal or 0x hex, 256..0xffffffff (RFC 4303 section 2.1).
// "invalid SPI '255' (expected 0x100..0xffffffff, decimal or 0x hex: 0 is invalid, 1..255 reserved)"
Parsed<uint32_t> parse_spi(std::string_view text);
// Key bytes written in hex, 0x prefix optional, whole bytes. `what` names the key
// ("enc-key"). The messages never repeat the key: "invalid enc-key: character 7 is
// not a hex digit (expected hex, 0x prefix optional)".
Parsed<std::vector<uint8_t>> parse_key(std::string_view text, std::string_view what);
// "invalid replay-window '16' (expected 0 to turn the check off, or a number 32..65536)"
Parsed<uint32_t> parse_replay_window(std::string_view text);
Parsed<DfBit> parse_df_bit(std::string_view text);
// "invalid dpd interval '3' (expected 0 to turn dead peer detection off, or a number 5..3600)"
Parsed<uint32_t> parse_dpd(std::string_view text);
// "unknown mode 'quick' (expected one of: main, aggressive)"
Parsed<IkeMode> parse_ike_mode_word(std::string_view text);

}  // namespace mbox::config
