// The YAML form of the configuration (yaml-cpp): reader and emitter.
//
// yaml-cpp reports problems by throwing; the reader never lets that escape. It looks
// at each node's type before touching its value and turns every surprise into a
// diagnostic with the line and the key path ("ipsec.peers.203.0.113.2.ike-policy").
#include "config/yaml_form.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <tuple>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include "config/first_occurrence.hpp"
#include "config/value_parsing.hpp"

namespace mbox::config {
namespace {

using Keys = std::initializer_list<std::string_view>;

// A node with where it sits, for diagnostics.
struct Field {
    YAML::Node node;
    std::string path;  // "interfaces.eth0.mtu", "routes[0]"
    int line = 0;      // 1-based: the key's line for a map entry, the element's for a list element
};

std::string describe(const YAML::Node& node) {
    if (node.IsMap()) return "a map";
    if (node.IsSequence()) return "a list";
    if (node.IsScalar()) return fmt::format("'{}'", node.Scalar());
    return "nothing";
}

// The line of a "---" that starts a second document, or 0. A "---" before any content
// only marks the start of the first.
int second_document_line(std::string_view text) {
    bool content_seen = false;
    for (int line = 1; !text.empty(); ++line) {
        const size_t newline = text.find('\n');
        const std::string_view current = text.substr(0, newline);
        text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
        const bool marker = current.starts_with("---") && (current.size() == 3 || current[3] == ' ' ||
                                                           current[3] == '\t' || current[3] == '\r');
        if (marker && content_seen) return line;
        const size_t first = current.find_first_not_of(" \t\r");
        content_seen = content_seen || marker || (first != std::string_view::npos && current[first] != '#');
    }
    return 0;
}

int line_of(const YAML::Node& node, int fallback) {
    const YAML::Mark mark = node.Mark();
    return mark.is_null() || node.IsNull() ? fallback : mark.line + 1;
}

class YamlReader {
public:
    explicit YamlReader(std::string_view file)
        : file_(file), directory_(std::filesystem::path(file).parent_path()) {}

    ParseResult read(std::string_view text) {
        try {
            // YAML::Load reads the first document only. (Not LoadAll: yaml-cpp 0.7 loops
            // forever on some malformed input there, e.g. ",x: 1".)
            read_document(Field{YAML::Load(std::string(text)), "", 1});
            if (const int second = second_document_line(text)) {
                error(second, "", "more than one YAML document (a configuration is one document)");
            }
        } catch (const YAML::Exception& problem) {
            const int line = problem.mark.is_null() ? 0 : problem.mark.line + 1;
            error(line, "", fmt::format("YAML syntax error: {}", problem.msg));
        }
        std::ranges::stable_sort(config_.snat_rules, {}, &SnatRule::rule);
        return {std::move(config_), std::move(diagnostics_)};
    }

private:
    // An on_entry for for_each_entry that hands each entry to a member reader. (Defined
    // ahead of its callers: they need its deduced return type.)
    auto entries_by(void (YamlReader::*read)(const std::string&, const Field&)) {
        return [this, read](const std::string& key, const Field& value) { (this->*read)(key, value); };
    }

    // ---- document structure ----

    void read_document(const Field& root) {
        for_each_entry(root, [&](const std::string& key, const Field& value) {
            if (key == "interfaces") return for_each_entry(value, entries_by(&YamlReader::read_interface));
            if (key == "routes") return for_each_element(value, [&](const Field& f) { read_route(f); });
            if (key == "ipsec") return read_ipsec(value);
            if (key == "firewall") return read_firewall(value);
            unknown_key(key, value, {"interfaces", "routes", "ipsec", "firewall"});
        });
    }

    void read_ipsec(const Field& ipsec) {
        for_each_entry(ipsec, [&](const std::string& key, const Field& value) {
            if (key == "enabled") {
                config_.ipsec_enabled_where = where(value);
                return set(config_.ipsec_enabled, read_bool(value));
            }
            if (key == "stopped-traffic") {
                return set(config_.ipsec_stopped_traffic,
                           read_parsed(value, "stopped-traffic action", parse_stopped_traffic_word));
            }
            if (key == "ike-policies") return for_each_entry(value, entries_by(&YamlReader::read_ike_policy));
            if (key == "esp-policies") return for_each_entry(value, entries_by(&YamlReader::read_esp_policy));
            if (key == "peers") return for_each_entry(value, entries_by(&YamlReader::read_peer));
            if (key == "manual-sas") return for_each_entry(value, entries_by(&YamlReader::read_manual_sa));
            if (key == "pki") return read_pki(value);
            unknown_key(key, value,
                        {"enabled", "stopped-traffic", "ike-policies", "esp-policies", "pki", "peers", "manual-sas"});
        });
    }

    void read_firewall(const Field& firewall) {
        for_each_entry(firewall, [&](const std::string& key, const Field& value) {
            if (key == "snat") return for_each_element(value, [&](const Field& f) { read_snat_rule(f); });
            if (key == "nat") return read_nat_settings(value);
            unknown_key(key, value, {"snat", "nat"});
        });
    }

    // ---- objects ----

    void read_interface(const std::string& name, const Field& field) {
        if (!check_word(name, field, "interface name")) return;
        if (const SourceLocation* first = interface_names_.find_or_add(name, where(field))) {
            return already_defined(field, fmt::format("interface {}", name), *first);
        }
        Interface interface;
        interface.name = name;
        interface.where = where(field);
        for_each_entry(field, [&](const std::string& key, const Field& value) {
            if (key == "dpdk-device") return set(interface.dpdk_device, read_word(value, "DPDK device"));
            if (key == "addresses") return set(interface.addresses, read_list(value, [&](const Field& f) {
                return read_parsed(f, "address/length", parse_prefix);
            }));
            if (key == "mtu") return set(interface.mtu, read_number(value, "MTU", kMtuRange));
            if (key == "enabled") return set(interface.enabled, read_bool(value));
            if (key == "description") return set(interface.description, read_text(value, "description"));
            if (key == "default-gateway") {
                return set(interface.default_gateway, read_parsed(value, "address", parse_address));
            }
            unknown_key(key, value, {"dpdk-device", "addresses", "mtu", "enabled", "description", "default-gateway"});
        });
        config_.interfaces.push_back(std::move(interface));
    }

