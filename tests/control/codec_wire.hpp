// Hand-written wire bytes for the IKE codec tests (IKEv2 and ISAKMP): hex with spaces
// for readability, and every length or count field marked as it is written so that a
// test can alter each one and expect the parser to notice.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

namespace mbox::codec::test {

inline std::vector<uint8_t> from_hex(std::string_view hex) {
    std::vector<uint8_t> out;
    int high = -1;
    for (char c : hex) {
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0) continue;  // spaces and separators
        if (high < 0) {
            high = v;
        } else {
            out.push_back(static_cast<uint8_t>(high << 4 | v));
            high = -1;
        }
    }
    EXPECT_EQ(high, -1) << "odd number of hex digits";
    return out;
}

// The expected bytes of a message, written piece by piece.
struct Wire {
    struct Field {
        size_t offset;
        size_t width;
    };
    std::vector<uint8_t> bytes;
    std::vector<Field> lengths;  // every length and count field, in the order written

    Wire& raw(std::string_view hex) {
        auto b = from_hex(hex);
        bytes.insert(bytes.end(), b.begin(), b.end());
        return *this;
    }
    Wire& length(std::string_view hex) {
        lengths.push_back({bytes.size(), from_hex(hex).size()});
        return raw(hex);
    }
};

// `bytes` with the big-endian field `f` changed by `delta` (wrapping).
inline std::vector<uint8_t> with_field_changed(std::vector<uint8_t> bytes, Wire::Field f, int delta) {
    uint32_t v = 0;
    for (size_t i = 0; i < f.width; ++i) v = v << 8 | bytes[f.offset + i];
    v += static_cast<uint32_t>(delta);
    for (size_t i = 0; i < f.width; ++i) bytes[f.offset + i] = static_cast<uint8_t>(v >> (8 * (f.width - 1 - i)));
    return bytes;
}

// Why a parse was refused (the codecs' ParseError::reason), or "(accepted)".
template <typename T, typename Error>
std::string refusal(const std::variant<T, Error>& result) {
    const auto* e = std::get_if<Error>(&result);
    return e ? e->reason : std::string("(accepted)");
}

}  // namespace mbox::codec::test
