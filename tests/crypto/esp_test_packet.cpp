#include "esp_test_packet.hpp"

#include <cstring>
#include <stdexcept>

namespace mbox::crypto::test {

std::vector<EspAlgorithms> all_algorithm_combinations() {
    std::vector<EspAlgorithms> out;
    for (EspCipher c : {EspCipher::Null, EspCipher::TripleDesCbc, EspCipher::Aes128Cbc, EspCipher::Aes192Cbc,
                        EspCipher::Aes256Cbc}) {
        for (EspIntegrity i : {EspIntegrity::HmacMd5_96, EspIntegrity::HmacMd5_128, EspIntegrity::HmacSha1_96,
                               EspIntegrity::HmacSha256_128, EspIntegrity::HmacSha512_256})
            out.push_back({c, i});
    }
    out.push_back({EspCipher::Aes128Gcm16, EspIntegrity::None});
    out.push_back({EspCipher::Aes256Gcm16, EspIntegrity::None});
    return out;
}

std::string describe(EspAlgorithms algs, bool esn) {
    std::string s(name(algs.cipher));
    if (algs.integrity != EspIntegrity::None)
        s += "+" + std::string(name(algs.integrity));
    if (esn)
        s += "+ESN";
    return s;
}

Bytes random_bytes(std::mt19937_64& rng, size_t n) {
    Bytes b(n);
    for (auto& x : b)
        x = static_cast<uint8_t>(rng());
    return b;
}

TestSa TestSa::make(EspAlgorithms algs, bool esn, uint32_t spi, std::mt19937_64& rng) {
    TestSa sa;
    sa.algs = algs;
    sa.esn = esn;
    sa.spi = spi;
    sa.cipher_key = random_bytes(rng, info(algs.cipher).key_material_len());
    sa.integrity_key = random_bytes(rng, info(algs.integrity).key_len);
    std::string error;
    sa.session = EspSession::create(algs, sa.cipher_key, sa.integrity_key, error);
    if (!sa.session)
        throw std::runtime_error("EspSession::create(" + describe(algs, esn) + "): " + error);
    return sa;
}

namespace {

void put32(uint8_t* p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v >> 24);
    p[1] = static_cast<uint8_t>(v >> 16);
    p[2] = static_cast<uint8_t>(v >> 8);
    p[3] = static_cast<uint8_t>(v);
}

// Bytes the HMAC covers: ESP header .. end of trailer, then seq_hi with ESN.
Bytes hmac_input(const TestSa& sa, const Bytes& buf, const TestPacket& p) {
    Bytes in(buf.begin() + static_cast<long>(p.esp), buf.begin() + static_cast<long>(p.trailer_end));
    if (sa.esn) {
        uint8_t hi[4];
        store_seq_hi(hi, p.seq);
        in.insert(in.end(), hi, hi + 4);
    }
    return in;
}

}  // namespace

TestPacket build_packet(const TestSa& sa, uint64_t seq, std::span<const uint8_t> iv, std::span<const uint8_t> inner) {
    const EspCipherInfo& ci = info(sa.algs.cipher);
    if (iv.size() != ci.iv_len)
        throw std::runtime_error("IV length does not fit the cipher");
    TestPacket p;
    p.seq = seq;
    p.icv_len = icv_len(sa.algs);

    // RFC 4303 §2.4: payload || padding || pad length || next header fills whole blocks.
    const size_t block = ci.block_size;
    const size_t unpadded = inner.size() + 2;
    const size_t pad = (block - unpadded % block) % block;
    p.clear.assign(inner.begin(), inner.end());
    for (size_t i = 1; i <= pad; ++i)
        p.clear.push_back(static_cast<uint8_t>(i));
    p.clear.push_back(static_cast<uint8_t>(pad));
    p.clear.push_back(4);  // next header: IPv4 (tunnel mode)

    p.iv_off = p.esp + 8;
    p.cipher_off = p.iv_off + ci.iv_len;
    p.trailer_end = p.cipher_off + p.clear.size();
    p.cipher_len = sa.algs.cipher == EspCipher::Null ? 0 : p.clear.size();
    p.icv_off = p.trailer_end;
    p.buf.assign(p.icv_off + p.icv_len + TestPacket::kGuard, 0xA5);
    put32(p.at(p.esp), sa.spi);
    put32(p.at(p.esp + 4), static_cast<uint32_t>(seq));
    if (!iv.empty())
        std::memcpy(p.at(p.iv_off), iv.data(), iv.size());
    std::memcpy(p.at(p.cipher_off), p.clear.data(), p.clear.size());
    std::memset(p.at(p.icv_off), 0, p.icv_len);
    return p;
}