    void read_route(const Field& field) {
        Route route;
        route.where = where(field);
        bool has_prefix = false;
        bool has_nexthop = false;
        for_each_entry(field, [&](const std::string& key, const Field& value) {
            if (key == "prefix") return set(route.prefix, read_network(value, "route"), has_prefix);
            if (key == "nexthop") return set(route.nexthop, read_parsed(value, "address", parse_address), has_nexthop);
            unknown_key(key, value, {"prefix", "nexthop"});
        });
        if (check_required(field, {{"prefix", has_prefix}, {"nexthop", has_nexthop}})) config_.routes.push_back(route);
    }

    void read_ike_policy(const std::string& key, const Field& field) {
        const auto id = parse_number(key, "ike-policy number", kPolicyNumberRange);
        if (!id) return error(field, id.error());
        if (const auto existing = config_.ike_policies.find(*id); existing != config_.ike_policies.end()) {
            return already_defined(field, fmt::format("ike-policy {}", *id), existing->second.where);
        }
        IkePolicy& policy = config_.ike_policies[*id];
        policy.id = *id;
        policy.where = where(field);
        for_each_entry(field, [&](const std::string& name, const Field& value) {
            if (name == "authentication") {
                return set(policy.authentication, read_parsed(value, "authentication", parse_authentication_word));
            }
            if (name == "encryption") {
                return set(policy.encryption, read_parsed(value, "encryption", parse_ike_encryption_word));
            }
            if (name == "hash") return set(policy.hash, read_hash(value));
            if (name == "dh-group") return set(policy.dh_group, read_dh_group(value, "DH group"));
            if (name == "keylife") return set(policy.keylife, read_number(value, "keylife", kKeylifeRange));
            if (name == "version") return set(policy.version, read_parsed(value, "IKE version", parse_ike_version));
            unknown_key(name, value, {"authentication", "encryption", "hash", "dh-group", "keylife", "version"});
        });
    }

    void read_esp_policy(const std::string& key, const Field& field) {
        const auto id = parse_number(key, "esp-policy number", kPolicyNumberRange);
        if (!id) return error(field, id.error());
        if (const auto existing = config_.esp_policies.find(*id); existing != config_.esp_policies.end()) {
            return already_defined(field, fmt::format("esp-policy {}", *id), existing->second.where);
        }
        EspPolicy& policy = config_.esp_policies[*id];
        policy.id = *id;
        policy.where = where(field);
        std::optional<Field> hash_field;
        for_each_entry(field, [&](const std::string& name, const Field& value) {
            if (name == "encryption") return set(policy.encryption, read_encryption(value));
            if (name == "hash") {
                hash_field = value;
                return set(policy.hash, read_hash(value));
            }
            if (name == "pfs-group") return set(policy.pfs_group, read_dh_group(value, "PFS group"));
            if (name == "keylife") return set(policy.keylife, read_number(value, "keylife", kKeylifeRange));
            unknown_key(name, value, {"encryption", "hash", "pfs-group", "keylife"});
        });
        // The hash defaults to SHA for a CBC cipher; GCM takes none.
        if (is_aead(policy.encryption)) {
            if (hash_field) error(*hash_field, *esp_transform_problem(policy.encryption, Hash::Sha1));
            policy.hash.reset();
        }
    }

    // A peer's key is its address, or "any remote-id ID" for a responder-only peer
    // known by its identity (as the mbox header writes it); "any" alone is an `any`
    // peer whose remote-id, if any, is inside.
    void read_peer(const std::string& key, const Field& field) {
        static constexpr std::string_view kAnyRemoteId = "any remote-id ";
        Peer peer;
        peer.where = where(field);
        if (key.starts_with(kAnyRemoteId)) {
            peer.remote_id = key.substr(kAnyRemoteId.size());
            const auto identity = check_identity(peer.remote_id, field);
            if (!identity) return;
        } else if (key != "any") {
            const auto address = parse_address(key);
            if (!address) {
                return error(field, fmt::format("{} (or 'any remote-id ID' for a peer from any address)",
                                                address.error()));
            }
            if (const SourceLocation* first = peer_addresses_.find_or_add(address->value, where(field))) {
                return already_defined(field, fmt::format("peer {}", key), *first);
            }
            peer.address = *address;
        }
        const bool remote_id_in_key = !peer.remote_id.empty();
        for_each_entry(field, [&](const std::string& name, const Field& value) {
            if (name == "remote-id" && remote_id_in_key) {
                return error(value, fmt::format("the remote-id is given by the key '{}'", key));
            }
            read_peer_entry(peer, name, value);
        });
        if (!peer.psk.empty() && !peer.psk_file.empty()) return error(field, "give psk or psk-file, not both");
        if (!peer.psk_file.empty()) peer.psk = read_secret_file(peer.psk_file, "psk-file", field);
        config_.peers.push_back(std::move(peer));
    }

