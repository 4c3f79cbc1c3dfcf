// Printing diagnostics the way compilers do, so editors can jump to them.
#include "config/diagnostic.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace mbox::config {

std::string Diagnostic::to_string() const {
    const std::string_view severity_word = severity == Severity::Error ? "error" : "warning";
    std::string text = fmt::format("{}:{}: {}: {}", where.file, where.line, severity_word, message);
    if (!where.key_path.empty()) text += fmt::format(" ({})", where.key_path);
    return text;
}

bool has_errors(const Diagnostics& diagnostics) {
    return std::ranges::any_of(diagnostics, [](const Diagnostic& d) { return d.severity == Severity::Error; });
}

}  // namespace mbox::config
