#include "control/arp.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace mbox::control {

namespace {

constexpr uint16_t kEtherTypeArp = 0x0806;
constexpr uint16_t kEtherTypeIpv4 = 0x0800;
constexpr uint16_t kHardwareEthernet = 1;
constexpr size_t kEthernetMinimumFrame = 60;

uint16_t read16(std::span<const uint8_t> b, size_t at) { return static_cast<uint16_t>(b[at] << 8 | b[at + 1]); }
uint32_t read32(std::span<const uint8_t> b, size_t at) {
    return uint32_t{b[at]} << 24 | uint32_t{b[at + 1]} << 16 | uint32_t{b[at + 2]} << 8 | b[at + 3];
}
void write16(std::vector<uint8_t>& b, size_t at, uint16_t v) {
    b[at] = static_cast<uint8_t>(v >> 8);
    b[at + 1] = static_cast<uint8_t>(v);
}
void write32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}
MacAddress read_mac(std::span<const uint8_t> b, size_t at) {
    MacAddress m;
    std::copy_n(b.begin() + static_cast<ptrdiff_t>(at), 6, m.begin());
    return m;
}
void write_mac(std::vector<uint8_t>& b, size_t at, const MacAddress& m) {
    std::copy(m.begin(), m.end(), b.begin() + static_cast<ptrdiff_t>(at));
}

}  // namespace

std::string to_string(const MacAddress& m) {
    return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4], m[5]);
}

std::optional<ArpPacket> parse_arp(std::span<const uint8_t> frame) {
    if (frame.size() < kArpFrameLength || read16(frame, 12) != kEtherTypeArp) return std::nullopt;
    const auto arp = frame.subspan(14);
    if (read16(arp, 0) != kHardwareEthernet || read16(arp, 2) != kEtherTypeIpv4 || arp[4] != 6 || arp[5] != 4)
        return std::nullopt;
    const uint16_t op = read16(arp, 6);
    if (op != 1 && op != 2) return std::nullopt;
    ArpPacket p;
    p.op = static_cast<ArpPacket::Op>(op);
    p.sender_mac = read_mac(arp, 8);
    p.sender_ip = read32(arp, 14);
    p.target_mac = read_mac(arp, 18);
    p.target_ip = read32(arp, 24);
    return p;
}

std::vector<uint8_t> build_arp(const ArpPacket& p, const MacAddress& eth_destination) {
    std::vector<uint8_t> f(kEthernetMinimumFrame, 0);
    write_mac(f, 0, eth_destination);
    write_mac(f, 6, p.sender_mac);
    write16(f, 12, kEtherTypeArp);
    write16(f, 14, kHardwareEthernet);
    write16(f, 16, kEtherTypeIpv4);
    f[18] = 6;
    f[19] = 4;
    write16(f, 20, static_cast<uint16_t>(p.op));
    write_mac(f, 22, p.sender_mac);
    write32(f, 28, p.sender_ip);
    write_mac(f, 32, p.target_mac);
    write32(f, 38, p.target_ip);
    return f;
}

}  // namespace mbox::control
