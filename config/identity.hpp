// IKE identities as the configuration writes them (`local-id`, `remote-id`): what kind
// each is, with its parsed value, for validation now and for the IKE ID payload later
// (RFC 7296 section 3.5: ID_IPV4_ADDR, ID_FQDN, ID_RFC822_ADDR, ID_DER_ASN1_DN).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/ipv4.hpp"
#include "config/value_parsing.hpp"

namespace mbox::config {

enum class IdentityKind { Ipv4, Fqdn, Rfc822, Dn };
std::string_view to_string(IdentityKind);  // "IPv4 address", "FQDN", "email address", "DN"

// One relative distinguished name of a DN, as strongSwan writes it: "CN=gw1".
struct DnAttribute {
    std::string type;   // canonical upper-case short name: "C", "O", "OU", "CN", "E", ...
    std::string value;  // trimmed; never empty

    bool operator==(const DnAttribute&) const = default;
};

struct Identity {
    IdentityKind kind = IdentityKind::Fqdn;
    Ipv4Address address;            // kind Ipv4
    std::string text;               // Fqdn: the name (a strongSwan-style leading '@' dropped); Rfc822: as written
    std::vector<DnAttribute> dn;    // kind Dn: in the order written

    bool operator==(const Identity&) const = default;
};

// Classifies and checks an identity:
//  * A.B.C.D                         -> Ipv4 (dotted numbers that are no address are an error)
//  * "C=SG, O=Example, CN=gw1"       -> Dn: TYPE=VALUE parts separated by ',' (or '/' as in
//                                       "/C=SG/O=Example"), TYPE one of strongSwan's names
//  * user@example.com                -> Rfc822: a local part, '@', a host name
//  * vpn.example.com or @vpn         -> Fqdn: labels of letters, digits and '-' (RFC 1123)
// "invalid identity 'a b' (expected an IPv4 address, a host name, user@host or a DN such
// as \"C=SG, O=Example, CN=gw1\")" and more precise messages for DNs and emails.
Parsed<Identity> parse_identity(std::string_view text);

}  // namespace mbox::config
