// Traffic selectors (RFC 7296 §2.9, §3.13) for IPv4 networks: the TS payloads we
// propose, the responder's narrowing of the initiator's proposal to what its
// configuration allows, the initiator's check that the answer stays inside its
// proposal, and the conversion back to prefixes for the data plane's policies.
// mbox's tunnels carry every protocol and port: selectors limited to a protocol or a
// port range are not narrowed to (the data plane has no per-port policy).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/ipv4.hpp"
#include "control/ike/codec/message.hpp"

namespace mbox::ike {

struct AddressRange {
    uint32_t first = 0;  // host order
    uint32_t last = 0;
    bool operator==(const AddressRange&) const = default;
};

std::vector<TrafficSelector> selectors_for(const std::vector<Ipv4Prefix>& nets);

// The parts of the proposed IPv4 selectors (any protocol, all ports) that lie inside
// `allowed`. Selectors of other types, protocols or port ranges are skipped.
std::vector<AddressRange> narrow(const std::vector<TrafficSelector>& proposed, const std::vector<Ipv4Prefix>& allowed);

// The answer's IPv4 ranges when every selector lies inside one of `proposed`; nullopt
// when one does not (or is not IPv4, any protocol, all ports).
std::optional<std::vector<AddressRange>> inside(const std::vector<TrafficSelector>& answer,
                                                const std::vector<Ipv4Prefix>& proposed);

std::vector<TrafficSelector> selectors_for(const std::vector<AddressRange>& ranges);
// The smallest list of prefixes covering exactly these ranges.
std::vector<Ipv4Prefix> to_prefixes(const std::vector<AddressRange>& ranges);

// "10.1.0.0/24,10.3.0.0/24" ("none" for an empty list), for log lines; IKEv1 too.
std::string describe_nets(const std::vector<Ipv4Prefix>& nets);

}  // namespace mbox::ike