Bytes expected_encrypted(const TestSa& sa, const TestPacket& p) {
    Bytes out = p.buf;
    const EspCipherInfo& ci = info(sa.algs.cipher);
    if (ci.aead) {
        Bytes key(sa.cipher_key.begin(), sa.cipher_key.begin() + ci.key_len);
        Bytes nonce(sa.cipher_key.begin() + ci.key_len, sa.cipher_key.end());
        nonce.insert(nonce.end(), p.buf.begin() + static_cast<long>(p.iv_off),
                     p.buf.begin() + static_cast<long>(p.iv_off + ci.iv_len));
        std::array<uint8_t, 12> aad{};
        const uint32_t aad_len = make_gcm_aad(aad, sa.spi, p.seq, sa.esn);
        GcmOutput g = openssl_gcm_encrypt(key, nonce, std::span(aad.data(), aad_len), p.clear);
        std::memcpy(out.data() + p.cipher_off, g.ciphertext.data(), g.ciphertext.size());
        std::memcpy(out.data() + p.icv_off, g.tag.data(), p.icv_len);
        return out;
    }
    if (sa.algs.cipher != EspCipher::Null) {
        Bytes iv(p.buf.begin() + static_cast<long>(p.iv_off), p.buf.begin() + static_cast<long>(p.cipher_off));
        Bytes ct = openssl_cbc(cbc_name(sa.algs.cipher), sa.cipher_key, iv, p.clear, true);
        std::memcpy(out.data() + p.cipher_off, ct.data(), ct.size());
    }
    Bytes mac = openssl_hmac(hash_name(sa.algs.integrity), sa.integrity_key, hmac_input(sa, out, p));
    std::memcpy(out.data() + p.icv_off, mac.data(), p.icv_len);
    return out;
}

EspCryptoOp encrypt_op(const TestSa& sa, TestPacket& p) {
    EspCryptoOp op;
    op.session = sa.session.get();
    op.iv = p.at(p.iv_off);
    op.cipher_start = p.at(p.cipher_off);
    op.cipher_len = static_cast<uint32_t>(p.cipher_len);
    op.icv = p.at(p.icv_off);
    if (info(sa.algs.cipher).aead) {
        if (sa.esn) {
            op.aad_len = make_gcm_aad(p.aad, sa.spi, p.seq, true);
            op.aad = p.aad.data();
        } else {
            op.aad = p.at(p.esp);  // SPI || seq as sent: no copy
            op.aad_len = 8;
        }
        return op;
    }
    op.auth_start = p.at(p.esp);
    op.auth_len = static_cast<uint32_t>(p.trailer_end - p.esp);
    if (sa.esn) {
        store_seq_hi(p.at(p.icv_off), p.seq);
        op.auth_len += 4;
    }
    return op;
}

EspCryptoOp decrypt_op(const TestSa& sa, TestPacket& p) {
    EspCryptoOp op;
    op.session = sa.session.get();
    op.iv = p.at(p.iv_off);
    op.cipher_start = p.at(p.cipher_off);
    op.cipher_len = static_cast<uint32_t>(p.cipher_len);
    op.icv = p.at(p.icv_off);
    // The receiver knows seq_hi only from its replay window; the low half is in the packet.
    const uint32_t seq_lo = static_cast<uint32_t>(p.at(p.esp + 4)[0]) << 24 | p.at(p.esp + 4)[1] << 16 |
                            p.at(p.esp + 4)[2] << 8 | p.at(p.esp + 4)[3];
    const uint64_t seq = (p.seq & 0xffffffff00000000ull) | seq_lo;
    if (info(sa.algs.cipher).aead) {
        if (sa.esn) {
            const uint32_t spi = static_cast<uint32_t>(p.at(p.esp)[0]) << 24 | p.at(p.esp)[1] << 16 |
                                 p.at(p.esp)[2] << 8 | p.at(p.esp)[3];
            op.aad_len = make_gcm_aad(p.aad, spi, seq, true);
            op.aad = p.aad.data();
        } else {
            op.aad = p.at(p.esp);
            op.aad_len = 8;
        }
        return op;
    }
    op.auth_start = p.at(p.esp);
    op.auth_len = static_cast<uint32_t>(p.trailer_end - p.esp);
    if (sa.esn) {
        std::memcpy(p.received_icv.data(), p.at(p.icv_off), p.icv_len);
        op.icv = p.received_icv.data();
        store_seq_hi(p.at(p.icv_off), seq);
        op.auth_len += 4;
    }
    return op;
}

}  // namespace mbox::crypto::test
