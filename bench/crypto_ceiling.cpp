// The crypto ceiling: how fast one core can encrypt ESP packets with ipsec-mb, through
// mbox's EspEngine (session templates, argument checks, IV generation, completion
// bookkeeping) and through bare ipsec-mb jobs filled by hand (the library alone). The
// gap between the two is the engine's overhead; the bare number bounds what any
// gateway built on ipsec-mb can do per core on this machine.
//
//   build/bench/mbox-bench-crypto --seconds 1 --sizes 64,512,1420,imix
//
// Packet sizes are inner IP packet lengths (the ESP payload). Gbit/s counts those
// bytes. IMIX is the simple 7:4:1 mix of 40-, 576- and 1500-byte packets. cycles/packet
// = TSC cycles / packets; the TSC rate is measured against the steady clock.
#include <x86intrin.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "crypto/esp_engine.hpp"
#include "crypto/esp_session.hpp"
#include "crypto/hmac_pads.hpp"

using namespace mbox::crypto;

namespace {

constexpr size_t kBurst = 32;
constexpr size_t kPacketsInRing = 1024;  // distinct buffers cycled through (~1.5 MB at 1420 B)

struct Scenario {
    const char* name;
    EspAlgorithms algs;
};

const Scenario kScenarios[] = {
    {"AES-128-GCM-16", {EspCipher::Aes128Gcm16, EspIntegrity::None}},
    {"AES-128-CBC + HMAC-SHA1-96", {EspCipher::Aes128Cbc, EspIntegrity::HmacSha1_96}},
    {"AES-256-CBC + HMAC-SHA-256-128", {EspCipher::Aes256Cbc, EspIntegrity::HmacSha256_128}},
    {"3DES-CBC + HMAC-MD5-96", {EspCipher::TripleDesCbc, EspIntegrity::HmacMd5_96}},
};

std::vector<size_t> inner_sizes(const std::string& size) {
    if (size == "imix")
        return {40, 576, 40, 40, 576, 40, 1500, 40, 576, 40, 40, 576};  // 7:4:1
    return {std::stoul(size)};
}

struct Packet {
    std::vector<uint8_t> buf;
    uint32_t inner = 0;
    uint32_t iv_off = 8, cipher_off = 0, cipher_len = 0, icv_off = 0;
};

std::vector<Packet> make_packets(EspAlgorithms algs, const std::vector<size_t>& sizes, std::mt19937_64& rng) {
    const EspCipherInfo& ci = info(algs.cipher);
    std::vector<Packet> ring(kPacketsInRing);
    for (size_t i = 0; i < ring.size(); ++i) {
        Packet& p = ring[i];
        p.inner = static_cast<uint32_t>(sizes[i % sizes.size()]);
        const size_t unpadded = p.inner + 2;
        const size_t padded = unpadded + (ci.block_size - unpadded % ci.block_size) % ci.block_size;
        p.cipher_off = p.iv_off + ci.iv_len;
        p.cipher_len = static_cast<uint32_t>(padded);
        p.icv_off = p.cipher_off + p.cipher_len;
        p.buf.resize(p.icv_off + icv_len(algs));
        for (auto& b : p.buf)
            b = static_cast<uint8_t>(rng());
    }
    return ring;
}

struct Result {
    uint64_t packets = 0, bytes = 0, cycles = 0;
    double seconds = 0;
};

template <class Burst>
Result measure(double seconds, const std::vector<Packet>& ring, Burst&& burst) {
    Result r;
    const auto t0 = std::chrono::steady_clock::now();
    const uint64_t c0 = __rdtsc();
    const auto deadline = t0 + std::chrono::duration<double>(seconds);
    size_t next = 0;
    while (true) {
        for (int rep = 0; rep < 64; ++rep) {
            burst(next);
            for (size_t i = 0; i < kBurst; ++i)
                r.bytes += ring[(next + i) % ring.size()].inner;
            r.packets += kBurst;
            next = (next + kBurst) % ring.size();
        }
        if (std::chrono::steady_clock::now() >= deadline)
            break;
    }
    r.cycles = __rdtsc() - c0;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
}

// Bare ipsec-mb: keys expanded by hand, one job per packet, no checks beyond the
// library's own, flush at the end of every burst.
struct BareKeys {
    alignas(16) uint8_t enc[16 * 15], dec[16 * 15];
    alignas(64) gcm_key_data gcm;
    alignas(16) uint64_t des[3][16];
    const void* des_ptrs[3];
    alignas(16) uint8_t ipad[kHmacStateLen], opad[kHmacStateLen];
    uint8_t salt[4];
};

void expand(IMB_MGR* mgr, EspAlgorithms algs, const std::vector<uint8_t>& ck, const std::vector<uint8_t>& ik,
            BareKeys& k) {
    switch (algs.cipher) {
    case EspCipher::Aes128Cbc: IMB_AES_KEYEXP_128(mgr, ck.data(), k.enc, k.dec); break;
    case EspCipher::Aes256Cbc: IMB_AES_KEYEXP_256(mgr, ck.data(), k.enc, k.dec); break;
    case EspCipher::Aes128Gcm16: IMB_AES128_GCM_PRE(mgr, ck.data(), &k.gcm); std::memcpy(k.salt, ck.data() + 16, 4); break;
    case EspCipher::TripleDesCbc:
        for (int i = 0; i < 3; ++i) {
            IMB_DES_KEYSCHED(mgr, k.des[i], ck.data() + 8 * i);
            k.des_ptrs[i] = k.des[i];
        }
        break;
    default: break;
    }
    if (algs.integrity != EspIntegrity::None)
        compute_hmac_pads(*mgr, algs.integrity, ik, k.ipad, k.opad);
}

void print_row(const char* scenario, const std::string& size, const char* path, const Result& r, double tsc_ghz) {
    std::printf("| %-30s | %5s | %-8s | %7.3f | %8.2f | %8.0f |\n", scenario, size.c_str(), path,
                static_cast<double>(r.packets) / r.seconds / 1e6,
                static_cast<double>(r.bytes) * 8 / r.seconds / 1e9,
                static_cast<double>(r.cycles) / static_cast<double>(r.packets));
    (void)tsc_ghz;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"ESP crypto ceiling: ipsec-mb throughput on one core, through EspEngine and bare"};
    double seconds = 1.0;
    std::string sizes_arg = "64,512,1420,imix";
    app.add_option("--seconds", seconds, "measurement time per row")->capture_default_str();
    app.add_option("--sizes", sizes_arg, "inner packet sizes (bytes) and/or 'imix'")->capture_default_str();
    CLI11_PARSE(app, argc, argv);

