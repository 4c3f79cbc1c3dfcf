// Reading single configuration values, with the messages shared by both forms.
#include "config/value_parsing.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <fmt/format.h>

namespace mbox::config {
namespace {

bool is_all_digits(std::string_view text) {
    return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
}

template <typename T>
Parsed<T> word_or_failure(std::optional<T> value, std::string_view what, std::string_view text,
                          const std::string& choices) {
    if (value) return *value;
    return Failure{fmt::format("unknown {} '{}' (expected one of: {})", what, text, choices)};
}

// Bytes in the UTF-8 sequence that `lead` starts; 0 when it cannot start one.
size_t utf8_sequence_length(unsigned char lead) {
    if (lead < 0x80) return 1;
    if ((lead >> 5) == 0x6) return 2;
    if ((lead >> 4) == 0xe) return 3;
    if ((lead >> 3) == 0x1e) return 4;
    return 0;
}

}  // namespace

bool equals_ignoring_case(std::string_view a, std::string_view b) {
    return std::ranges::equal(a, b, [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
    });
}

bool is_valid_utf8(std::string_view text) {
    size_t at = 0;
    while (at < text.size()) {
        const size_t length = utf8_sequence_length(static_cast<unsigned char>(text[at]));
        if (length == 0 || at + length > text.size()) return false;
        for (size_t k = 1; k < length; ++k) {
            if ((static_cast<unsigned char>(text[at + k]) & 0xc0) != 0x80) return false;
        }
        at += length;
    }
    return true;
}

Parsed<int64_t> parse_number(std::string_view text, std::string_view what, NumberRange range) {
    int64_t value = 0;
    const char* end = text.data() + text.size();
    const bool digits = is_all_digits(text);
    const auto result = digits ? std::from_chars(text.data(), end, value) : std::from_chars_result{};
    if (digits && result.ec == std::errc{} && result.ptr == end && value >= range.min && value <= range.max) {
        return value;
    }
    return Failure{fmt::format("invalid {} '{}' (expected a number {}..{})", what, text, range.min, range.max)};
}

Parsed<Ipv4Address> parse_address(std::string_view text) {
    if (const auto address = Ipv4Address::parse(text)) return *address;
    return Failure{fmt::format("invalid address '{}' (expected A.B.C.D)", text)};
}

Parsed<Ipv4Range> parse_address_range(std::string_view text) {
    const size_t dash = text.find('-');
    const auto first = Ipv4Address::parse(text.substr(0, dash));
    const auto last = dash == std::string_view::npos ? first : Ipv4Address::parse(text.substr(dash + 1));
    if (first && last && *first <= *last) return Ipv4Range{*first, *last};
    return Failure{fmt::format("invalid address range '{}' (expected A.B.C.D or A.B.C.D-A.B.C.D, first <= last)", text)};
}

Parsed<std::pair<uint16_t, uint16_t>> parse_port_range(std::string_view text) {
    const size_t dash = text.find('-');
    const auto port = [](std::string_view t) -> std::optional<uint16_t> {
        if (t.empty() || t.size() > 5 || t.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
        const int v = std::stoi(std::string(t));
        if (v < 1 || v > 65535) return std::nullopt;
        return static_cast<uint16_t>(v);
    };
    if (dash != std::string_view::npos) {
        const auto first = port(text.substr(0, dash));
        const auto last = port(text.substr(dash + 1));
        if (first && last && *first <= *last) return std::pair{*first, *last};
    }
    return Failure{fmt::format("invalid port range '{}' (expected FIRST-LAST, ports 1..65535, first <= last)", text)};
}

Parsed<Ipv4Prefix> parse_prefix(std::string_view text) {
    if (const auto prefix = Ipv4Prefix::parse(text)) return *prefix;
    return Failure{fmt::format("invalid prefix '{}' (expected A.B.C.D/N, N 0..32)", text)};
}

std::string host_bits_message(std::string_view context, const Ipv4Prefix& prefix) {
    return fmt::format("{}: {} has host bits set (did you mean {}?)", context, prefix.to_string(),
                       prefix.network().to_string());
}

Parsed<Ipv4Prefix> parse_network(std::string_view text, std::string_view context) {
    auto prefix = parse_prefix(text);
    if (prefix && !prefix->is_network()) return Failure{host_bits_message(context, *prefix)};
    return prefix;
}

Parsed<std::vector<Ipv4Prefix>> parse_network_list(std::string_view text, std::string_view context) {
    if (text.empty() || text.front() == ',' || text.back() == ',' || text.find(",,") != std::string_view::npos) {
        return Failure{fmt::format("invalid network list '{}' (expected P[,P...]: prefixes separated by commas, "
                                   "no spaces)",
                                   text)};
    }
    std::vector<Ipv4Prefix> networks;
    while (true) {
        const size_t comma = text.find(',');
        const auto network = parse_network(text.substr(0, comma), context);
        if (!network) return Failure{network.error()};
        networks.push_back(*network);
        if (comma == std::string_view::npos) return networks;
        text.remove_prefix(comma + 1);
    }
}

Parsed<Encryption> parse_encryption_word(std::string_view text) {
    return word_or_failure(parse_encryption(text), "encryption", text, encryption_choices());
}

Parsed<Encryption> parse_ike_encryption_word(std::string_view text) {
    const auto encryption = parse_encryption(text);
    if (encryption && is_aead(*encryption)) {
        return Failure{fmt::format("encryption {} is for ESP only, not for an ike-policy (expected one of: {})",
                                   to_string(*encryption), ike_encryption_choices())};
    }
    return word_or_failure(encryption, "encryption", text, ike_encryption_choices());
}

std::optional<std::string> esp_transform_problem(Encryption encryption, std::optional<Hash> hash) {
    if (is_aead(encryption) && hash) {
        return fmt::format("{} takes no hash (GCM authenticates the packets itself)", to_string(encryption));
    }
    if (!is_aead(encryption) && !hash) {
        return fmt::format("{} needs a hash (expected one of: {})", to_string(encryption), hash_choices());
    }
    return std::nullopt;
}

Parsed<Hash> parse_hash_word(std::string_view text) {
    return word_or_failure(parse_hash(text), "hash", text, hash_choices());
}

Parsed<IkeAuthentication> parse_authentication_word(std::string_view text) {
    return word_or_failure(parse_ike_authentication(text), "authentication", text, ike_authentication_choices());
}

Parsed<SnatAction> parse_snat_action_word(std::string_view text) {
    return word_or_failure(parse_snat_action(text), "action", text, snat_action_choices());
}

Parsed<IpProtocol> parse_protocol_word(std::string_view text) {
    return word_or_failure(parse_ip_protocol(text), "protocol", text, ip_protocol_choices());
}

Parsed<StoppedTraffic> parse_stopped_traffic_word(std::string_view text) {
    return word_or_failure(parse_stopped_traffic(text), "stopped-traffic action", text, stopped_traffic_choices());
}

Parsed<int> parse_dh_group(std::string_view text, std::string_view what) {
    const auto number = parse_number(text, what, {0, 1000});
    if (number && is_supported_dh_group(static_cast<int>(*number))) return static_cast<int>(*number);
    return Failure{fmt::format("invalid {} '{}' (expected one of: {})", what, text, dh_group_choices())};
}

Parsed<int> parse_ike_version(std::string_view text) {
    if (text == "1") return 1;
    if (text == "2") return 2;
    return Failure{fmt::format("invalid IKE version '{}' (expected 1 or 2)", text)};
}


Parsed<uint32_t> parse_spi(std::string_view text) {
    // Hex after "0x"; decimal without a leading zero (which some tools read as octal).
    const bool hex = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
    const std::string_view digits = hex ? text.substr(2) : text;
    const bool well_formed = hex ? digits.find_first_not_of("0123456789abcdefABCDEF") == std::string_view::npos
                                 : is_all_digits(digits) && digits.front() != '0';
    uint64_t value = 0;
    const char* end = digits.data() + digits.size();
    const auto result = well_formed ? std::from_chars(digits.data(), end, value, hex ? 16 : 10)
                                    : std::from_chars_result{};
    if (well_formed && result.ec == std::errc{} && result.ptr == end && value >= 256 && value <= 0xffffffff) {
        return static_cast<uint32_t>(value);
    }
    return Failure{fmt::format("invalid SPI '{}' (expected 0x100..0xffffffff, decimal or 0x hex: 0 is invalid, "
                               "1..255 reserved)",
                               text)};
}

Parsed<std::vector<uint8_t>> parse_key(std::string_view text, std::string_view what) {
    if (!text.empty() && text.find_first_not_of('*') == std::string_view::npos) {
        return Failure{fmt::format("{} is redacted ('{}'): write the key itself", what, text)};
    }
    const size_t start = text.starts_with("0x") || text.starts_with("0X") ? 2 : 0;
    const std::string_view digits = text.substr(start);
    if (digits.empty()) return Failure{fmt::format("invalid {}: no hex digits", what)};
    const size_t bad = digits.find_first_not_of("0123456789abcdefABCDEF");
    if (bad != std::string_view::npos) {
        return Failure{fmt::format("invalid {}: character {} is not a hex digit (expected hex, 0x prefix optional)",
                                   what, start + bad + 1)};
    }
    if (digits.size() % 2 != 0) {
        return Failure{fmt::format("invalid {}: odd number of hex digits ({}; expected whole bytes)", what,
                                   digits.size())};
    }
    std::vector<uint8_t> bytes(digits.size() / 2);
    for (size_t i = 0; i < bytes.size(); ++i) {
        std::from_chars(digits.data() + 2 * i, digits.data() + 2 * i + 2, bytes[i], 16);
    }
    return bytes;
}

Parsed<uint32_t> parse_replay_window(std::string_view text) {
    const auto number = parse_number(text, "replay-window", {0, 65536});
    if (number && (*number == 0 || *number >= 32)) return static_cast<uint32_t>(*number);
    return Failure{fmt::format("invalid replay-window '{}' (expected 0 to turn the check off, or a number 32..65536)",
                               text)};
}

Parsed<DfBit> parse_df_bit(std::string_view text) {
    for (DfBit df : {DfBit::Copy, DfBit::Set, DfBit::Clear})
        if (equals_ignoring_case(text, to_string(df))) return df;
    return Failure{fmt::format("invalid df-bit '{}' (expected one of: copy, set, clear)", text)};
}

Parsed<uint32_t> parse_dpd(std::string_view text) {
    const auto number = parse_number(text, "dpd interval", {0, kDpdMax});
    if (number && (*number == 0 || *number >= kDpdMin)) return static_cast<uint32_t>(*number);
    return Failure{fmt::format("invalid dpd interval '{}' (expected 0 to turn dead peer detection off, or a number "
                               "{}..{})",
                               text, kDpdMin, kDpdMax)};
}

Parsed<IkeMode> parse_ike_mode_word(std::string_view text) {
    return word_or_failure(parse_ike_mode(text), "mode", text, "main, aggressive");
}

}  // namespace mbox::config
