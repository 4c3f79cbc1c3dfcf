// libFuzzer harness for the IKEv2 codec (built by scripts/fuzz.sh with ASan and UBSan).
// What must hold for any input: the parser never reads outside the input, and whatever
// it accepts serializes to bytes that parse back to the same thing.
#include "control/ike/codec/message.hpp"

#include <cstdio>
#include <cstdlib>

namespace {

using namespace mbox::ike;

// Unknown transform attributes are dropped by the serializer (§3.3.6: such a transform
// is never chosen, so never sent): compare without their mark.
std::vector<Payload> without_unknown_attribute_marks(std::vector<Payload> payloads) {
    for (auto& p : payloads)
        if (auto* sa = std::get_if<SaPayload>(&p))
            for (auto& proposal : sa->proposals)
                for (auto& t : proposal.transforms) t.has_unknown_attributes = false;
    return payloads;
}

void require(bool condition, const char* what) {
    if (condition) return;
    std::fprintf(stderr, "ike_codec_fuzz: %s\n", what);
    std::abort();
}

void check_message(std::span<const uint8_t> input) {
    auto first = parse_message(input);
    const auto* m = std::get_if<Message>(&first);
    if (!m) return;
    auto bytes = serialize_message(m->header, m->payloads);
    auto second = parse_message(bytes);
    const auto* again = std::get_if<Message>(&second);
    require(again != nullptr, "a parsed message does not parse after serialization");
    // The length shrinks when unknown transform attributes were dropped; it is the
    // new datagram's in any case (parse_message checked that).
    Header header = m->header;
    header.length = again->header.length;
    require(again->header == header, "header changed by a round trip");
    require(again->payloads == without_unknown_attribute_marks(m->payloads), "payloads changed by a round trip");
    require(serialize_message(again->header, again->payloads) == bytes, "serialization not stable");
}

void check_payloads(std::span<const uint8_t> input) {
    if (input.empty()) return;
    auto first = parse_payloads(static_cast<PayloadType>(input[0]), input.subspan(1));
    const auto* payloads = std::get_if<std::vector<Payload>>(&first);
    if (!payloads) return;
    auto bytes = serialize_payloads(*payloads);
    auto type = payloads->empty() ? PayloadType::None : payload_type(payloads->front());
    auto second = parse_payloads(type, bytes);
    const auto* again = std::get_if<std::vector<Payload>>(&second);
    require(again != nullptr, "a parsed chain does not parse after serialization");
    require(*again == without_unknown_attribute_marks(*payloads), "chain changed by a round trip");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::span<const uint8_t> input(data, size);
    check_message(input);
    check_payloads(input);
    return 0;
}