    std::vector<std::string> sizes;
    for (size_t pos = 0; pos <= sizes_arg.size();) {
        const size_t comma = sizes_arg.find(',', pos);
        const size_t end = comma == std::string::npos ? sizes_arg.size() : comma;
        if (end > pos)
            sizes.push_back(sizes_arg.substr(pos, end - pos));
        pos = end + 1;
    }

    std::string error;
    auto engine = EspEngine::create(error);
    if (!engine) {
        std::fprintf(stderr, "%s\n", error.c_str());
        return 1;
    }
    IMB_MGR* bare = alloc_mb_mgr(0);
    init_mb_mgr_auto(bare, nullptr);

    // TSC rate, for the header only: cycles/packet is TSC cycles either way.
    const auto t0 = std::chrono::steady_clock::now();
    const uint64_t c0 = __rdtsc();
    while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(200)) {
    }
    const double tsc_ghz = static_cast<double>(__rdtsc() - c0) /
                           std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / 1e9;
    std::printf("ipsec-mb %s, manager %.*s, TSC %.2f GHz, %.1f s per row, bursts of %zu, encrypt\n\n",
                imb_get_version_str(), static_cast<int>(engine->arch_name().size()), engine->arch_name().data(),
                tsc_ghz, seconds, kBurst);
    std::printf("| %-30s | %5s | %-8s | %7s | %8s | %8s |\n", "algorithms", "bytes", "path", "Mpps", "Gbit/s",
                "cyc/pkt");
    std::printf("|%s|------:|----------|--------:|---------:|---------:|\n", std::string(32, '-').c_str());

    std::mt19937_64 rng(1);
    for (const Scenario& sc : kScenarios) {
        const EspCipherInfo& ci = info(sc.algs.cipher);
        std::vector<uint8_t> ck(ci.key_material_len()), ik(info(sc.algs.integrity).key_len);
        for (auto& b : ck)
            b = static_cast<uint8_t>(rng());
        for (auto& b : ik)
            b = static_cast<uint8_t>(rng());
        auto session = EspSession::create(sc.algs, ck, ik, error);
        if (!session) {
            std::fprintf(stderr, "%s: %s\n", sc.name, error.c_str());
            return 1;
        }
        auto keys = std::make_unique<BareKeys>();
        expand(bare, sc.algs, ck, ik, *keys);

        for (const std::string& size : sizes) {
            std::vector<Packet> ring = make_packets(sc.algs, inner_sizes(size), rng);
            uint64_t seq = 1;

            // --- through EspEngine -------------------------------------------------
            std::vector<EspCryptoOp> ops(kBurst);
            Result r = measure(seconds, ring, [&](size_t first) {
                for (size_t i = 0; i < kBurst; ++i) {
                    Packet& p = ring[(first + i) % ring.size()];
                    uint8_t* iv = p.buf.data() + p.iv_off;
                    if (ci.aead)
                        gcm_iv_from_sequence(seq++, std::span<uint8_t, 8>(iv, 8));
                    else if (!engine->ivs().fill(iv, ci.iv_len))
                        std::abort();
                    EspCryptoOp& op = ops[i];
                    op.session = session.get();
                    op.iv = iv;
                    op.cipher_start = p.buf.data() + p.cipher_off;
                    op.cipher_len = p.cipher_len;
                    op.icv = p.buf.data() + p.icv_off;
                    if (ci.aead) {
                        op.aad = p.buf.data();
                        op.aad_len = 8;
                    } else {
                        op.auth_start = p.buf.data();
                        op.auth_len = p.icv_off;
                    }
                }
                if (engine->encrypt(ops) != kBurst)
                    std::abort();
            });
            print_row(sc.name, size, "engine", r, tsc_ghz);

            // --- bare ipsec-mb jobs ----------------------------------------------
            alignas(16) uint8_t nonce[16] = {};
            std::memcpy(nonce, keys->salt, 4);
            r = measure(seconds, ring, [&](size_t first) {
                for (size_t i = 0; i < kBurst; ++i) {
                    Packet& p = ring[(first + i) % ring.size()];
                    IMB_JOB* job = IMB_GET_NEXT_JOB(bare);
                    job->cipher_direction = IMB_DIR_ENCRYPT;
                    job->chain_order = IMB_ORDER_CIPHER_HASH;
                    job->dst = p.buf.data() + p.cipher_off;
                    job->msg_len_to_cipher_in_bytes = p.cipher_len;
                    job->auth_tag_output = p.buf.data() + p.icv_off;
                    job->auth_tag_output_len_in_bytes = icv_len(sc.algs);
                    if (ci.aead) {
                        job->cipher_mode = IMB_CIPHER_GCM;
                        job->hash_alg = IMB_AUTH_AES_GMAC;
                        job->enc_keys = job->dec_keys = &keys->gcm;
                        job->key_len_in_bytes = 16;
                        job->src = p.buf.data() + p.cipher_off;
                        job->cipher_start_src_offset_in_bytes = 0;
                        job->hash_start_src_offset_in_bytes = 0;
                        job->msg_len_to_hash_in_bytes = p.cipher_len;
                        job->iv = nonce;  // a fixed nonce is fine for a speed test only
                        job->iv_len_in_bytes = 12;
                        job->u.GCM.aad = p.buf.data();
                        job->u.GCM.aad_len_in_bytes = 8;
                    } else {
                        const bool des = sc.algs.cipher == EspCipher::TripleDesCbc;
                        job->cipher_mode = des ? IMB_CIPHER_DES3 : IMB_CIPHER_CBC;
                        job->enc_keys = des ? static_cast<const void*>(keys->des_ptrs) : keys->enc;
                        job->dec_keys = des ? static_cast<const void*>(keys->des_ptrs) : keys->dec;
                        job->key_len_in_bytes = ci.key_len;
                        job->hash_alg = imb_hash_alg(sc.algs.integrity);
                        job->src = p.buf.data();
                        job->cipher_start_src_offset_in_bytes = p.cipher_off;
                        job->hash_start_src_offset_in_bytes = 0;
                        job->msg_len_to_hash_in_bytes = p.icv_off;
                        job->iv = p.buf.data() + p.iv_off;
                        job->iv_len_in_bytes = ci.iv_len;
                        job->u.HMAC._hashed_auth_key_xor_ipad = keys->ipad;
                        job->u.HMAC._hashed_auth_key_xor_opad = keys->opad;
                    }
                    IMB_JOB* done = IMB_SUBMIT_JOB(bare);
                    while (done != nullptr) {
                        if (done->status != IMB_STATUS_COMPLETED)
                            std::abort();
                        done = IMB_GET_COMPLETED_JOB(bare);
                    }
                }
                while (IMB_JOB* done = IMB_FLUSH_JOB(bare)) {
                    if (done->status != IMB_STATUS_COMPLETED)
                        std::abort();
                }
            });
            print_row(sc.name, size, "bare", r, tsc_ghz);
        }
    }
    free_mb_mgr(bare);
    return 0;
}
