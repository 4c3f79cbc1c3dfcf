// IPv4 address and prefix value types shared by the configuration, the control
// thread and the data plane. Addresses are held in host byte order; conversion to
// network order happens at the packet boundary only.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mbox {

struct Ipv4Address {
    uint32_t value = 0;  // host byte order

    auto operator<=>(const Ipv4Address&) const = default;

    // Strict dotted quad: four decimal octets 0..255, no leading '+', no spaces.
    static std::optional<Ipv4Address> parse(std::string_view text);
    std::string to_string() const;
};

// A prefix as written in configuration: an address and a length. `address` keeps
// the host bits as written ("10.1.0.1/24" is an interface address); network()
// masks them off for routing.
struct Ipv4Prefix {
    Ipv4Address address;
    uint8_t length = 0;

    auto operator<=>(const Ipv4Prefix&) const = default;

    // "A.B.C.D/N" with N in 0..32. A bare address is rejected: callers that accept
    // a host address use Ipv4Address::parse.
    static std::optional<Ipv4Prefix> parse(std::string_view text);
    std::string to_string() const;

    uint32_t mask() const { return length == 0 ? 0 : ~uint32_t{0} << (32 - length); }
    Ipv4Prefix network() const { return {Ipv4Address{address.value & mask()}, length}; }
    bool contains(Ipv4Address a) const { return (a.value & mask()) == (address.value & mask()); }
    bool is_network() const { return (address.value & ~mask()) == 0; }
};

}  // namespace mbox
