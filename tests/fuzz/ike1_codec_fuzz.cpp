// libFuzzer harness for the ISAKMP codec (IKEv1; built by scripts/fuzz.sh with ASan and
// UBSan). What must hold for any input: the parser never reads outside the input; what
// it accepts serializes to bytes that parse back to the same thing; an encrypted
// message's bytes are kept exactly; and the extents it reports lie within what it read,
// one payload after another, so the hashes taken over them (RFC 2409 §5, §5.5) cannot
// reach outside the message.
#include "control/ike1/codec/message.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace {

using namespace mbox::ike1;

void require(bool condition, const char* what) {
    if (condition) return;
    std::fprintf(stderr, "ike1_codec_fuzz: %s\n", what);
    std::abort();
}

void check_extents(std::span<const uint8_t> bytes, const Chain& chain, size_t start) {
    require(chain.extents.size() == chain.payloads.size(), "one extent per payload");
    size_t at = start;
    for (size_t i = 0; i < chain.extents.size(); ++i) {
        require(chain.extents[i].offset == at, "extents follow one another");
        require(chain.extents[i].length >= kGenericPayloadHeaderLength, "an extent holds its generic header");
        at += chain.extents[i].length;
        require(body_of(bytes, chain, i).size() == chain.extents[i].length - kGenericPayloadHeaderLength,
                "body_of is the extent's body");
        require(bytes_after(bytes, chain, i).size() == chain.end - at, "bytes_after runs to the chain's end");
    }
    require(at == chain.end && chain.end <= bytes.size(), "the chain ends where its last payload does");
}

void check_message(std::span<const uint8_t> input) {
    auto first = parse_message(input);
    const auto* m = std::get_if<Message>(&first);
    if (!m) return;
    if (m->header.encrypted()) {
        auto bytes = serialize_encrypted(m->header, m->encrypted);
        require(std::equal(bytes.begin(), bytes.end(), input.begin(), input.end()), "encrypted message not kept exactly");
        return;
    }
    check_extents(input, m->chain, kHeaderLength);
    auto bytes = serialize_message(m->header, m->chain.payloads);
    auto second = parse_message(bytes);
    const auto* again = std::get_if<Message>(&second);
    require(again != nullptr, "a parsed message does not parse after serialization");
    // Fields read but not kept (RESERVED2, NAT-OA's reserved octets, a DOI of 0) are
    // written as zero or 1: the bytes may differ, the length and the meaning may not.
    require(again->header == m->header, "header changed by a round trip");
    require(again->chain.payloads == m->chain.payloads, "payloads changed by a round trip");
    require(serialize_message(again->header, again->chain.payloads) == bytes, "serialization not stable");
}

void check_payloads(std::span<const uint8_t> input) {
    if (input.empty()) return;
    auto body = input.subspan(1);
    auto first = parse_payloads(static_cast<PayloadType>(input[0]), body);
    const auto* chain = std::get_if<Chain>(&first);
    if (!chain) return;
    check_extents(body, *chain, 0);
    auto bytes = serialize_payloads(chain->payloads);
    require(bytes.size() == chain->end, "a chain serializes to its own length");
    auto type = chain->payloads.empty() ? PayloadType::None : payload_type(chain->payloads.front());
    auto second = parse_payloads(type, bytes);
    const auto* again = std::get_if<Chain>(&second);
    require(again != nullptr, "a parsed chain does not parse after serialization");
    require(again->payloads == chain->payloads, "chain changed by a round trip");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::span<const uint8_t> input(data, size);
    check_message(input);
    check_payloads(input);
    return 0;
}
