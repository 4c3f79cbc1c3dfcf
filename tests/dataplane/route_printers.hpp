// Readable next hops in GoogleTest failure messages (found by argument-dependent lookup).
#pragma once

#include <ostream>

#include "dataplane/route_table.hpp"

namespace mbox::dataplane {

inline const char* kind_name(NextHop::Kind k) {
    switch (k) {
    case NextHop::Kind::Connected: return "connected";
    case NextHop::Kind::Gateway: return "gateway";
    case NextHop::Kind::Local: return "local";
    case NextHop::Kind::Broadcast: return "broadcast";
    }
    return "?";
}

inline void PrintTo(NextHop::Kind k, std::ostream* out) { *out << kind_name(k); }

inline void PrintTo(const NextHop& h, std::ostream* out) {
    *out << kind_name(h.kind) << " port " << h.port;
    if (h.kind == NextHop::Kind::Gateway) *out << " via " << Ipv4Address{h.gateway}.to_string();
}

}  // namespace mbox::dataplane
