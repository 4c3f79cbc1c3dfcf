// Loader for the known-answer files in tests/crypto/vectors/: '#' comments, records
// separated by blank lines, one "field = value" per line. Values are hex except the
// text fields (name, hash, cipher). Each file's header names the document it copies.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mbox::crypto::test {

struct VectorRecord {
    std::string where;  // "file.txt:LINE" of the record's first field
    std::map<std::string, std::string> fields;

    bool has(const std::string& field) const { return fields.count(field) != 0; }
    const std::string& text(const std::string& field) const;
    std::vector<uint8_t> bytes(const std::string& field) const;  // hex-decoded
};

// Reads tests/crypto/vectors/<file_name>; throws std::runtime_error with file:line on
// malformed input so a bad vector file fails loudly instead of testing nothing.
std::vector<VectorRecord> load_vectors(const std::string& file_name);

std::vector<uint8_t> from_hex(const std::string& hex);
std::string to_hex(const uint8_t* data, size_t len);
inline std::string to_hex(const std::vector<uint8_t>& v) { return to_hex(v.data(), v.size()); }

}  // namespace mbox::crypto::test
