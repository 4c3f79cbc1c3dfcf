// printable_text(): what a diagnostic or an error reply shows of the operator's words.
#include "config/printable_text.hpp"

#include <gtest/gtest.h>

namespace mbox::config {
namespace {

struct Case {
    std::string_view text;
    std::string_view shown;
};

TEST(PrintableText, EscapesWhatATerminalWouldObey) {
    const Case cases[] = {
        {"eth0", "eth0"},
        {"", ""},
        {"eth0\r", "eth0\\r"},  // a Windows line end inside a word
        {"a\tb\nc", "a\\tb\\nc"},
        {"\x1b[2J", "\\x1b[2J"},  // ESC: clears the screen when echoed raw
        {std::string_view("a\0b", 3), "a\\x00b"},
        {"\x07\x08\x7f", "\\x07\\x08\\x7f"},
        {"back\\slash", "back\\slash"},  // printable: left as it is
    };
    for (const auto& [text, shown] : cases) EXPECT_EQ(printable_text(text), shown) << shown;
}

TEST(PrintableText, KeepsPrintableUtf8AndEscapesTheRest) {
    const Case cases[] = {
        {"caf\xc3\xa9", "caf\xc3\xa9"},                   // U+00E9
        {"\xe2\x82\xac", "\xe2\x82\xac"},                 // U+20AC, three bytes
        {"\xf0\x9f\x94\x91", "\xf0\x9f\x94\x91"},         // U+1F511, four bytes
        {"\xc2\xa0", "\xc2\xa0"},                         // U+00A0, the first past the C1 range
        {"\xc2\x9b" "1m", "\\xc2\\x9b1m"},                // U+009B: CSI, a C1 control
        {"\xff", "\\xff"},                                // never in UTF-8
        {"\xc3", "\\xc3"},                                // a sequence cut short
        {"\xe2\x82", "\\xe2\\x82"},
        {"\xc3(", "\\xc3("},                              // a lead byte without its continuation
        {"\xc0\x8a", "\\xc0\\x8a"},                       // an overlong '\n'
        {"\xe0\x80\x8d", "\\xe0\\x80\\x8d"},              // an overlong '\r'
        {"\xed\xa0\x80", "\\xed\\xa0\\x80"},              // a UTF-16 surrogate
        {"\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"},     // past U+10FFFF
        {"\xf8\x88\x80\x80\x80", "\\xf8\\x88\\x80\\x80\\x80"},
        {"\x80x", "\\x80x"},                              // a stray continuation byte
    };
    for (const auto& [text, shown] : cases) EXPECT_EQ(printable_text(text), shown) << shown;
}

}  // namespace
}  // namespace mbox::config
