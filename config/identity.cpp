// Classifying IKE identities (local-id, remote-id).
#include "config/identity.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace mbox::config {
namespace {

// The attribute names strongSwan's identification_create_from_string() reads
// (src/libstrongswan/utils/identification.c, x501rdns), in canonical spelling.
constexpr std::string_view kDnTypes[] = {"C",  "ST", "L",   "O",  "OU",  "CN", "E",  "emailAddress", "DC",
                                         "SN", "serialNumber", "UID", "T",  "G", "I",  "dnQualifier", "pseudonym",
                                         "postalCode", "street", "N", "D", "ID", "title"};

constexpr std::string_view kExpected =
    "expected an IPv4 address, a host name, user@host or a DN such as \"C=SG, O=Example, CN=gw1\"";

std::string_view trim_blanks(std::string_view text) {
    const size_t first = text.find_first_not_of(" \t");
    if (first == std::string_view::npos) return {};
    return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// RFC 1123 host name: labels of 1..63 letters, digits and '-', not starting or ending
// with '-', 253 characters at most.
bool is_host_name(std::string_view name) {
    if (name.empty() || name.size() > 253) return false;
    size_t start = 0;
    while (true) {
        const size_t dot = name.find('.', start);
        const std::string_view label = name.substr(start, dot == std::string_view::npos ? dot : dot - start);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
        if (!std::ranges::all_of(label, [](unsigned char c) { return std::isalnum(c) || c == '-'; })) return false;
        if (dot == std::string_view::npos) return true;
        start = dot + 1;
    }
}

bool looks_numeric(std::string_view text) {
    return !text.empty() && text.find_first_not_of("0123456789.") == std::string_view::npos;
}

Failure invalid(std::string_view text, std::string_view why) {
    return Failure{fmt::format("invalid identity '{}': {}", text, why)};
}

Parsed<Identity> parse_dn(std::string_view text) {
    Identity identity;
    identity.kind = IdentityKind::Dn;
    // strongSwan reads "C=SG, O=Example" and "/C=SG/O=Example" alike.
    const bool slashes = text.starts_with('/');
    const char separator = slashes ? '/' : ',';
    std::string_view rest = slashes ? text.substr(1) : text;
    while (true) {
        const size_t end = rest.find(separator);
        const std::string_view part = trim_blanks(rest.substr(0, end));
        const size_t equals = part.find('=');
        if (equals == std::string_view::npos) {
            return invalid(text, fmt::format("DN part '{}' is not TYPE=VALUE", part));
        }
        const std::string_view type = trim_blanks(part.substr(0, equals));
        const std::string_view value = trim_blanks(part.substr(equals + 1));
        const auto known = std::ranges::find_if(kDnTypes, [&](std::string_view t) {
            return equals_ignoring_case(t, type);
        });
        if (known == std::end(kDnTypes)) {
            return invalid(text, fmt::format("unknown DN attribute '{}' (expected one of: {})", type,
                                             fmt::join(kDnTypes, ", ")));
        }
        if (value.empty()) return invalid(text, fmt::format("DN attribute {} has no value", *known));
        identity.dn.push_back(DnAttribute{std::string(*known), std::string(value)});
        if (end == std::string_view::npos) return identity;
        rest.remove_prefix(end + 1);
    }
}

}  // namespace

std::string_view to_string(IdentityKind kind) {
    switch (kind) {
    case IdentityKind::Ipv4: return "IPv4 address";
    case IdentityKind::Fqdn: return "FQDN";
    case IdentityKind::Rfc822: return "email address";
    case IdentityKind::Dn: return "DN";
    }
    return "?";
}

Parsed<Identity> parse_identity(std::string_view text) {
    if (trim_blanks(text).empty()) return Failure{"empty identity"};
    if (trim_blanks(text) != text) return invalid(text, "leading or trailing blanks");
    if (looks_numeric(text)) {
        if (const auto address = Ipv4Address::parse(text)) return Identity{IdentityKind::Ipv4, *address, {}, {}};
        return invalid(text, "not an IPv4 address (expected A.B.C.D)");
    }
    if (text.find('=') != std::string_view::npos) return parse_dn(text);
    if (const size_t at = text.find('@'); at != std::string_view::npos) {
        // strongSwan's "@name" forces an FQDN (it never guesses an address from it).
        if (at == 0) {
            if (is_host_name(text.substr(1))) return Identity{IdentityKind::Fqdn, {}, std::string(text.substr(1)), {}};
            return invalid(text, "'@' must be followed by a host name");
        }
        const std::string_view local = text.substr(0, at);
        const std::string_view domain = text.substr(at + 1);
        const bool local_ok = std::ranges::none_of(local, [](unsigned char c) {
            return c <= ' ' || c == '@' || c == '"' || c == ',' || c == '<' || c == '>' || c == 0x7f;
        });
        if (!local_ok || !is_host_name(domain)) {
            return invalid(text, "not an email address (expected user@host)");
        }
        return Identity{IdentityKind::Rfc822, {}, std::string(text), {}};
    }
    if (is_host_name(text)) return Identity{IdentityKind::Fqdn, {}, std::string(text), {}};
    return invalid(text, kExpected);
}

}  // namespace mbox::config
