// What the IKE crypto tests share: secrets as plain bytes to compare, concatenation as
// the RFCs write it (a | b | c), and the prf named as the vector files and the OpenSSL
// oracle name its hash ("sha256").
#pragma once

#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <vector>

#include "crypto/ike_prf.hpp"
#include "crypto/secret.hpp"

namespace mbox::crypto::test {

inline std::vector<uint8_t> bytes_of(const SecretBytes& s) { return {s.data(), s.data() + s.size()}; }

inline std::vector<uint8_t> cat(std::initializer_list<std::vector<uint8_t>> parts) {
    std::vector<uint8_t> out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

inline IkePrf prf_for(const std::string& hash) {
    if (hash == "md5") return IkePrf::HmacMd5;
    if (hash == "sha1") return IkePrf::HmacSha1;
    if (hash == "sha256") return IkePrf::HmacSha256;
    if (hash == "sha512") return IkePrf::HmacSha512;
    throw std::runtime_error("no IKE prf for " + hash);
}

inline const char* hash_name(IkePrf prf) {
    switch (prf) {
    case IkePrf::HmacMd5: return "md5";
    case IkePrf::HmacSha1: return "sha1";
    case IkePrf::HmacSha256: return "sha256";
    case IkePrf::HmacSha512: return "sha512";
    }
    return "";
}

}  // namespace mbox::crypto::test
