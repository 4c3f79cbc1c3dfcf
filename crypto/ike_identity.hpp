// Distinguished-name identities for IKE (ID_DER_ASN1_DN, RFC 7296 §3.5): the DER form
// of a DN written in the configuration ("C=SG, O=Example, CN=gw1"), a comparison that
// ignores string types and letter case (OpenSSL's canonical X509_NAME_cmp), and the
// text of a DER DN for logs. OpenSSL 3.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace mbox::crypto {

// Attributes as (type, value) in the order written, e.g. {"C","SG"}, {"CN","gw1"};
// types are OpenSSL's short names (C, ST, L, O, OU, CN, E/emailAddress, ...).
std::optional<std::vector<uint8_t>> dn_der(std::span<const std::pair<std::string, std::string>> attributes,
                                           std::string& error);
// false when either side does not parse.
bool dn_equal(std::span<const uint8_t> a, std::span<const uint8_t> b);
// "C=SG, O=Example, CN=gw1" (strongSwan's order and separators); "(bad DN)" when unparsable.
std::string dn_text(std::span<const uint8_t> der);
// SHA-1 of a SubjectPublicKeyInfo: a CERTREQ entry for a CA (RFC 7296 §3.7).
std::vector<uint8_t> key_id(std::span<const uint8_t> public_key_der);

}  // namespace mbox::crypto