    void read_peer_entry(Peer& peer, const std::string& key, const Field& value) {
        if (key == "local-ip") return set(peer.local_ip, read_parsed(value, "address", parse_address));
        if (key == "nated") return set(peer.nated, read_bool(value));
        if (key == "local-id") return set(peer.local_id, read_identity(value));
        if (key == "local-nets") return set(peer.local_nets, read_networks(value, "local-net"));
        if (key == "remote-id") return set(peer.remote_id, read_identity(value));
        if (key == "remote-ip") return set(peer.remote_ip_any, read_remote_ip(value));
        if (key == "remote-nets") return set(peer.remote_nets, read_networks(value, "remote-net"));
        if (key == "ike-policy") return set(peer.ike_policy, read_policy_number(value, "ike-policy number"));
        if (key == "esp-policy") return set(peer.esp_policy, read_policy_number(value, "esp-policy number"));
        if (key == "psk") return set(peer.psk, read_text(value, "pre-shared key"));
        if (key == "psk-file") return set(peer.psk_file, read_text(value, "file name"));
        if (key == "mode") return set(peer.mode, read_parsed(value, "mode", parse_ike_mode_word));
        if (key == "dpd") return set(peer.dpd, read_parsed(value, "dpd interval", parse_dpd));
        unknown_key(key, value, {"local-ip", "nated", "local-id", "local-nets", "remote-id", "remote-ip", "remote-nets",
                                 "ike-policy", "esp-policy", "mode", "dpd", "psk", "psk-file"});
    }

    // An identity is one line of text; empty text is an error rather than "none".
    // (What kind of identity it is, and whether it is well formed, validation says.)
    std::optional<std::string> read_identity(const Field& field) {
        auto text = read_text(field, "identity");
        if (text && !check_identity(*text, field)) return std::nullopt;
        return text;
    }

    bool check_identity(const std::string& text, const Field& field) {
        if (!text.empty()) return true;
        error(field, "empty identity");
        return false;
    }

    // pki: {ca-certs: [FILE, ...], local-cert: FILE, local-key: FILE}
    void read_pki(const Field& field) {
        Pki& pki = config_.pki;
        pki.where = where(field);
        const auto file = [&](const Field& value) -> std::optional<PkiFile> {
            const auto name = read_text(value, "file name");
            if (!name) return std::nullopt;
            if (name->empty()) {
                error(value, "empty file name");
                return std::nullopt;
            }
            return PkiFile{*name, where(value)};
        };
        for_each_entry(field, [&](const std::string& key, const Field& value) {
            if (key == "ca-certs") return set(pki.ca_certs, read_list(value, file));
            if (key == "local-cert") return set(pki.local_cert, file(value));
            if (key == "local-key") return set(pki.local_key, file(value));
            unknown_key(key, value, {"ca-certs", "local-cert", "local-key"});
        });
    }

    // ---- manual SAs ----

    void read_manual_sa(const std::string& name, const Field& field) {
        if (!check_word(name, field, "manual-sa name")) return;
        if (const SourceLocation* first = manual_sa_names_.find_or_add(name, where(field))) {
            return already_defined(field, fmt::format("manual-sa {}", name), *first);
        }
        ManualSa sa;
        sa.name = name;
        sa.where = where(field);
        std::optional<Field> hash_field;
        for_each_entry(field, [&](const std::string& key, const Field& value) {
            if (key == "hash") hash_field = value;
            read_manual_sa_entry(sa, key, value);
        });
        // Reported at the hash when there is one too many, at the SA when one is missing.
        if (sa.encryption) {
            if (const auto problem = esp_transform_problem(*sa.encryption, sa.hash)) {
                error(hash_field && sa.hash ? *hash_field : field, *problem);
            }
        }
        config_.manual_sas.push_back(std::move(sa));
    }

    void read_manual_sa_entry(ManualSa& sa, const std::string& key, const Field& value) {
        if (key == "local-ip") return set(sa.local_ip, read_parsed(value, "address", parse_address));
        if (key == "peer") return set(sa.peer, read_parsed(value, "address", parse_address));
        if (key == "local-nets") return set(sa.local_nets, read_networks(value, "local-net"));
        if (key == "remote-nets") return set(sa.remote_nets, read_networks(value, "remote-net"));
        if (key == "encryption") return set(sa.encryption, read_encryption(value));
        if (key == "hash") return set(sa.hash, read_hash(value));
        if (key == "inbound") return set(sa.inbound, read_manual_sa_keys(value));
        if (key == "outbound") return set(sa.outbound, read_manual_sa_keys(value));
        if (key == "udp-encap") return set(sa.udp_encap, read_udp_encap(value));
        if (key == "replay-window") {
            return set(sa.replay_window, read_parsed(value, "replay-window", parse_replay_window));
        }
        if (key == "esn") return set(sa.esn, read_bool(value));
        if (key == "df-bit") return set(sa.df_bit, read_parsed(value, "df-bit", parse_df_bit));
        unknown_key(key, value, {"local-ip", "peer", "local-nets", "remote-nets", "encryption", "hash", "inbound",
                                 "outbound", "udp-encap", "replay-window", "esn", "df-bit"});
    }

