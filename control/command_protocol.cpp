#include "control/command_protocol.hpp"

#include <type_traits>

#include <fmt/format.h>

namespace mbox::control {

namespace {

using nlohmann::json;
using Line = nlohmann::ordered_json;  // keeps "ok" first, as people read it

std::string dump_line(const Line& object) {
    // No indentation keeps it on one line: newlines inside strings are escaped.
    return object.dump(-1, ' ', false, Line::error_handler_t::replace);
}

std::string_view strip_line_end(std::string_view line) {
    if (line.ends_with('\n')) line.remove_suffix(1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    return line;
}

// nlohmann's messages start with "[json.exception.parse_error.101] "; people need the rest.
std::string without_exception_id(const char* what) {
    std::string_view message(what);
    if (message.starts_with('[')) {
        size_t end = message.find("] ");
        if (end != std::string_view::npos) message.remove_prefix(end + 2);
    }
    return std::string(message);
}

std::variant<json, std::string> parse_object(std::string_view line, std::string_view what) {
    json object;
    try {
        object = json::parse(strip_line_end(line));
    } catch (const json::exception& e) {
        return fmt::format("malformed {}: {}", what, without_exception_id(e.what()));
    }
    if (!object.is_object()) return fmt::format("malformed {}: not a JSON object", what);
    return object;
}

// Reads an optional string or boolean field; false when present with the wrong type.
template <typename T>
bool read_field(const json& object, const char* name, T& out) {
    auto it = object.find(name);
    if (it == object.end()) return true;
    if constexpr (std::is_same_v<T, bool>) {
        if (!it->is_boolean()) return false;
    } else {
        if (!it->is_string()) return false;
    }
    out = it->template get<T>();
    return true;
}

std::string wrong_type(std::string_view what, std::string_view field, std::string_view kind) {
    return fmt::format("malformed {}: '{}' must be a {}", what, field, kind);
}

}  // namespace

Reply Reply::failure(std::string message) {
    Reply reply;
    reply.ok = false;
    reply.error = std::move(message);
    return reply;
}

std::string encode_request(const Request& request) {
    return dump_line(Line{{"command", request.command}, {"json", request.json}});
}

std::string encode_reply(const Reply& reply) {
    if (!reply.ok) return dump_line(Line{{"ok", false}, {"error", reply.error}});
    Line object{{"ok", true}, {"text", reply.text}};
    if (!reply.data.is_null()) object["data"] = reply.data;
    return dump_line(object);
}

std::variant<Request, std::string> decode_request(std::string_view line) {
    auto parsed = parse_object(line, "request");
    if (auto* error = std::get_if<std::string>(&parsed)) return *error;
    const json& object = std::get<json>(parsed);
    Request request;
    if (!object.contains("command")) return std::string("malformed request: no 'command'");
    if (!read_field(object, "command", request.command)) {
        return wrong_type("request", "command", "string");
    }
    if (!read_field(object, "json", request.json)) {
        return wrong_type("request", "json", "boolean");
    }
    return request;
}

std::variant<Reply, std::string> decode_reply(std::string_view line) {
    auto parsed = parse_object(line, "reply");
    if (auto* error = std::get_if<std::string>(&parsed)) return *error;
    const json& object = std::get<json>(parsed);
    Reply reply;
    if (!object.contains("ok")) return std::string("malformed reply: no 'ok'");
    if (!read_field(object, "ok", reply.ok)) return wrong_type("reply", "ok", "boolean");
    if (!read_field(object, "text", reply.text)) return wrong_type("reply", "text", "string");
    if (!read_field(object, "error", reply.error)) {
        return wrong_type("reply", "error", "string");
    }
    if (auto it = object.find("data"); it != object.end()) reply.data = *it;
    if (!reply.ok && reply.error.empty()) reply.error = "unspecified error";
    return reply;
}

}  // namespace mbox::control
