// SA payload proposals (RFC 7296 §3.3) from the configured suites, the responder's
// choice among the peer's proposals (§2.7), the initiator's check of the answer, and
// readable descriptions of both for the log lines that explain a mismatch.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "control/ike/codec/message.hpp"
#include "control/ike/types.hpp"

namespace mbox::ike {

// Transform IDs (IANA "IKEv2 Transform Type N Transform IDs").
namespace transform_id {
inline constexpr uint16_t kEsnNone = 0;
inline constexpr uint16_t kEsnUsed = 1;
}  // namespace transform_id

Proposal ike_proposal(const IkeSuite& suite, std::span<const uint8_t> spi);
// `with_dh`: a CREATE_CHILD_SA with PFS carries the group; IKE_AUTH never does (§1.2).
Proposal esp_proposal(const EspSuite& suite, bool with_dh, uint32_t spi);

// The responder's choice: the first of the peer's proposals (in its order of
// preference) that offers every transform of `ours`. The result holds only the chosen
// transforms, with the peer's proposal number and SPI.
std::optional<Proposal> select_ike(const SaPayload& offer, const IkeSuite& ours);
// `ignore_dh`: in IKE_AUTH a DH transform in the peer's proposal is ignored (no KE
// is exchanged there; strongSwan and others send their PFS group anyway).
std::optional<Proposal> select_esp(const SaPayload& offer, const EspSuite& ours, bool ignore_dh);

// The initiator's check: the answer is exactly one proposal, with one transform of each
// type, all of them from `offered` (§3.3.6). Returns the chosen proposal.
std::optional<Proposal> accept_answer(const SaPayload& answer, const Proposal& offered, std::string& why);

// The IKE suite a chosen IKE proposal stands for (for the IKE SA made by a rekey).
std::optional<IkeSuite> ike_suite_of(const Proposal& chosen);

// "AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP-2048" for each proposal,
// proposals separated by ", ": how the log names what the peer offered.
std::string describe(const SaPayload& offer);
std::string describe(const Proposal& proposal);

// The DH group of a proposal's first DH transform (0: none).
uint16_t dh_group_of(const Proposal& proposal);

}  // namespace mbox::ike
