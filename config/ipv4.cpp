// Strict parsing and printing of IPv4 addresses and prefixes.
//
// Leading zeros are rejected ("10.01.0.1"): inet_aton() reads them as octal, so
// accepting them would let one string mean two addresses depending on the reader.
#include "config/ipv4.hpp"

#include <charconv>

#include <fmt/format.h>

namespace mbox {
namespace {

// A decimal number of 1..max_digits digits, without sign or leading zero, up to max_value.
std::optional<uint32_t> parse_decimal(std::string_view text, size_t max_digits, uint32_t max_value) {
    if (text.empty() || text.size() > max_digits) return std::nullopt;
    if (text.size() > 1 && text.front() == '0') return std::nullopt;
    uint32_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size() || value > max_value) return std::nullopt;
    return value;
}

}  // namespace

std::optional<Ipv4Address> Ipv4Address::parse(std::string_view text) {
    uint32_t value = 0;
    for (int octet_index = 0; octet_index < 4; ++octet_index) {
        const size_t dot = text.find('.');
        const bool last = octet_index == 3;
        if (last != (dot == std::string_view::npos)) return std::nullopt;
        const auto octet = parse_decimal(text.substr(0, dot), 3, 255);
        if (!octet) return std::nullopt;
        value = (value << 8) | *octet;
        text = last ? std::string_view{} : text.substr(dot + 1);
    }
    return Ipv4Address{value};
}

std::string Ipv4Address::to_string() const {
    return fmt::format("{}.{}.{}.{}", value >> 24, (value >> 16) & 0xff, (value >> 8) & 0xff, value & 0xff);
}

std::optional<Ipv4Prefix> Ipv4Prefix::parse(std::string_view text) {
    const size_t slash = text.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    const auto address = Ipv4Address::parse(text.substr(0, slash));
    const auto length = parse_decimal(text.substr(slash + 1), 2, 32);
    if (!address || !length) return std::nullopt;
    return Ipv4Prefix{*address, static_cast<uint8_t>(*length)};
}

std::string Ipv4Prefix::to_string() const {
    return fmt::format("{}/{}", address.to_string(), length);
}

}  // namespace mbox
