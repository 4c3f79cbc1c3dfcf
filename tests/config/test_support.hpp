// Helpers shared by the configuration tests.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "config/diagnostic.hpp"
#include "config/mbox_language.hpp"
#include "config/yaml_form.hpp"

namespace mbox {

// Readable values in gtest failure messages.
inline void PrintTo(const Ipv4Address& value, std::ostream* out) { *out << value.to_string(); }
inline void PrintTo(const Ipv4Prefix& value, std::ostream* out) { *out << value.to_string(); }

}  // namespace mbox

namespace mbox::config::testing {

inline std::vector<std::string> messages(const Diagnostics& diagnostics) {
    std::vector<std::string> lines;
    for (const auto& diagnostic : diagnostics) lines.push_back(diagnostic.to_string());
    return lines;
}

// Parses text that must be free of mistakes; the test fails (listing them) otherwise.
inline Config parse_mbox_clean(std::string_view text) {
    ParseResult result = parse_mbox(text, "test.conf");
    EXPECT_EQ(messages(result.diagnostics), std::vector<std::string>{}) << text;
    return std::move(result.config);
}

inline Config parse_yaml_clean(std::string_view text, std::string_view file = "test.yaml") {
    ParseResult result = parse_yaml(text, file);
    EXPECT_EQ(messages(result.diagnostics), std::vector<std::string>{}) << text;
    return std::move(result.config);
}

inline Ipv4Address address(std::string_view text) { return *Ipv4Address::parse(text); }
inline Ipv4Prefix prefix(std::string_view text) { return *Ipv4Prefix::parse(text); }

// A directory of its own under the system temporary directory, removed afterwards.
class TemporaryDirectory {
public:
    TemporaryDirectory() {
        std::string pattern = (std::filesystem::temp_directory_path() / "mbox-config-test-XXXXXX").string();
        path_ = ::mkdtemp(pattern.data());
    }
    ~TemporaryDirectory() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TemporaryDirectory(const TemporaryDirectory&) = delete;
    TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;

    const std::filesystem::path& path() const { return path_; }

    std::filesystem::path write(const std::string& name, std::string_view content) const {
        const std::filesystem::path file = path_ / name;
        std::filesystem::create_directories(file.parent_path());
        std::ofstream(file, std::ios::binary) << content;
        return file;
    }

private:
    std::filesystem::path path_;
};

}  // namespace mbox::config::testing
