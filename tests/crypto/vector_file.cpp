#include "vector_file.hpp"

#include <fstream>
#include <stdexcept>

#ifndef MBOX_CRYPTO_VECTOR_DIR
#error "MBOX_CRYPTO_VECTOR_DIR must name tests/crypto/vectors"
#endif

namespace mbox::crypto::test {

namespace {

std::string trim(const std::string& s) {
    const auto b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos)
        return {};
    const auto e = s.find_last_not_of(" \t\r");
    return s.substr(b, e - b + 1);
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

}  // namespace

std::vector<uint8_t> from_hex(const std::string& hex) {
    if (hex.size() % 2 != 0)
        throw std::runtime_error("odd number of hex digits: " + hex);
    std::vector<uint8_t> out(hex.size() / 2);
    for (size_t i = 0; i < out.size(); ++i) {
        const int hi = hex_digit(hex[2 * i]);
        const int lo = hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            throw std::runtime_error("not hex: " + hex);
        out[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    return out;
}

std::string to_hex(const uint8_t* data, size_t len) {
    static const char kDigits[] = "0123456789abcdef";
    std::string s;
    s.reserve(2 * len);
    for (size_t i = 0; i < len; ++i) {
        s += kDigits[data[i] >> 4];
        s += kDigits[data[i] & 15];
    }
    return s;
}

const std::string& VectorRecord::text(const std::string& field) const {
    auto it = fields.find(field);
    if (it == fields.end())
        throw std::runtime_error(where + ": no field '" + field + "'");
    return it->second;
}

std::vector<uint8_t> VectorRecord::bytes(const std::string& field) const {
    try {
        return from_hex(text(field));
    } catch (const std::runtime_error& e) {
        throw std::runtime_error(where + ": field '" + field + "': " + e.what());
    }
}

std::vector<VectorRecord> load_vectors(const std::string& file_name) {
    const std::string path = std::string(MBOX_CRYPTO_VECTOR_DIR) + "/" + file_name;
    std::ifstream in(path);
    if (!in)
        throw std::runtime_error("cannot open " + path);
    std::vector<VectorRecord> records;
    VectorRecord current;
    std::string line;
    int line_no = 0;
    auto finish = [&] {
        if (!current.fields.empty()) {
            if (!current.has("name"))
                throw std::runtime_error(current.where + ": record has no name");
            records.push_back(std::move(current));
        }
        current = VectorRecord{};
    };
    while (std::getline(in, line)) {
        ++line_no;
        const std::string t = trim(line);
        if (t.empty()) {
            finish();
            continue;
        }
        if (t[0] == '#')
            continue;
        const auto eq = t.find('=');
        if (eq == std::string::npos)
            throw std::runtime_error(file_name + ":" + std::to_string(line_no) + ": expected 'field = value'");
        if (current.fields.empty())
            current.where = file_name + ":" + std::to_string(line_no);
        const std::string key = trim(t.substr(0, eq));
        if (!current.fields.emplace(key, trim(t.substr(eq + 1))).second)
            throw std::runtime_error(file_name + ":" + std::to_string(line_no) + ": duplicate field '" + key + "'");
    }
    finish();
    if (records.empty())
        throw std::runtime_error(path + " holds no records");
    return records;
}

}  // namespace mbox::crypto::test
