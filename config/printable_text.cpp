#include "config/printable_text.hpp"

#include <cstdint>

#include <fmt/format.h>

namespace mbox::config {
namespace {

// The length of the printable character `text` starts with, or 0 when its first byte
// must be escaped: a control character, or no well-formed UTF-8 sequence (RFC 3629: no
// overlong forms, no surrogates, nothing past U+10FFFF).
size_t printable_length(std::string_view text) {
    const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
    const unsigned char lead = byte(0);
    if (lead < 0x80) return lead >= 0x20 && lead != 0x7f ? 1 : 0;
    const size_t length = lead >= 0xf8 ? 0 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 0;
    if (length == 0 || length > text.size()) return 0;
    uint32_t code = lead & (0x7f >> length);
    for (size_t i = 1; i < length; ++i) {
        if ((byte(i) & 0xc0) != 0x80) return 0;
        code = code << 6 | (byte(i) & 0x3f);
    }
    // The smallest code point each length may carry; for two bytes, the first past the
    // C1 controls (U+0080..U+009F), which some terminals obey like ESC sequences.
    constexpr uint32_t kSmallest[] = {0, 0, 0xa0, 0x800, 0x10000};
    const bool surrogate = code >= 0xd800 && code <= 0xdfff;
    return code >= kSmallest[length] && code <= 0x10ffff && !surrogate ? length : 0;
}

std::string escaped(unsigned char byte) {
    switch (byte) {
        case '\t':
            return "\\t";
        case '\r':
            return "\\r";
        case '\n':
            return "\\n";
        default:
            return fmt::format("\\x{:02x}", byte);
    }
}

}  // namespace

std::string printable_text(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    while (!text.empty()) {
        const size_t length = printable_length(text);
        if (length > 0) {
            out.append(text.substr(0, length));
        } else {
            out += escaped(static_cast<unsigned char>(text.front()));
        }
        text.remove_prefix(length > 0 ? length : 1);
    }
    return out;
}

}  // namespace mbox::config
