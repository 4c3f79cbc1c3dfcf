// Names of Notify types for log lines ("NO_PROPOSAL_CHOSEN"), and the first error
// notification of a payload list.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "control/ike/codec/message.hpp"

namespace mbox::ike {

std::string describe_notify(uint16_t type);
const NotifyPayload* error_notify(const std::vector<Payload>& payloads);

}  // namespace mbox::ike
