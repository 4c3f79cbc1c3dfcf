// The YAML form of the configuration model (yaml-cpp), for generated deployments.
#pragma once

#include <string>
#include <string_view>

#include "config/mbox_language.hpp"

namespace mbox::config {

// Diagnostics carry file:line and the key path ("ipsec.peers.203.0.113.2.ike-policy").
// A psk-file, enc-key-file or auth-key-file is read relative to the YAML file's
// directory when not absolute. Key files hold hex (0x optional); blanks and line
// breaks in them are ignored.
// A peer's key is its address or, for `ipsec peer any`, "any remote-id ID" (a bare
// "any" may hold its remote-id inside). ipsec.pki holds ca-certs (a list), local-cert
// and local-key, file names relative to the YAML file as well.
// Unknown and repeated keys, wrong types, a second document and text that is not
// one line of UTF-8 are errors; "key:" with nothing after it is an empty map.
ParseResult parse_yaml(std::string_view text, std::string_view file);

// A peer read from a psk-file is written with its psk-file, never its secret; the
// same holds for manual-SA keys read from key files.
std::string emit_yaml(const Config&, EmitOptions = {});

}  // namespace mbox::config
