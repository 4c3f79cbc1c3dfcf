// Loading a configuration file: read, parse by its extension, validate.
#include "config/load.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "config/validate.hpp"
#include "config/yaml_form.hpp"

namespace mbox::config {

Format format_of(const std::string& path) {
    std::string lower = path;
    std::ranges::transform(lower, lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return lower.ends_with(".yaml") || lower.ends_with(".yml") ? Format::Yaml : Format::Mbox;
}

ParseResult load_text(std::string_view text, const std::string& file) {
    ParseResult result = format_of(file) == Format::Yaml ? parse_yaml(text, file) : parse_mbox(text, file);
    if (!has_errors(result.diagnostics)) {
        Diagnostics found = validate(result.config);
        result.diagnostics.insert(result.diagnostics.end(), found.begin(), found.end());
    }
    return result;
}

namespace {

ParseResult unreadable(const std::string& path, std::string_view reason) {
    ParseResult result;
    result.diagnostics.push_back(
        Diagnostic{Severity::Error, SourceLocation{path, 0, {}}, fmt::format("cannot read file: {}", reason)});
    return result;
}

}  // namespace

ParseResult load_file(const std::string& path) {
    std::error_code ignored;
    if (std::filesystem::is_directory(path, ignored)) return unreadable(path, "is a directory");
    errno = 0;
    std::ifstream in(path, std::ios::binary);
    if (!in) return unreadable(path, errno != 0 ? std::strerror(errno) : "cannot open");
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) return unreadable(path, "read error");
    return load_text(text.str(), path);
}

}  // namespace mbox::config
