// Printing diagnostics the way compilers do, so editors can jump to them.
#include "config/diagnostic.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "config/printable_text.hpp"

namespace mbox::config {

// Every diagnostic is printed through here, so escaping here covers each word that any
// parser or validation check quotes, and the YAML key path, which is made of the
// operator's keys too.
std::string Diagnostic::to_string() const {
    const std::string_view severity_word = severity == Severity::Error ? "error" : "warning";
    std::string text = fmt::format("{}:{}: {}: {}", printable_text(where.file), where.line, severity_word,
                                   printable_text(message));
    if (!where.key_path.empty()) text += fmt::format(" ({})", printable_text(where.key_path));
    return text;
}

bool has_errors(const Diagnostics& diagnostics) {
    return std::ranges::any_of(diagnostics, [](const Diagnostic& d) { return d.severity == Severity::Error; });
}

}  // namespace mbox::config
