// Validation of a parsed model: the cross-references and rules a parser cannot see line by line.
#pragma once

#include "config/diagnostic.hpp"
#include "config/model.hpp"

namespace mbox::config {

// Errors: duplicate interface names or dpdk-devices, a route whose prefix has host
// bits set, a peer naming a missing ike/esp policy, MD5-128 in an ESP policy used by
// an IKEv1 peer (and in any IKEv1 ike-policy), a PSK missing for a PSK policy, a
// firewall-snat rule on an undefined interface, a peer without local/remote nets.
// Warnings: a tunnel's traffic caught by an overload rule with no exemption before it.
Diagnostics validate(const Config&);

}  // namespace mbox::config
