// The wire format between `mbox` and `mboxd`: one JSON object per line, each way.
//   request  {"command":"show interfaces","json":true}
//   reply    {"ok":true,"text":"...","data":{...}}   or   {"ok":false,"error":"..."}
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

namespace mbox::control {

// A request line longer than this is refused (mboxd answers an error and skips it).
inline constexpr size_t kMaxRequestBytes = 64 * 1024;

struct Request {
    std::string command;  // the words as typed, separated by blanks
    bool json = false;    // the client wants `data` filled for machine use
};

struct Reply {
    bool ok = true;
    std::string text;     // for people; printed as is
    nlohmann::json data;  // for tools (`mbox --json`); null when the command has none
    std::string error;    // set when !ok

    static Reply failure(std::string message);
};

// Encoders return one line of JSON without the trailing '\n'. They never throw: invalid
// UTF-8 in a string is replaced by U+FFFD.
std::string encode_request(const Request&);
std::string encode_reply(const Reply&);

// Decoders accept one line (a trailing '\n' or "\r\n" is ignored). Malformed JSON or
// fields of the wrong type give an error message instead of throwing.
std::variant<Request, std::string> decode_request(std::string_view line);
std::variant<Reply, std::string> decode_reply(std::string_view line);

}  // namespace mbox::control
