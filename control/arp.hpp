// ARP for Ethernet/IPv4 (RFC 826): the packet codec. Frames are plain bytes here;
// the data plane hands them over and takes them back.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace mbox::control {

using MacAddress = std::array<uint8_t, 6>;

inline constexpr MacAddress kBroadcastMac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

std::string to_string(const MacAddress& mac);

struct ArpPacket {
    enum class Op : uint16_t { Request = 1, Reply = 2 };
    Op op = Op::Request;
    MacAddress sender_mac{};
    uint32_t sender_ip = 0;  // host byte order
    MacAddress target_mac{};
    uint32_t target_ip = 0;
};

inline constexpr size_t kArpFrameLength = 14 + 28;

// Parses an Ethernet frame holding ARP. Rejects anything but Ethernet/IPv4 ARP
// requests and replies, and frames shorter than the 42 bytes that requires.
std::optional<ArpPacket> parse_arp(std::span<const uint8_t> frame);

// Builds the Ethernet frame (60 bytes: padded to the Ethernet minimum).
std::vector<uint8_t> build_arp(const ArpPacket& arp, const MacAddress& eth_destination);

}  // namespace mbox::control
