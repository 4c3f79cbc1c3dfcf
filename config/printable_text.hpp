// User text made safe to quote in a message. Diagnostics and error replies echo the
// operator's words, and a control character among them (a carriage return left by a
// Windows editor, an escape sequence) must not reach a terminal or a log raw, where it
// can hide or rewrite what is shown.
#pragma once

#include <string>
#include <string_view>

namespace mbox::config {

// `text` with each byte that does not print written as an escape: \t, \r and \n by name,
// other control characters (C0, DEL, and the C1 range as UTF-8) and bytes that are not
// well-formed UTF-8 as \xNN. Printable UTF-8, a backslash included, passes unchanged.
//   "eth0\r" -> "eth0\\r", "a\x1b[2Jb" -> "a\\x1b[2Jb", "caf\xc3\xa9" unchanged
std::string printable_text(std::string_view text);

}  // namespace mbox::config
