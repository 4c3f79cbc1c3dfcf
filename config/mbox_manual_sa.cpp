// Manually keyed ESP tunnels in the mbox language: reading and writing the block.
#include "config/mbox_manual_sa.hpp"

#include <iterator>

#include <fmt/format.h>

#include "config/value_parsing.hpp"

namespace mbox::config {
namespace {

using namespace mbox_syntax;

constexpr std::string_view kLocalKeywords[] = {"ip"};
constexpr std::string_view kSpiKeywords[] = {"spi"};
constexpr std::string_view kEncKeyKeywords[] = {"enc-key"};
constexpr std::string_view kAuthKeyKeywords[] = {"auth-key"};

class ManualSaLine {
public:
    ManualSaLine(ManualSa& sa, Words& words, LineReader& reader) : sa_(sa), words_(words), reader_(reader) {}

    bool parse() {
        const std::string context{words_.consumed()};
        words_.begin_command();
        const std::string_view keyword = words_.next();
        if (is(keyword, "local")) {
            return reader_.expect_keyword(words_, kLocalKeywords) &&
                   set(sa_.local_ip, reader_.expect_address(words_, "local address"));
        }
        if (is(keyword, "peer")) return set(sa_.peer, reader_.expect_address(words_, "peer address"));
        if (is(keyword, "local-net")) return append(sa_.local_nets, reader_.expect_networks(words_, "local-net"));
        if (is(keyword, "remote-net")) return append(sa_.remote_nets, reader_.expect_networks(words_, "remote-net"));
        if (is(keyword, "esp")) return parse_esp();
        if (is(keyword, "inbound")) return set(sa_.inbound, parse_keys());
        if (is(keyword, "outbound")) return set(sa_.outbound, parse_keys());
        if (is(keyword, "udp-encap")) return parse_udp_encap();
        if (is(keyword, "replay-window")) {
            return set(sa_.replay_window, reader_.expect_value(words_, "replay-window", parse_replay_window));
        }
        if (is(keyword, "esn")) return set(sa_.esn, true);
        if (is(keyword, "df-bit")) return set(sa_.df_bit, reader_.expect_value(words_, "df-bit", parse_df_bit));
        return reader_.unknown_keyword(keyword, context, kManualSaKeywords);
    }

private:
    // esp ENC [HASH]: a CBC cipher needs the hash, GCM takes none.
    bool parse_esp() {
        const auto encryption = reader_.expect_value(words_, "encryption", parse_encryption_word);
        if (!encryption) return false;
        std::optional<Hash> hash;
        if (!is_aead(*encryption) || (!words_.at_end() && parse_hash(words_.peek()))) {
            hash = reader_.expect_value(words_, "hash", parse_hash_word);
            if (!hash) return false;
        }
        if (const auto problem = esp_transform_problem(*encryption, hash)) {
            reader_.error(*problem);
            return false;
        }
        sa_.encryption = *encryption;
        sa_.hash = hash;
        return true;
    }

    // spi SPI enc-key KEY [auth-key KEY]
    std::optional<ManualSaKeys> parse_keys() {
        ManualSaKeys keys;
        keys.where = reader_.here();
        if (!reader_.expect_keyword(words_, kSpiKeywords)) return std::nullopt;
        const auto spi = reader_.expect_value(words_, "SPI", parse_spi);
        if (!spi || !reader_.expect_keyword(words_, kEncKeyKeywords)) return std::nullopt;
        const auto enc_key = expect_key("enc-key");
        if (!enc_key) return std::nullopt;
        keys.spi = *spi;
        keys.enc_key = *enc_key;
        if (words_.at_end()) return keys;
        if (!reader_.expect_keyword(words_, kAuthKeyKeywords)) return std::nullopt;
        const auto auth_key = expect_key("auth-key");
        if (!auth_key) return std::nullopt;
        keys.auth_key = *auth_key;
        return keys;
    }

    std::optional<std::vector<uint8_t>> expect_key(std::string_view what) {
        return reader_.expect_value(words_, "key (hex)", [&](std::string_view text) { return parse_key(text, what); });
    }

    // udp-encap SPORT DPORT
    bool parse_udp_encap() {
        const auto source = reader_.expect_number(words_, "UDP source port", kUdpPortRange);
        const auto destination = source ? reader_.expect_number(words_, "UDP destination port", kUdpPortRange)
                                        : std::nullopt;
        if (!destination) return false;
        sa_.udp_encap = UdpEncap{static_cast<uint16_t>(*source), static_cast<uint16_t>(*destination)};
        return true;
    }

    ManualSa& sa_;
    Words& words_;
    LineReader& reader_;
};

std::string hex(const std::vector<uint8_t>& bytes) {
    std::string text = "0x";
    for (const uint8_t byte : bytes) fmt::format_to(std::back_inserter(text), "{:02x}", byte);
    return text;
}

void emit_keys(std::string& out, std::string_view direction, const ManualSaKeys& keys, EmitOptions options) {
    const auto shown = [&](const std::vector<uint8_t>& key) { return options.redact_secrets ? "********" : hex(key); };
    fmt::format_to(std::back_inserter(out), " {} spi 0x{:x} enc-key {}", direction, keys.spi, shown(keys.enc_key));
    if (!keys.auth_key.empty()) fmt::format_to(std::back_inserter(out), " auth-key {}", shown(keys.auth_key));
    out += '\n';
}

}  // namespace

bool parse_manual_sa_sub_command(ManualSa& sa, Words& words, LineReader& reader) {
    return ManualSaLine(sa, words, reader).parse();
}

void emit_manual_sa(std::string& text, const ManualSa& sa, EmitOptions options) {
    const auto out = std::back_inserter(text);
    fmt::format_to(out, "ipsec manual-sa {}\n", sa.name);
    if (sa.local_ip) fmt::format_to(out, " local ip {}\n", sa.local_ip->to_string());
    if (sa.peer) fmt::format_to(out, " peer {}\n", sa.peer->to_string());
    if (!sa.local_nets.empty()) fmt::format_to(out, " local-net {}\n", network_list(sa.local_nets));
    if (!sa.remote_nets.empty()) fmt::format_to(out, " remote-net {}\n", network_list(sa.remote_nets));
    if (sa.encryption) {
        fmt::format_to(out, " esp {}", to_string(*sa.encryption));
        if (sa.hash) fmt::format_to(out, " {}", to_string(*sa.hash));
        text += '\n';
    }
    if (sa.inbound) emit_keys(text, "inbound", *sa.inbound, options);
    if (sa.outbound) emit_keys(text, "outbound", *sa.outbound, options);
    if (sa.udp_encap) {
        fmt::format_to(out, " udp-encap {} {}\n", sa.udp_encap->source_port, sa.udp_encap->destination_port);
    }
    fmt::format_to(out, " replay-window {}\n", sa.replay_window);
    if (sa.esn) text += " esn\n";
    if (sa.df_bit != DfBit::Copy) text += fmt::format(" df-bit {}\n", to_string(sa.df_bit));
    text += "!\n";
}

}  // namespace mbox::config
