// Validation of a parsed model: the cross-references and rules a parser cannot see line by line.
#pragma once

#include "config/diagnostic.hpp"
#include "config/model.hpp"

namespace mbox::config {

// Errors: duplicate interface names or dpdk-devices, a route whose prefix has host
// bits set, a peer naming a missing ike/esp policy, MD5-128 in an ESP policy used by
// an IKEv1 peer (and in any IKEv1 ike-policy), a PSK missing for a PSK policy, a
// firewall-snat rule on an undefined interface, a peer without local/remote nets.
// Manual SAs: a duplicate name; a missing local ip, peer, net, esp, inbound or
// outbound; a local ip that is none of our interface addresses; a key of the wrong
// length for its algorithm, a CBC SA without auth-key, a GCM SA with one; an inbound
// SPI used by two manual SAs; a local-net x remote-net pair carried by two.
// Peers: an `any` peer without a remote-id or with one another `any` peer has; a
// malformed local-id or remote-id (config/identity.hpp); `mode` under an IKEv2
// policy; an rsa-sig peer without local-cert, local-key and a ca-cert. The pki files
// themselves are read and checked (config/pki.hpp).
// Warnings: `remote-ip any` on an `any` peer; a tunnel's (peer's or manual SA's) traffic caught by an overload rule
// with no exemption before it.
Diagnostics validate(const Config&);

}  // namespace mbox::config
