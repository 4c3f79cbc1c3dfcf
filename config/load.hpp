// Loading a configuration file of either form, with validation.
#pragma once

#include <string>
#include <string_view>

#include "config/mbox_language.hpp"

namespace mbox::config {

enum class Format { Mbox, Yaml };

// By extension: .yaml / .yml are YAML, anything else the mbox language.
Format format_of(const std::string& path);

// Reads, parses and validates. diagnostics holds parse errors, then validation
// errors and warnings; the config is usable only when !has_errors(diagnostics).
// An unreadable file is one error at "<path>:0".
ParseResult load_file(const std::string& path);

// load_file on text already read: parses it as `file` names it (format_of), then
// validates when parsing found no errors. A YAML psk-file is read relative to `file`.
ParseResult load_text(std::string_view text, const std::string& file);

}  // namespace mbox::config
