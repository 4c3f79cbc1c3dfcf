// The PEM files of `ipsec pki`, read with OpenSSL 3: each must be readable and of the
// right kind, and the local key must belong to the local certificate. Messages name
// files, never their contents.
#pragma once

#include <filesystem>

#include "config/diagnostic.hpp"
#include "config/model.hpp"

namespace mbox::config {

// A relative file name is relative to the directory of the configuration file that
// names it (where.file).
std::filesystem::path resolve_pki_file(const PkiFile&);

// One diagnostic per problem, at the line of the file concerned:
//   ipsec pki: cannot read ca-cert 'ca.pem': No such file or directory
//   ipsec pki: ca-cert 'ca.pem' holds no PEM certificate
//   ipsec pki: ca-cert 'gw1.pem' is not a CA certificate
//   ipsec pki: local-key 'gw1.key' holds no PEM private key (an encrypted key is not supported)
//   ipsec pki: local-key 'other.key' does not match local-cert 'gw1.pem'
//   ipsec pki: local-cert given without local-key (and the reverse)
Diagnostics check_pki_files(const Pki&);

}  // namespace mbox::config
