// Diagnostics: every problem a configuration has, each with where it was found.
#pragma once

#include <string>
#include <vector>

#include "config/model.hpp"

namespace mbox::config {

enum class Severity { Error, Warning };

struct Diagnostic {
    Severity severity = Severity::Error;
    SourceLocation where;
    std::string message;

    // "lab.conf:12: error: unknown keyword 'foo' (expected one of: ...)". The message
    // holds the operator's words as written; here control characters and bytes that are
    // not UTF-8 are escaped (printable_text: "unknown keyword 'mtu\r'").
    std::string to_string() const;
};

using Diagnostics = std::vector<Diagnostic>;

bool has_errors(const Diagnostics&);

}  // namespace mbox::config
