// The mbox configuration language: parser (block and single-line forms) and emitter.
#pragma once

#include <string>
#include <string_view>

#include "config/diagnostic.hpp"
#include "config/model.hpp"

namespace mbox::config {

struct ParseResult {
    Config config;
    Diagnostics diagnostics;  // syntax errors found while parsing (not validation)
};

// Parses text in the mbox language. `file` names the source in diagnostics.
// Every line is either understood or reported: nothing is silently ignored.
ParseResult parse_mbox(std::string_view text, std::string_view file);

struct EmitOptions {
    bool redact_secrets = false;  // `show running-config` prints "psk ********"
};

// Canonical block form; parse_mbox(emit_mbox(c)) reproduces c (locations aside).
std::string emit_mbox(const Config&, EmitOptions = {});

}  // namespace mbox::config