    // {spi, enc-key | enc-key-file, auth-key | auth-key-file}
    std::optional<ManualSaKeys> read_manual_sa_keys(const Field& field) {
        ManualSaKeys keys;
        keys.where = where(field);
        std::set<std::string> given;
        bool all_read = true;
        const auto read_key = [&](std::vector<uint8_t>& key, const Field& value, std::string_view what) {
            const auto bytes = read_parsed(value, what, [&](std::string_view text) { return parse_key(text, what); });
            all_read = set_if(key, bytes) && all_read;
        };
        for_each_entry(field, [&](const std::string& key, const Field& value) {
            given.insert(key);
            if (key == "spi") {
                all_read = set_if(keys.spi, read_parsed(value, "SPI", parse_spi)) && all_read;
                return;
            }
            if (key == "enc-key") return read_key(keys.enc_key, value, "enc-key");
            if (key == "auth-key") return read_key(keys.auth_key, value, "auth-key");
            if (key == "enc-key-file") return set(keys.enc_key_file, read_text(value, "file name"));
            if (key == "auth-key-file") return set(keys.auth_key_file, read_text(value, "file name"));
            all_read = false;
            unknown_key(key, value, {"spi", "enc-key", "enc-key-file", "auth-key", "auth-key-file"});
        });
        const bool has_enc_key = given.contains("enc-key") || given.contains("enc-key-file");
        if (!check_required(field, {{"spi", given.contains("spi")}, {"enc-key", has_enc_key}})) return std::nullopt;
        for (const std::string_view what : {"enc-key", "auth-key"}) {
            const std::string file_key = fmt::format("{}-file", what);
            if (given.contains(std::string(what)) && given.contains(file_key)) {
                error(field, fmt::format("give {} or {}, not both", what, file_key));
                return std::nullopt;
            }
        }
        all_read = read_key_file(keys.enc_key, keys.enc_key_file, "enc-key", field) && all_read;
        all_read = read_key_file(keys.auth_key, keys.auth_key_file, "auth-key", field) && all_read;
        if (!all_read) return std::nullopt;
        return keys;
    }

