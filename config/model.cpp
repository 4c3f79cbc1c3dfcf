// Names of the model's enumerations, as the mbox language and the YAML form write them.
#include "config/model.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "config/value_parsing.hpp"

namespace mbox::config {

std::string_view to_string(IkeMode mode) { return mode == IkeMode::Aggressive ? "aggressive" : "main"; }

std::optional<IkeMode> parse_ike_mode(std::string_view text) {
    if (equals_ignoring_case(text, "main")) return IkeMode::Main;
    if (equals_ignoring_case(text, "aggressive")) return IkeMode::Aggressive;
    return std::nullopt;
}

std::string Peer::name() const {
    if (address) return address->to_string();
    return remote_id.empty() ? "any" : "any remote-id " + remote_id;
}

std::string_view to_string(DfBit df) {
    switch (df) {
    case DfBit::Copy: return "copy";
    case DfBit::Set: return "set";
    case DfBit::Clear: return "clear";
    }
    return "copy";
}
namespace {

constexpr std::pair<Encryption, std::string_view> kEncryptionWords[] = {
    {Encryption::TripleDes, "3DES"},
    {Encryption::Aes128, "AES"},
    {Encryption::Aes192, "AES-192"},
    {Encryption::Aes256, "AES-256"},
    {Encryption::AesGcm128, "AES-GCM-128"},
    {Encryption::AesGcm256, "AES-GCM-256"},
};

constexpr std::pair<Hash, std::string_view> kHashWords[] = {
    {Hash::Md5, "MD5"},
    {Hash::Md5_128, "MD5-128"},
    {Hash::Sha1, "SHA"},
    {Hash::Sha256, "SHA-256"},
    {Hash::Sha512, "SHA-512"},
};

constexpr std::pair<IkeAuthentication, std::string_view> kAuthenticationWords[] = {
    {IkeAuthentication::Psk, "psk"},
    {IkeAuthentication::RsaSig, "rsa-sig"},
};

constexpr std::pair<SnatAction, std::string_view> kSnatActionWords[] = {
    {SnatAction::Exempt, "exempt"},
    {SnatAction::Overload, "overload"},
    {SnatAction::Translate, "translate"},
};

constexpr std::pair<IpProtocol, std::string_view> kProtocolWords[] = {
    {IpProtocol::Tcp, "tcp"},
    {IpProtocol::Udp, "udp"},
    {IpProtocol::Icmp, "icmp"},
};

constexpr std::pair<StoppedTraffic, std::string_view> kStoppedTrafficWords[] = {
    {StoppedTraffic::Drop, "drop"},
    {StoppedTraffic::Forward, "forward"},
};

template <typename Enum, size_t N>
std::string_view word_of(const std::pair<Enum, std::string_view> (&table)[N], Enum value) {
    for (const auto& [candidate, word] : table) {
        if (candidate == value) return word;
    }
    return "?";
}

template <typename Enum, size_t N>
std::optional<Enum> value_of(const std::pair<Enum, std::string_view> (&table)[N], std::string_view text) {
    for (const auto& [value, word] : table) {
        if (equals_ignoring_case(word, text)) return value;
    }
    return std::nullopt;
}

template <typename Enum, size_t N>
std::string choices_of(const std::pair<Enum, std::string_view> (&table)[N]) {
    std::string words;
    for (const auto& entry : table) words += (words.empty() ? "" : ", ") + std::string(entry.second);
    return words;
}

}  // namespace

std::string SourceLocation::to_string() const {
    if (key_path.empty()) return fmt::format("{}:{}", file, line);
    return fmt::format("{}:{} ({})", file, line, key_path);
}

std::string SourceLocation::file_and_line() const {
    return fmt::format("{}:{}", file, line);
}

const Interface* Config::find_interface(std::string_view name) const {
    const auto found = std::ranges::find(interfaces, name, &Interface::name);
    return found == interfaces.end() ? nullptr : &*found;
}

std::string_view to_string(Encryption value) { return word_of(kEncryptionWords, value); }
std::string_view to_string(Hash value) { return word_of(kHashWords, value); }
std::string_view to_string(IkeAuthentication value) { return word_of(kAuthenticationWords, value); }
std::string Ipv4Range::to_string() const {
    return first == last ? first.to_string() : first.to_string() + "-" + last.to_string();
}

std::string_view to_string(SnatAction value) { return word_of(kSnatActionWords, value); }
std::string_view to_string(IpProtocol value) { return word_of(kProtocolWords, value); }
std::string_view to_string(StoppedTraffic value) { return word_of(kStoppedTrafficWords, value); }

std::optional<Encryption> parse_encryption(std::string_view text) { return value_of(kEncryptionWords, text); }
std::optional<Hash> parse_hash(std::string_view text) { return value_of(kHashWords, text); }
std::optional<IkeAuthentication> parse_ike_authentication(std::string_view text) {
    return value_of(kAuthenticationWords, text);
}
std::optional<SnatAction> parse_snat_action(std::string_view text) { return value_of(kSnatActionWords, text); }
std::optional<IpProtocol> parse_ip_protocol(std::string_view text) { return value_of(kProtocolWords, text); }
std::optional<StoppedTraffic> parse_stopped_traffic(std::string_view text) {
    return value_of(kStoppedTrafficWords, text);
}

std::string encryption_choices() { return choices_of(kEncryptionWords); }
std::string ike_encryption_choices() {
    std::string words;
    for (const auto& [value, word] : kEncryptionWords) {
        if (!is_aead(value)) words += (words.empty() ? "" : ", ") + std::string(word);
    }
    return words;
}
std::string hash_choices() { return choices_of(kHashWords); }
std::string ike_authentication_choices() { return choices_of(kAuthenticationWords); }
std::string snat_action_choices() { return choices_of(kSnatActionWords); }
std::string ip_protocol_choices() { return choices_of(kProtocolWords); }
std::string stopped_traffic_choices() { return choices_of(kStoppedTrafficWords); }
std::string dh_group_choices() { return fmt::format("{}", fmt::join(kSupportedDhGroups, ", ")); }

size_t esp_key_length(Encryption encryption) {
    switch (encryption) {
        case Encryption::TripleDes: return 24;
        case Encryption::Aes128: return 16;
        case Encryption::Aes192: return 24;
        case Encryption::Aes256: return 32;
        case Encryption::AesGcm128: return 16 + 4;
        case Encryption::AesGcm256: return 32 + 4;
    }
    return 0;
}

size_t esp_key_length(Hash hash) {
    switch (hash) {
        case Hash::Md5: return 16;
        case Hash::Md5_128: return 16;
        case Hash::Sha1: return 20;
        case Hash::Sha256: return 32;
        case Hash::Sha512: return 64;
    }
    return 0;
}

bool is_supported_dh_group(int group) {
    return std::ranges::find(kSupportedDhGroups, group) != std::end(kSupportedDhGroups);
}

}  // namespace mbox::config