    // A key kept apart: hex in a file, blanks and line breaks ignored (`xxd -p` wraps).
    bool read_key_file(std::vector<uint8_t>& key, const std::string& name, std::string_view what, const Field& field) {
        if (name.empty()) return true;
        const std::string file_key = fmt::format("{}-file", what);
        std::string text = read_secret_file(name, file_key, field, /*one_line=*/false);
        if (text.empty()) return false;  // reported by read_secret_file
        std::erase_if(text, [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
        const std::string path = resolve(name).string();
        if (text.empty()) {
            error(field, fmt::format("{} '{}' is empty", file_key, path));
            return false;
        }
        const auto bytes = parse_key(text, fmt::format("{} in {} '{}'", what, file_key, path));
        if (!bytes) {
            error(field, bytes.error());
            return false;
        }
        key = *bytes;
        return true;
    }

    std::optional<UdpEncap> read_udp_encap(const Field& field) {
        UdpEncap encap;
        bool has_source = false;
        bool has_destination = false;
        for_each_entry(field, [&](const std::string& key, const Field& value) {
            if (key == "source-port") {
                return set(encap.source_port, read_number(value, "UDP source port", kUdpPortRange), has_source);
            }
            if (key == "destination-port") {
                return set(encap.destination_port, read_number(value, "UDP destination port", kUdpPortRange),
                           has_destination);
            }
            unknown_key(key, value, {"source-port", "destination-port"});
        });
        if (!check_required(field, {{"source-port", has_source}, {"destination-port", has_destination}})) {
            return std::nullopt;
        }
        return encap;
    }

    // ---- secrets kept in files ----

    // A relative name is relative to the YAML file's directory.
    std::filesystem::path resolve(const std::string& name) const {
        const std::filesystem::path written(name);
        return written.is_absolute() ? written : directory_ / written;
    }

    // The secret lives apart from the configuration. A final newline is not part of
    // it; `one_line` secrets (a psk) may not hold another.
    std::string read_secret_file(const std::string& name, std::string_view kind, const Field& field,
                                 bool one_line = true) {
        const std::filesystem::path path = resolve(name);
        std::ifstream in(path, std::ios::binary);
        std::ostringstream content;
        if (in) content << in.rdbuf();
        std::string secret = content.str();
        while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
        if (!in || in.bad() || std::filesystem::is_directory(path)) {
            error(field, fmt::format("cannot read {} '{}'", kind, path.string()));
            secret.clear();
        } else if (secret.empty()) {
            error(field, fmt::format("{} '{}' is empty", kind, path.string()));
        } else if (one_line && secret.find_first_of("\r\n") != std::string::npos) {
            error(field, fmt::format("{} '{}' holds more than one line", kind, path.string()));
        }
        return secret;
    }

    void read_snat_rule(const Field& field) {
        SnatRule rule;
        rule.where = where(field);
        bool has_rule = false;
        bool has_action = false;
        bool has_interface = false;
        for_each_entry(field, [&](const std::string& key, const Field& value) {
            if (key == "rule") return set(rule.rule, read_number(value, "rule number", kSnatRuleNumberRange), has_rule);
            if (key == "action") {
                return set(rule.action, read_parsed(value, "action", parse_snat_action_word), has_action);
            }
            if (key == "interface") return set(rule.interface, read_word(value, "interface name"), has_interface);
            if (key == "protocol") return set(rule.protocol, read_parsed(value, "protocol", parse_protocol_word));
            if (key == "src") return set(rule.src, read_networks(value, "firewall-snat src"));
            if (key == "dst") return set(rule.dst, read_networks(value, "firewall-snat dst"));
            if (key == "xsrc") return set(rule.xsrc, read_parsed(value, "address range", parse_address_range));
            if (key == "remark") return set(rule.remark, read_text(value, "remark"));
            unknown_key(key, value, {"rule", "action", "interface", "protocol", "src", "dst", "xsrc", "remark"});
        });
        if (!check_required(field, {{"rule", has_rule}, {"action", has_action}, {"interface", has_interface}})) return;
        if (const SourceLocation* first = snat_rule_numbers_.find_or_add(rule.rule, rule.where)) {
            return already_defined(field, fmt::format("firewall-snat rule {}", rule.rule), *first);
        }
        config_.snat_rules.push_back(std::move(rule));
    }

    // firewall: nat: {sessions: N, port-range: "FIRST-LAST", timeouts: {udp: S, ...}}
    void read_nat_settings(const Field& field) {
        NatSettings& nat = config_.nat;
        nat.where = where(field);
        for_each_entry(field, [&](const std::string& key, const Field& value) {
            if (key == "sessions") return set(nat.sessions, read_number(value, "session count", kNatSessionsRange));
            if (key == "port-range") {
                if (const auto range = read_parsed(value, "port range", parse_port_range))
                    std::tie(nat.port_first, nat.port_last) = *range;
                return;
            }
            if (key == "timeouts") return read_nat_timeouts(value, nat.timeouts);
            unknown_key(key, value, {"sessions", "port-range", "timeouts"});
        });
    }

    void read_nat_timeouts(const Field& field, NatTimeouts& timeouts) {
        for_each_entry(field, [&](const std::string& key, const Field& value) {
            const auto seconds = [&] { return read_number(value, "timeout in seconds", kNatTimeoutRange); };
            if (key == "tcp-established") return set(timeouts.tcp_established, seconds());
            if (key == "tcp-transitory") return set(timeouts.tcp_transitory, seconds());
            if (key == "udp") return set(timeouts.udp, seconds());
            if (key == "icmp") return set(timeouts.icmp, seconds());
            if (key == "other") return set(timeouts.other, seconds());
            unknown_key(key, value, {"tcp-established", "tcp-transitory", "udp", "icmp", "other"});
        });
    }

    // ---- walking maps and lists ----

    // Calls on_entry(key, value) for each entry of a map. Nothing ("key:" with no
    // value) is an empty map; anything else that is not a map is reported.
    template <typename OnEntry>
    void for_each_entry(const Field& field, OnEntry on_entry) {
        if (field.node.IsNull()) return;
        if (!field.node.IsMap()) return error(field, fmt::format("expected a map, got {}", describe(field.node)));
        std::set<std::string> seen;
        for (const auto& entry : field.node) {
            const int key_line = line_of(entry.first, field.line);
            if (!entry.first.IsScalar()) {
                error(key_line, field.path, fmt::format("expected a key, got {}", describe(entry.first)));
                continue;
            }
            const std::string& key = entry.first.Scalar();
            if (!is_valid_utf8(key)) {
                error(key_line, field.path, "key is not valid UTF-8 text");
                continue;
            }
            const std::string path = field.path.empty() ? key : fmt::format("{}.{}", field.path, key);
            if (!seen.insert(key).second) {
                error(key_line, path, fmt::format("duplicate key '{}'", key));
                continue;
            }
            on_entry(key, Field{entry.second, path, key_line});
        }
    }

    template <typename OnElement>
    void for_each_element(const Field& field, OnElement on_element) {
        if (field.node.IsNull()) return;
        if (!field.node.IsSequence()) return error(field, fmt::format("expected a list, got {}", describe(field.node)));
        for (size_t i = 0; i < field.node.size(); ++i) {
            const YAML::Node element = field.node[i];
            on_element(Field{element, fmt::format("{}[{}]", field.path, i), line_of(element, field.line)});
        }
    }

    // A list whose every element read_element turns into a value; nullopt if any fails.
    template <typename ReadElement>
    auto read_list(const Field& field, ReadElement read_element)
        -> std::optional<std::vector<typename std::invoke_result_t<ReadElement, const Field&>::value_type>> {
        using Element = typename std::invoke_result_t<ReadElement, const Field&>::value_type;
        if (!field.node.IsSequence()) {
            error(field, fmt::format("expected a list, got {}", describe(field.node)));
            return std::nullopt;
        }
        std::vector<Element> values;
        bool all_read = true;
        for_each_element(field, [&](const Field& element) {
            const auto value = read_element(element);
            if (value) values.push_back(*value);
            all_read = all_read && value.has_value();
        });
        if (!all_read) return std::nullopt;
        return values;
    }

    // ---- values ----

    std::optional<std::string> read_scalar(const Field& field, std::string_view what) {
        if (!field.node.IsScalar()) {
            error(field, fmt::format("expected {}, got {}", what, describe(field.node)));
            return std::nullopt;
        }
        if (!is_valid_utf8(field.node.Scalar())) {
            error(field, fmt::format("{} is not valid UTF-8 text", what));
            return std::nullopt;
        }
        return field.node.Scalar();
    }

    // Free text of one line (the mbox language has no way to write a line break).
    std::optional<std::string> read_text(const Field& field, std::string_view what) {
        auto text = read_scalar(field, what);
        if (text && text->find_first_of("\r\n") != std::string::npos) {
            error(field, fmt::format("{} must be one line", what));
            return std::nullopt;
        }
        return text;
    }

    std::optional<std::string> read_word(const Field& field, std::string_view what) {
        auto word = read_scalar(field, what);
        if (word && !check_word(*word, field, what)) return std::nullopt;
        return word;
    }

    std::optional<bool> read_bool(const Field& field) {
        const auto text = read_scalar(field, "true or false");
        if (!text) return std::nullopt;
        if (equals_ignoring_case(*text, "true")) return true;
        if (equals_ignoring_case(*text, "false")) return false;
        error(field, fmt::format("expected true or false, got '{}'", *text));
        return std::nullopt;
    }

    // Reads a scalar and converts it with `parse` (a value_parsing function).
    template <typename ParseText>
    auto read_parsed(const Field& field, std::string_view what, ParseText parse)
        -> std::optional<std::remove_cvref_t<decltype(*parse(std::string_view{}))>> {
        const auto text = read_scalar(field, what);
        if (!text) return std::nullopt;
        const auto parsed = parse(*text);
        if (!parsed) {
            error(field, parsed.error());
            return std::nullopt;
        }
        return *parsed;
    }

    std::optional<int> read_number(const Field& field, std::string_view what, NumberRange range) {
        const auto parse = [&](std::string_view text) { return parse_number(text, what, range); };
        const auto number = read_parsed(field, what, parse);
        if (!number) return std::nullopt;
        return static_cast<int>(*number);
    }

    std::optional<int> read_policy_number(const Field& field, std::string_view what) {
        return read_number(field, what, kPolicyNumberRange);
    }

    std::optional<Encryption> read_encryption(const Field& field) {
        return read_parsed(field, "encryption", parse_encryption_word);
    }

    std::optional<Hash> read_hash(const Field& field) { return read_parsed(field, "hash", parse_hash_word); }

    std::optional<int> read_dh_group(const Field& field, std::string_view what) {
        return read_parsed(field, what, [&](std::string_view text) { return parse_dh_group(text, what); });
    }

    std::optional<Ipv4Prefix> read_network(const Field& field, std::string_view context) {
        return read_parsed(field, "prefix", [&](std::string_view text) { return parse_network(text, context); });
    }

    std::optional<std::vector<Ipv4Prefix>> read_networks(const Field& field, std::string_view context) {
        return read_list(field, [&](const Field& element) { return read_network(element, context); });
    }

    std::optional<bool> read_remote_ip(const Field& field) {
        const auto text = read_scalar(field, "any");
        if (!text) return std::nullopt;
        if (*text == "any") return true;
        error(field, fmt::format("expected any, got '{}'", *text));
        return std::nullopt;
    }

    // ---- checks and reporting ----

    bool check_word(const std::string& word, const Field& field, std::string_view what) {
        if (!word.empty() && word.find_first_of(" \t\r\n") == std::string::npos) return true;
        error(field, fmt::format("invalid {} '{}' (expected one word)", what, word));
        return false;
    }

    bool check_required(const Field& field, std::initializer_list<std::pair<std::string_view, bool>> keys) {
        if (field.node.IsNull()) error(field, "expected a map, got nothing");
        if (!field.node.IsMap()) return false;  // anything else was reported by for_each_entry
        bool complete = true;
        for (const auto& [key, present] : keys) {
            if (!present) error(field, fmt::format("missing key '{}'", key));
            complete = complete && present;
        }
        return complete;
    }

    void already_defined(const Field& field, const std::string& what, const SourceLocation& first) {
        error(field, fmt::format("{} is already defined at {}", what, first.file_and_line()));
    }

    void unknown_key(const std::string& key, const Field& value, Keys expected) {
        error(value, fmt::format("unknown key '{}' (expected one of: {})", key, fmt::join(expected, ", ")));
    }

    template <typename Target, typename Value>
    static void set(Target& target, const std::optional<Value>& value) {
        if (value) target = *value;
    }

    // set() that says whether there was a value.
    template <typename Target, typename Value>
    static bool set_if(Target& target, const std::optional<Value>& value) {
        set(target, value);
        return value.has_value();
    }

    template <typename Target, typename Value>
    static void set(Target& target, const std::optional<Value>& value, bool& present) {
        set(target, value);
        present = true;  // a wrong value is reported as such, not as a missing key
    }

    SourceLocation where(const Field& field) const { return SourceLocation{file_, field.line, field.path}; }

    void error(const Field& field, std::string message) { error(field.line, field.path, std::move(message)); }

    void error(int line, const std::string& path, std::string message) {
        diagnostics_.push_back(Diagnostic{Severity::Error, SourceLocation{file_, line, path}, std::move(message)});
    }

    std::string file_;
    std::filesystem::path directory_;
    Config config_;
    // Where each name, address or rule number was first given, for "already defined at".
    FirstOccurrence<std::string, SourceLocation> interface_names_;
    FirstOccurrence<uint32_t, SourceLocation> peer_addresses_;
    FirstOccurrence<std::string, SourceLocation> manual_sa_names_;
    FirstOccurrence<int, SourceLocation> snat_rule_numbers_;
    Diagnostics diagnostics_;
};

// ---- emitter ----

void emit_text(YAML::Emitter& out, std::string_view key, std::string_view text) {
    out << YAML::Key << std::string(key) << YAML::Value << YAML::DoubleQuoted << std::string(text);
}

void emit_prefixes(YAML::Emitter& out, std::string_view key, const std::vector<Ipv4Prefix>& prefixes) {
    out << YAML::Key << std::string(key) << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const auto& prefix : prefixes) out << prefix.to_string();
    out << YAML::EndSeq;
}

void emit_interface(YAML::Emitter& out, const Interface& interface) {
    out << YAML::Key << interface.name << YAML::Value << YAML::BeginMap;
    if (!interface.dpdk_device.empty()) emit_text(out, "dpdk-device", interface.dpdk_device);
    if (!interface.description.empty()) emit_text(out, "description", interface.description);
    if (!interface.addresses.empty()) emit_prefixes(out, "addresses", interface.addresses);
    if (interface.default_gateway) {
        out << YAML::Key << "default-gateway" << YAML::Value << interface.default_gateway->to_string();
    }
    if (interface.mtu) out << YAML::Key << "mtu" << YAML::Value << *interface.mtu;
    out << YAML::Key << "enabled" << YAML::Value << interface.enabled << YAML::EndMap;
}

void emit_routes(YAML::Emitter& out, const std::vector<Route>& routes) {
    out << YAML::Key << "routes" << YAML::Value << YAML::BeginSeq;
    for (const auto& route : routes) {
        out << YAML::Flow << YAML::BeginMap << YAML::Key << "prefix" << YAML::Value << route.prefix.to_string()
            << YAML::Key << "nexthop" << YAML::Value << route.nexthop.to_string() << YAML::EndMap;
    }
    out << YAML::EndSeq;
}

void emit_ike_policy(YAML::Emitter& out, const IkePolicy& policy) {
    out << YAML::Key << policy.id << YAML::Value << YAML::Flow << YAML::BeginMap;
    out << YAML::Key << "authentication" << YAML::Value << std::string(to_string(policy.authentication));
    out << YAML::Key << "encryption" << YAML::Value << std::string(to_string(policy.encryption));
    out << YAML::Key << "hash" << YAML::Value << std::string(to_string(policy.hash));
    out << YAML::Key << "dh-group" << YAML::Value << policy.dh_group;
    out << YAML::Key << "keylife" << YAML::Value << policy.keylife;
    out << YAML::Key << "version" << YAML::Value << policy.version << YAML::EndMap;
}

void emit_esp_policy(YAML::Emitter& out, const EspPolicy& policy) {
    out << YAML::Key << policy.id << YAML::Value << YAML::Flow << YAML::BeginMap;
    out << YAML::Key << "encryption" << YAML::Value << std::string(to_string(policy.encryption));
    if (policy.hash) out << YAML::Key << "hash" << YAML::Value << std::string(to_string(*policy.hash));
    if (policy.pfs_group) out << YAML::Key << "pfs-group" << YAML::Value << *policy.pfs_group;
    out << YAML::Key << "keylife" << YAML::Value << policy.keylife << YAML::EndMap;
}

void emit_peer_secret(YAML::Emitter& out, const Peer& peer, EmitOptions options) {
    if (!peer.psk_file.empty()) {
        emit_text(out, "psk-file", peer.psk_file);  // a file name, not the secret
    } else if (!peer.psk.empty()) {
        emit_text(out, "psk", options.redact_secrets ? std::string_view("********") : peer.psk.view());
    }
}

// The key is the address, or "any remote-id ID" (the remote-id is not repeated inside).
void emit_peer(YAML::Emitter& out, const Peer& peer, EmitOptions options) {
    if (peer.address) {
        out << YAML::Key << peer.address->to_string();
    } else {
        out << YAML::Key << YAML::DoubleQuoted << peer.name();
    }
    out << YAML::Value << YAML::BeginMap;
    if (peer.local_ip) out << YAML::Key << "local-ip" << YAML::Value << peer.local_ip->to_string();
    if (peer.nated) out << YAML::Key << "nated" << YAML::Value << true;
    if (!peer.local_id.empty()) emit_text(out, "local-id", peer.local_id);
    if (!peer.local_nets.empty()) emit_prefixes(out, "local-nets", peer.local_nets);
    if (peer.address && !peer.remote_id.empty()) emit_text(out, "remote-id", peer.remote_id);
    if (peer.remote_ip_any) out << YAML::Key << "remote-ip" << YAML::Value << "any";
    if (!peer.remote_nets.empty()) emit_prefixes(out, "remote-nets", peer.remote_nets);
    if (peer.ike_policy) out << YAML::Key << "ike-policy" << YAML::Value << *peer.ike_policy;
    if (peer.esp_policy) out << YAML::Key << "esp-policy" << YAML::Value << *peer.esp_policy;
    if (peer.mode) out << YAML::Key << "mode" << YAML::Value << std::string(to_string(*peer.mode));
    if (peer.dpd != 0) out << YAML::Key << "dpd" << YAML::Value << peer.dpd;
    emit_peer_secret(out, peer, options);
    out << YAML::EndMap;
}

std::string hex(const std::vector<uint8_t>& bytes) {
    std::string text = "0x";
    for (const uint8_t byte : bytes) text += fmt::format("{:02x}", byte);
    return text;
}

// A key read from a file is written as its file name, never as the key.
void emit_key(YAML::Emitter& out, std::string_view key, const std::vector<uint8_t>& bytes, const std::string& file,
              EmitOptions options) {
    if (!file.empty()) {
        emit_text(out, fmt::format("{}-file", key), file);
    } else if (!bytes.empty()) {
        out << YAML::Key << std::string(key) << YAML::Value << (options.redact_secrets ? "********" : hex(bytes));
    }
}

void emit_manual_sa_keys(YAML::Emitter& out, std::string_view direction, const ManualSaKeys& keys,
                         EmitOptions options) {
    out << YAML::Key << std::string(direction) << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "spi" << YAML::Value << fmt::format("0x{:x}", keys.spi);
    emit_key(out, "enc-key", keys.enc_key, keys.enc_key_file, options);
    emit_key(out, "auth-key", keys.auth_key, keys.auth_key_file, options);
    out << YAML::EndMap;
}

void emit_manual_sa(YAML::Emitter& out, const ManualSa& sa, EmitOptions options) {
    out << YAML::Key << sa.name << YAML::Value << YAML::BeginMap;
    if (sa.local_ip) out << YAML::Key << "local-ip" << YAML::Value << sa.local_ip->to_string();
    if (sa.peer) out << YAML::Key << "peer" << YAML::Value << sa.peer->to_string();
    if (!sa.local_nets.empty()) emit_prefixes(out, "local-nets", sa.local_nets);
    if (!sa.remote_nets.empty()) emit_prefixes(out, "remote-nets", sa.remote_nets);
    if (sa.encryption) out << YAML::Key << "encryption" << YAML::Value << std::string(to_string(*sa.encryption));
    if (sa.hash) out << YAML::Key << "hash" << YAML::Value << std::string(to_string(*sa.hash));
    if (sa.inbound) emit_manual_sa_keys(out, "inbound", *sa.inbound, options);
    if (sa.outbound) emit_manual_sa_keys(out, "outbound", *sa.outbound, options);
    if (sa.udp_encap) {
        out << YAML::Key << "udp-encap" << YAML::Value << YAML::Flow << YAML::BeginMap;
        out << YAML::Key << "source-port" << YAML::Value << sa.udp_encap->source_port;
        out << YAML::Key << "destination-port" << YAML::Value << sa.udp_encap->destination_port << YAML::EndMap;
    }
    out << YAML::Key << "replay-window" << YAML::Value << sa.replay_window;
    if (sa.esn) out << YAML::Key << "esn" << YAML::Value << true;
    if (sa.df_bit != DfBit::Copy) out << YAML::Key << "df-bit" << YAML::Value << std::string(to_string(sa.df_bit));
    out << YAML::EndMap;
}

void emit_ipsec(YAML::Emitter& out, const Config& config, EmitOptions options) {
    out << YAML::Key << "ipsec" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "enabled" << YAML::Value << config.ipsec_enabled;
    if (config.ipsec_stopped_traffic != StoppedTraffic::Drop)
        out << YAML::Key << "stopped-traffic" << YAML::Value << std::string(to_string(config.ipsec_stopped_traffic));
    if (!config.ike_policies.empty()) {
        out << YAML::Key << "ike-policies" << YAML::Value << YAML::BeginMap;
        for (const auto& [id, policy] : config.ike_policies) emit_ike_policy(out, policy);
        out << YAML::EndMap;
    }
    if (!config.esp_policies.empty()) {
        out << YAML::Key << "esp-policies" << YAML::Value << YAML::BeginMap;
        for (const auto& [id, policy] : config.esp_policies) emit_esp_policy(out, policy);
        out << YAML::EndMap;
    }
    if (!config.pki.empty()) {
        const Pki& pki = config.pki;
        out << YAML::Key << "pki" << YAML::Value << YAML::BeginMap;
        if (!pki.ca_certs.empty()) {
            out << YAML::Key << "ca-certs" << YAML::Value << YAML::BeginSeq;
            for (const auto& ca : pki.ca_certs) out << YAML::DoubleQuoted << ca.file;
            out << YAML::EndSeq;
        }
        if (pki.local_cert) emit_text(out, "local-cert", pki.local_cert->file);
        if (pki.local_key) emit_text(out, "local-key", pki.local_key->file);
        out << YAML::EndMap;
    }
    if (!config.peers.empty()) {
        out << YAML::Key << "peers" << YAML::Value << YAML::BeginMap;
        for (const auto& peer : config.peers) emit_peer(out, peer, options);
        out << YAML::EndMap;
    }
    if (!config.manual_sas.empty()) {
        out << YAML::Key << "manual-sas" << YAML::Value << YAML::BeginMap;
        for (const auto& sa : config.manual_sas) emit_manual_sa(out, sa, options);
        out << YAML::EndMap;
    }
    out << YAML::EndMap;
}

// Only what differs from the defaults, as the mbox language does.
void emit_nat_settings(YAML::Emitter& out, const NatSettings& nat) {
    const NatSettings defaults;
    out << YAML::Key << "nat" << YAML::Value << YAML::BeginMap;
    if (nat.sessions != defaults.sessions) out << YAML::Key << "sessions" << YAML::Value << nat.sessions;
    if (nat.port_first != defaults.port_first || nat.port_last != defaults.port_last)
        out << YAML::Key << "port-range" << YAML::Value << fmt::format("{}-{}", nat.port_first, nat.port_last);
    if (!(nat.timeouts == defaults.timeouts)) {
        out << YAML::Key << "timeouts" << YAML::Value << YAML::Flow << YAML::BeginMap;
        const std::pair<const char*, uint32_t NatTimeouts::*> timeouts[] = {
            {"tcp-established", &NatTimeouts::tcp_established}, {"tcp-transitory", &NatTimeouts::tcp_transitory},
            {"udp", &NatTimeouts::udp}, {"icmp", &NatTimeouts::icmp}, {"other", &NatTimeouts::other}};
        for (const auto& [word, field] : timeouts)
            if (nat.timeouts.*field != defaults.timeouts.*field)
                out << YAML::Key << word << YAML::Value << nat.timeouts.*field;
        out << YAML::EndMap;
    }
    out << YAML::EndMap;
}

void emit_snat_rule(YAML::Emitter& out, const SnatRule& rule) {
    out << YAML::Flow << YAML::BeginMap;
    out << YAML::Key << "rule" << YAML::Value << rule.rule;
    out << YAML::Key << "action" << YAML::Value << std::string(to_string(rule.action));
    out << YAML::Key << "interface" << YAML::Value << rule.interface;
    if (rule.protocol) out << YAML::Key << "protocol" << YAML::Value << std::string(to_string(*rule.protocol));
    if (!rule.src.empty()) emit_prefixes(out, "src", rule.src);
    if (!rule.dst.empty()) emit_prefixes(out, "dst", rule.dst);
    if (rule.xsrc) out << YAML::Key << "xsrc" << YAML::Value << rule.xsrc->to_string();
    if (!rule.remark.empty()) emit_text(out, "remark", rule.remark);
    out << YAML::EndMap;
}

}  // namespace

ParseResult parse_yaml(std::string_view text, std::string_view file) {
    return YamlReader(file).read(text);
}

std::string emit_yaml(const Config& config, EmitOptions options) {
    YAML::Emitter out;
    out << YAML::BeginMap;
    if (!config.interfaces.empty()) {
        out << YAML::Key << "interfaces" << YAML::Value << YAML::BeginMap;
        for (const auto& interface : config.interfaces) emit_interface(out, interface);
        out << YAML::EndMap;
    }
    if (!config.routes.empty()) emit_routes(out, config.routes);
    emit_ipsec(out, config, options);
    const bool nat_tuned = !(config.nat == NatSettings{});
    if (!config.snat_rules.empty() || nat_tuned) {
        out << YAML::Key << "firewall" << YAML::Value << YAML::BeginMap;
        if (!config.snat_rules.empty()) {
            out << YAML::Key << "snat" << YAML::Value << YAML::BeginSeq;
            for (const auto& rule : config.snat_rules) emit_snat_rule(out, rule);
            out << YAML::EndSeq;
        }
        if (nat_tuned) emit_nat_settings(out, config.nat);
        out << YAML::EndMap;
    }
    out << YAML::EndMap;
    return std::string(out.c_str()) + "\n";
}

}  // namespace mbox::config
