// The mbox language parser: one command per line, blocks continued by indented
// lines and ended by "!" (or by the next unindented line), and the appliance's
// single-line forms ("interface eth0 mtu 1400", "ipsec esp-policy 10 policy AES SHA").
//
// Every line is understood or reported. The first mistake on a line ends that line
// (later words would only repeat it), and parsing goes on with the next line so one
// run reports every mistake in the file.
#include "config/mbox_language.hpp"

#include <algorithm>
#include <tuple>
#include <variant>

#include <fmt/format.h>

#include "config/first_occurrence.hpp"
#include "config/mbox_manual_sa.hpp"
#include "config/mbox_syntax.hpp"
#include "config/value_parsing.hpp"

namespace mbox::config {
namespace {

using namespace mbox_syntax;

constexpr std::string_view kTopLevelKeywords[] = {"interface", "ip", "ipsec", "firewall-snat", "firewall-nat"};
constexpr std::string_view kTopLevelIpKeywords[] = {"route"};
constexpr std::string_view kIpsecKeywords[] = {"peer", "manual-sa", "ike-policy", "esp-policy",
                                               "pki",  "start",     "stop",       "stopped-traffic"};
constexpr std::string_view kInterfaceKeywords[] = {"dpdk-device", "ip",       "mtu",        "enable",
                                                   "no",          "shutdown", "description"};
constexpr std::string_view kInterfaceIpKeywords[] = {"address", "default-gateway"};
constexpr std::string_view kInterfaceNoKeywords[] = {"enable"};
constexpr std::string_view kPeerKeywords[] = {"local",      "local-id",   "local-net", "remote-id", "remote-ip",
                                              "remote-net", "policy",     "mode",      "dpd",       "psk"};
constexpr std::string_view kPkiKeywords[] = {"ca-cert", "local-cert", "local-key"};
constexpr std::string_view kPeerLocalKeywords[] = {"ip"};
constexpr std::string_view kPeerRemoteIpKeywords[] = {"any"};
constexpr std::string_view kIkePolicyKeywords[] = {"authentication", "policy", "keylife", "version"};
constexpr std::string_view kEspPolicyKeywords[] = {"policy", "keylife"};
constexpr std::string_view kSnatOptionKeywords[] = {"tcp", "udp", "icmp", "src", "dst", "xsrc", "remark"};
constexpr std::string_view kNatKeywords[] = {"sessions", "port-range", "timeout"};
constexpr std::string_view kNatTimeoutKeywords[] = {"tcp-established", "tcp-transitory", "udp", "icmp", "other"};

// A sub-command written without its indentation, e.g. " mtu 1400" as "mtu 1400".
bool is_block_keyword(std::string_view word) {
    const Keywords block_keywords[] = {kInterfaceKeywords, kPeerKeywords, kManualSaKeywords, kIkePolicyKeywords,
                                       kPkiKeywords};
    for (const Keywords keywords : block_keywords) {
        for (const std::string_view keyword : keywords) {
            if (keyword != "ip" && equals_ignoring_case(word, keyword)) return true;
        }
    }
    return false;
}

// The block that indented lines continue: a pointer into the config being built, or
// to a scratch object when the header itself was wrong (its lines are still checked).
using OpenBlock = std::variant<std::monostate, Interface*, Peer*, ManualSa*, IkePolicy*, EspPolicy*, Pki*>;

class MboxParser : private LineReader {
public:
    explicit MboxParser(std::string_view file) : LineReader(file) {}

    ParseResult parse(std::string_view text) {
        while (!text.empty()) {
            const size_t newline = text.find('\n');
            next_line();
            parse_line(text.substr(0, newline));
            text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
        }
        // Rules are kept in the order written while parsing: inserting each at its place
        // would move the ones after it, quadratic for rules written in descending order.
        std::ranges::stable_sort(config_.snat_rules, {}, &SnatRule::rule);
        return {std::move(config_), take_diagnostics()};
    }

private:
    // ---- lines and blocks ----

    void parse_line(std::string_view line) {
        if (line.ends_with('\r')) line.remove_suffix(1);
        const std::string_view content = trim(line);
        if (content.empty() || content.front() == '#') return;
        if (!is_valid_utf8(content)) return error("line is not valid UTF-8 text");
        // "!" ends a block; as on the appliance, text after it is a comment ("! WAN side").
        if (content.front() == '!') {
            block_ = std::monostate{};
            return;
        }
        Words words(content);
        if (kBlanks.find(line.front()) != std::string_view::npos) {
            parse_block_line(words);
            return;
        }
        block_ = std::monostate{};
        parse_top_level(words);
    }

    void parse_block_line(Words& words) {
        if (std::holds_alternative<std::monostate>(block_)) {
            error("indented line outside a block (expected a header such as 'interface NAME' above it)");
            return;
        }
        const bool understood = std::visit(
            [&](auto target) {
                if constexpr (std::is_same_v<decltype(target), std::monostate>) {
                    return false;
                } else {
                    return parse_sub_command(*target, words);
                }
            },
            block_);
        if (understood) expect_end(words);
    }

    void parse_top_level(Words& words) {
        const std::string_view keyword = words.next();
        if (is(keyword, "interface")) return parse_interface_header(words);
        if (is(keyword, "ip")) return parse_top_level_ip(words);
        if (is(keyword, "ipsec")) return parse_ipsec(words);
        if (is(keyword, "firewall-snat")) return parse_snat_rule(words);
        if (is(keyword, "firewall-nat")) return parse_nat_setting(words);
        if (is_block_keyword(keyword)) return not_indented(keyword);
        unknown_keyword(keyword, "", kTopLevelKeywords);
    }

    void parse_top_level_ip(Words& words) {
        const std::string context{words.consumed()};
        const std::string_view keyword = words.next();
        if (is(keyword, "route")) return parse_route(words);
        if (is(keyword, "address") || is(keyword, "default-gateway")) {
            return not_indented(fmt::format("ip {}", keyword));
        }
        unknown_keyword(keyword, context, kTopLevelIpKeywords);
    }

    void parse_ipsec(Words& words) {
        const std::string context{words.consumed()};
        const std::string_view keyword = words.next();
        if (is(keyword, "peer")) return parse_peer_header(words);
        if (is(keyword, "manual-sa")) return parse_manual_sa_header(words);
        if (is(keyword, "ike-policy")) return parse_ike_policy_header(words);
        if (is(keyword, "esp-policy")) return parse_esp_policy_header(words);
        if (is(keyword, "pki")) return parse_pki_header(words);
        if (is(keyword, "start") || is(keyword, "stop")) {
            if (!expect_end(words)) return;
            config_.ipsec_enabled = is(keyword, "start");
            config_.ipsec_enabled_where = here();
            return;
        }
        if (is(keyword, "stopped-traffic")) {
            const auto action = expect_value(words, "stopped-traffic action", parse_stopped_traffic_word);
            if (action && expect_end(words)) config_.ipsec_stopped_traffic = *action;
            return;
        }
        unknown_keyword(keyword, context, kIpsecKeywords);
    }

    // ---- headers ----

    void parse_interface_header(Words& words) {
        scratch_interface_ = Interface{};
        block_ = &scratch_interface_;
        const auto name = expect_word(words, "interface name");
        if (!name) return;
        Interface& interface = find_or_add_interface(*name);
        block_ = &interface;
        parse_header_tail(interface, words);
    }

    void parse_peer_header(Words& words) {
        scratch_peer_ = Peer{};
        block_ = &scratch_peer_;
        if (is(words.peek(), "any")) {
            words.next();
            return parse_any_peer_header(words);
        }
        const auto address = expect_address(words, "peer address");
        if (!address) return;
        Peer& peer = find_or_add_peer(*address);
        block_ = &peer;
        parse_header_tail(peer, words);
    }

    // ipsec peer any [remote-id ID]: `any` peers are told apart by their remote-id, so
    // the header with one reopens the `any` peer that has it (or starts it), and the
    // header without one always starts a new peer. The remote-id runs to the end of
    // the line, so no other setting can follow it there: the rest goes in the block.
    void parse_any_peer_header(Words& words) {
        if (words.at_end()) {
            block_ = &add_peer(std::nullopt);
            return;
        }
        const std::string_view keyword = words.next();
        if (!is(keyword, "remote-id")) {
            error(fmt::format("'{}' cannot follow 'ipsec peer any': only 'remote-id ID' can (an any peer is known by "
                              "its remote-id); put '{}' in the peer's block",
                              keyword, keyword));
            return;
        }
        const auto remote_id = expect_text(words, "identity");
        if (!remote_id) return;
        // Searched as the peers stand, not through an index: a `remote-id` line in an any
        // peer's block can change the identity its header gave.
        const auto found = std::ranges::find_if(config_.peers, [&](const Peer& peer) {
            return peer.is_any() && peer.remote_id == *remote_id;
        });
        Peer& peer = found != config_.peers.end() ? *found : add_peer(std::nullopt);
        peer.remote_id = *remote_id;
        block_ = &peer;
    }

    // ipsec pki [sub-command]: one object, which every header reopens.
    void parse_pki_header(Words& words) {
        Pki& pki = config_.pki;
        if (pki.where.line == 0) pki.where = here();
        block_ = &pki;
        parse_header_tail(pki, words);
    }

    void parse_manual_sa_header(Words& words) {
        scratch_manual_sa_ = ManualSa{};
        block_ = &scratch_manual_sa_;
        const auto name = expect_word(words, "manual-sa name");
        if (!name) return;
        ManualSa& sa = find_or_add_manual_sa(*name);
        block_ = &sa;
        parse_header_tail(sa, words);
    }

    // The single-line form of interface, peer and manual-sa: one sub-command after the header.
    template <typename Target>
    void parse_header_tail(Target& target, Words& words) {
        if (!words.at_end() && parse_sub_command(target, words)) expect_end(words);
    }

    void parse_ike_policy_header(Words& words) {
        parse_policy_header(words, "ike-policy", config_.ike_policies, scratch_ike_policy_);
    }

    void parse_esp_policy_header(Words& words) {
        parse_policy_header(words, "esp-policy", config_.esp_policies, scratch_esp_policy_);
    }

    // ipsec ike-policy N / ipsec esp-policy N: a number may be defined once.
    template <typename Policy>
    void parse_policy_header(Words& words, std::string_view kind, std::map<int, Policy>& policies, Policy& scratch) {
        scratch = Policy{};
        block_ = &scratch;
        const auto id = expect_number(words, fmt::format("{} number", kind), kPolicyNumberRange);
        if (!id) return;
        Policy* policy = &scratch;
        if (const auto existing = policies.find(*id); existing != policies.end()) {
            error(fmt::format("{} {} is already defined at {}", kind, *id, existing->second.where.file_and_line()));
        } else {
            policy = &policies[*id];
            policy->id = *id;
            policy->where = here();
        }
        block_ = policy;
        parse_policy_header_tail(*policy, words);
    }

    // The single-line form of a policy: any number of sub-commands after the header.
    template <typename Policy>
    void parse_policy_header_tail(Policy& policy, Words& words) {
        while (!words.at_end()) {
            if (!parse_sub_command(policy, words)) return;
        }
    }

    // A repeated header reopens its object; the indexes find it in constant time, so a
    // file with thousands of objects is still read in linear time.
    Interface& find_or_add_interface(std::string_view name) {
        const std::string key(name);
        if (const size_t* first = interface_names_.find_or_add(key, config_.interfaces.size())) {
            return config_.interfaces[*first];
        }
        Interface& interface = config_.interfaces.emplace_back();
        interface.name = key;
        interface.where = here();
        return interface;
    }

    Peer& find_or_add_peer(Ipv4Address address) {
        if (const size_t* first = peer_addresses_.find_or_add(address.value, config_.peers.size())) {
            return config_.peers[*first];
        }
        return add_peer(address);
    }

    Peer& add_peer(std::optional<Ipv4Address> address) {
        Peer& peer = config_.peers.emplace_back();
        peer.address = address;
        peer.where = here();
        return peer;
    }

    ManualSa& find_or_add_manual_sa(std::string_view name) {
        const std::string key(name);
        if (const size_t* first = manual_sa_names_.find_or_add(key, config_.manual_sas.size())) {
            return config_.manual_sas[*first];
        }
        ManualSa& sa = config_.manual_sas.emplace_back();
        sa.name = key;
        sa.where = here();
        return sa;
    }

    bool parse_sub_command(ManualSa& sa, Words& words) { return parse_manual_sa_sub_command(sa, words, *this); }

    // ---- interface sub-commands ----

    bool parse_sub_command(Interface& interface, Words& words) {
        const std::string context{words.consumed()};
        words.begin_command();
        const std::string_view keyword = words.next();
        if (is(keyword, "dpdk-device")) return set(interface.dpdk_device, expect_word(words, "DPDK device"));
        if (is(keyword, "ip")) return parse_interface_ip(interface, words);
        if (is(keyword, "mtu")) return set(interface.mtu, expect_number(words, "MTU", kMtuRange));
        if (is(keyword, "enable")) return set(interface.enabled, true);
        if (is(keyword, "shutdown")) return set(interface.enabled, false);
        if (is(keyword, "no")) return parse_interface_no(interface, words);
        if (is(keyword, "description")) return set(interface.description, expect_text(words, "description"));
        return unknown_keyword(keyword, context, kInterfaceKeywords);
    }

    bool parse_interface_ip(Interface& interface, Words& words) {
        const std::string context{words.consumed()};
        const std::string_view keyword = words.next();
        if (is(keyword, "address")) {
            const auto address = expect_prefix(words, "address/length");
            if (address) interface.addresses.push_back(*address);
            return address.has_value();
        }
        if (is(keyword, "default-gateway")) {
            return set(interface.default_gateway, expect_address(words, "gateway address"));
        }
        return unknown_keyword(keyword, context, kInterfaceIpKeywords);
    }

    bool parse_interface_no(Interface& interface, Words& words) {
        const std::string context{words.consumed()};
        const std::string_view keyword = words.next();
        if (is(keyword, "enable")) return set(interface.enabled, false);
        return unknown_keyword(keyword, context, kInterfaceNoKeywords);
    }

    // ---- peer sub-commands ----

    bool parse_sub_command(Peer& peer, Words& words) {
        const std::string context{words.consumed()};
        words.begin_command();
        const std::string_view keyword = words.next();
        if (is(keyword, "local")) return parse_peer_local(peer, words);
        if (is(keyword, "local-id")) return set(peer.local_id, expect_text(words, "identity"));
        if (is(keyword, "local-net")) return append(peer.local_nets, expect_networks(words, "local-net"));
        if (is(keyword, "remote-id")) return set(peer.remote_id, expect_text(words, "identity"));
        if (is(keyword, "remote-ip")) return parse_peer_remote_ip(peer, words);
        if (is(keyword, "remote-net")) return append(peer.remote_nets, expect_networks(words, "remote-net"));
        if (is(keyword, "policy")) return parse_peer_policy(peer, words);
        if (is(keyword, "mode")) return set(peer.mode, expect_value(words, "mode", parse_ike_mode_word));
        if (is(keyword, "dpd")) return set(peer.dpd, expect_value(words, "dpd interval", parse_dpd));
        if (is(keyword, "psk")) return set(peer.psk, expect_text(words, "pre-shared key"));
        return unknown_keyword(keyword, context, kPeerKeywords);
    }

    // ---- pki sub-commands ----

    // ca-cert FILE (may repeat) | local-cert FILE | local-key FILE: file names are free
    // text (quotes keep blanks).
    bool parse_sub_command(Pki& pki, Words& words) {
        const std::string context{words.consumed()};
        words.begin_command();
        const std::string_view keyword = words.next();
        std::optional<PkiFile> file;
        if (is(keyword, "ca-cert") || is(keyword, "local-cert") || is(keyword, "local-key")) {
            const auto name = expect_text(words, "file name");
            if (!name) return false;
            file = PkiFile{*name, here()};
        }
        if (is(keyword, "ca-cert")) {
            pki.ca_certs.push_back(*file);
            return true;
        }
        if (is(keyword, "local-cert")) return set(pki.local_cert, file);
        if (is(keyword, "local-key")) return set(pki.local_key, file);
        return unknown_keyword(keyword, context, kPkiKeywords);
    }

    // local ip ADDR [nated]
    bool parse_peer_local(Peer& peer, Words& words) {
        if (!expect_keyword(words, kPeerLocalKeywords)) return false;
        const auto address = expect_address(words, "local address");
        if (!address) return false;
        peer.local_ip = *address;
        peer.nated = is(words.peek(), "nated");
        if (peer.nated) words.next();
        return true;
    }

    bool parse_peer_remote_ip(Peer& peer, Words& words) {
        if (!expect_keyword(words, kPeerRemoteIpKeywords)) return false;
        peer.remote_ip_any = true;
        return true;
    }

    // policy ike N esp M
    bool parse_peer_policy(Peer& peer, Words& words) {
        static constexpr std::string_view kIke[] = {"ike"};
        static constexpr std::string_view kEsp[] = {"esp"};
        if (!expect_keyword(words, kIke)) return false;
        const auto ike = expect_number(words, "ike-policy number", kPolicyNumberRange);
        if (!ike || !expect_keyword(words, kEsp)) return false;
        const auto esp = expect_number(words, "esp-policy number", kPolicyNumberRange);
        if (!esp) return false;
        peer.ike_policy = *ike;
        peer.esp_policy = *esp;
        return true;
    }

    // ---- policy sub-commands ----

    bool parse_sub_command(IkePolicy& policy, Words& words) {
        const std::string context{words.consumed()};
        words.begin_command();
        const std::string_view keyword = words.next();
        if (is(keyword, "authentication")) {
            return set(policy.authentication, expect_value(words, "authentication method", parse_authentication_word));
        }
        if (is(keyword, "policy")) return parse_ike_proposal(policy, words);
        if (is(keyword, "keylife")) return set(policy.keylife, expect_number(words, "keylife", kKeylifeRange));
        if (is(keyword, "version")) return set(policy.version, expect_value(words, "IKE version", parse_ike_version));
        return unknown_keyword(keyword, context, kIkePolicyKeywords);
    }

    // policy ENC HASH DHGROUP (CBC only: GCM is for ESP)
    bool parse_ike_proposal(IkePolicy& policy, Words& words) {
        const auto encryption = expect_value(words, "encryption", parse_ike_encryption_word);
        const auto hash = encryption ? expect_value(words, "hash", parse_hash_word) : std::nullopt;
        const auto group = hash ? expect_dh_group(words, "DH group") : std::nullopt;
        if (!group) return false;
        policy.encryption = *encryption;
        policy.hash = *hash;
        policy.dh_group = *group;
        return true;
    }

    bool parse_sub_command(EspPolicy& policy, Words& words) {
        const std::string context{words.consumed()};
        words.begin_command();
        const std::string_view keyword = words.next();
        if (is(keyword, "policy")) return parse_esp_proposal(policy, words);
        if (is(keyword, "keylife")) return set(policy.keylife, expect_number(words, "keylife", kKeylifeRange));
        return unknown_keyword(keyword, context, kEspPolicyKeywords);
    }

    // policy ENC HASH [PFSGROUP] or policy GCM [PFSGROUP]: a number after the
    // algorithms is the PFS group.
    bool parse_esp_proposal(EspPolicy& policy, Words& words) {
        const auto encryption = expect_value(words, "encryption", parse_encryption_word);
        if (!encryption) return false;
        std::optional<Hash> hash;
        if (!is_aead(*encryption) || (!words.at_end() && parse_hash(words.peek()))) {
            hash = expect_value(words, "hash", parse_hash_word);
            if (!hash) return false;
        }
        if (const auto problem = esp_transform_problem(*encryption, hash)) {
            error(*problem);
            return false;
        }
        std::optional<int> pfs_group;
        if (is_digits(words.peek())) {
            pfs_group = expect_dh_group(words, "PFS group");
            if (!pfs_group) return false;
        }
        policy.encryption = *encryption;
        policy.hash = hash;
        policy.pfs_group = pfs_group;
        return true;
    }

    // ---- top-level commands ----

    // ip route PREFIX nexthop ADDR
    void parse_route(Words& words) {
        static constexpr std::string_view kNexthop[] = {"nexthop"};
        const auto prefix = expect_value(words, "prefix", [](std::string_view text) {
            return parse_network(text, "ip route");
        });
        if (!prefix || !expect_keyword(words, kNexthop)) return;
        const auto nexthop = expect_address(words, "nexthop address");
        if (!nexthop || !expect_end(words)) return;
        config_.routes.push_back(Route{*prefix, *nexthop, here()});
    }

    // firewall-snat N exempt|overload|translate outbound IFACE [tcp|udp|icmp] [src NETS] [dst NETS]
    //   [xsrc ADDR[-ADDR]] [remark "TEXT"]
    void parse_snat_rule(Words& words) {
        static constexpr std::string_view kOutbound[] = {"outbound"};
        SnatRule rule;
        rule.where = here();
        const auto number = expect_number(words, "rule number", kSnatRuleNumberRange);
        const auto action = number ? expect_value(words, "action", parse_snat_action_word) : std::nullopt;
        if (!action || !expect_keyword(words, kOutbound)) return;
        const auto interface = expect_word(words, "interface name");
        if (!interface) return;
        rule.rule = *number;
        rule.action = *action;
        rule.interface = *interface;
        while (!words.at_end()) {
            if (!parse_snat_option(rule, words)) return;
        }
        add_snat_rule(std::move(rule));
    }

    bool parse_snat_option(SnatRule& rule, Words& words) {
        const std::string context{words.consumed()};
        const std::string_view keyword = words.next();
        if (const auto protocol = parse_ip_protocol(keyword)) {
            if (rule.protocol) return given_twice("protocol");
            rule.protocol = *protocol;
            return true;
        }
        const std::string networks_context = fmt::format("firewall-snat {} {}", rule.rule, keyword);
        if (is(keyword, "src")) {
            return rule.src.empty() ? set(rule.src, expect_networks(words, networks_context)) : given_twice("'src'");
        }
        if (is(keyword, "dst")) {
            return rule.dst.empty() ? set(rule.dst, expect_networks(words, networks_context)) : given_twice("'dst'");
        }
        if (is(keyword, "xsrc")) {
            return rule.xsrc ? given_twice("'xsrc'")
                             : set(rule.xsrc, expect_value(words, "address range", parse_address_range));
        }
        if (is(keyword, "remark")) {
            return rule.remark.empty() ? set(rule.remark, expect_quoted(words, "remark text"))
                                       : given_twice("'remark'");
        }
        return unknown_keyword(keyword, context, kSnatOptionKeywords);
    }

    // firewall-nat sessions N | port-range FIRST-LAST | timeout KIND SECONDS
    void parse_nat_setting(Words& words) {
        NatSettings& nat = config_.nat;
        if (nat.where.line == 0) nat.where = here();
        const std::string context{words.consumed()};
        const std::string_view keyword = words.next();
        bool read = false;
        if (is(keyword, "sessions")) {
            const auto n = expect_number(words, "session count", kNatSessionsRange);
            if (n) nat.sessions = static_cast<uint32_t>(*n);
            read = n.has_value();
        } else if (is(keyword, "port-range")) {
            const auto range = expect_value(words, "port range", parse_port_range);
            if (range) std::tie(nat.port_first, nat.port_last) = *range;
            read = range.has_value();
        } else if (is(keyword, "timeout")) {
            read = parse_nat_timeout(nat.timeouts, words);
        } else {
            unknown_keyword(keyword, context, kNatKeywords);
            return;
        }
        if (read) expect_end(words);
    }

    bool parse_nat_timeout(NatTimeouts& timeouts, Words& words) {
        const std::string context{words.consumed()};
        const std::string_view kind = words.next();
        uint32_t* field = is(kind, "tcp-established") ? &timeouts.tcp_established
                          : is(kind, "tcp-transitory") ? &timeouts.tcp_transitory
                          : is(kind, "udp")            ? &timeouts.udp
                          : is(kind, "icmp")           ? &timeouts.icmp
                          : is(kind, "other")          ? &timeouts.other
                                                       : nullptr;
        if (field == nullptr) return unknown_keyword(kind, context, kNatTimeoutKeywords);
        const auto seconds = expect_number(words, "timeout in seconds", kNatTimeoutRange);
        if (seconds) *field = static_cast<uint32_t>(*seconds);
        return seconds.has_value();
    }

    void add_snat_rule(SnatRule rule) {
        auto& rules = config_.snat_rules;
        if (const size_t* first = snat_rule_numbers_.find_or_add(rule.rule, rules.size())) {
            error(fmt::format("firewall-snat rule {} is already defined at {}", rule.rule,
                              rules[*first].where.file_and_line()));
            return;
        }
        rules.push_back(std::move(rule));
    }

    void not_indented(std::string_view command) {
        error(fmt::format("'{}' belongs inside a block: indent it under its interface, ipsec peer, manual-sa or "
                          "policy header",
                          command));
    }

    Config config_;
    // Where each object is in config_, by the key its header names.
    FirstOccurrence<std::string> interface_names_;
    FirstOccurrence<uint32_t> peer_addresses_;
    FirstOccurrence<std::string> manual_sa_names_;
    FirstOccurrence<int> snat_rule_numbers_;
    OpenBlock block_;
    Interface scratch_interface_;
    Peer scratch_peer_;
    ManualSa scratch_manual_sa_;
    IkePolicy scratch_ike_policy_;
    EspPolicy scratch_esp_policy_;
};

// ---- emitter ----

// Free text at the end of a line, quoted when the parser would otherwise read it
// back differently (outer blanks trimmed, or outer quotes stripped).
std::string end_of_line_text(std::string_view text) {
    const bool needs_quotes = kBlanks.find(text.front()) != std::string_view::npos ||
                              kBlanks.find(text.back()) != std::string_view::npos || strip_quotes(text) != text;
    return needs_quotes ? fmt::format("\"{}\"", text) : std::string(text);
}

// A double-quoted text with \" and \\ escaped, as Words::next_quoted() reads it.
std::string quoted(std::string_view text) {
    std::string result = "\"";
    for (const char c : text) {
        if (c == '"' || c == '\\') result += '\\';
        result += c;
    }
    return result + '"';
}

using Out = std::back_insert_iterator<std::string>;

void emit_interface(Out out, const Interface& interface) {
    fmt::format_to(out, "interface {}\n", interface.name);
    if (!interface.dpdk_device.empty()) fmt::format_to(out, " dpdk-device {}\n", interface.dpdk_device);
    if (!interface.description.empty()) {
        fmt::format_to(out, " description {}\n", end_of_line_text(interface.description));
    }
    for (const auto& address : interface.addresses) fmt::format_to(out, " ip address {}\n", address.to_string());
    if (interface.default_gateway) {
        fmt::format_to(out, " ip default-gateway {}\n", interface.default_gateway->to_string());
    }
    if (interface.mtu) fmt::format_to(out, " mtu {}\n", *interface.mtu);
    fmt::format_to(out, " {}\n!\n", interface.enabled ? "enable" : "shutdown");
}

void emit_ike_policy(Out out, const IkePolicy& policy) {
    fmt::format_to(out, "ipsec ike-policy {}\n authentication {}\n", policy.id, to_string(policy.authentication));
    fmt::format_to(out, " policy {} {} {}\n", to_string(policy.encryption), to_string(policy.hash), policy.dh_group);
    fmt::format_to(out, " keylife {}\n version {}\n!\n", policy.keylife, policy.version);
}

void emit_esp_policy(Out out, const EspPolicy& policy) {
    fmt::format_to(out, "ipsec esp-policy {}\n", policy.id);
    fmt::format_to(out, " policy {}", to_string(policy.encryption));
    if (policy.hash) fmt::format_to(out, " {}", to_string(*policy.hash));
    if (policy.pfs_group) fmt::format_to(out, " {}", *policy.pfs_group);
    fmt::format_to(out, "\n keylife {}\n!\n", policy.keylife);
}

void emit_pki(Out out, const Pki& pki) {
    if (pki.empty()) return;
    fmt::format_to(out, "ipsec pki\n");
    for (const auto& ca : pki.ca_certs) fmt::format_to(out, " ca-cert {}\n", end_of_line_text(ca.file));
    if (pki.local_cert) fmt::format_to(out, " local-cert {}\n", end_of_line_text(pki.local_cert->file));
    if (pki.local_key) fmt::format_to(out, " local-key {}\n", end_of_line_text(pki.local_key->file));
    fmt::format_to(out, "!\n");
}

// An `any` peer's header carries its remote-id, which is how a second header finds it.
void emit_peer(Out out, const Peer& peer, EmitOptions options) {
    if (peer.address) {
        fmt::format_to(out, "ipsec peer {}\n", peer.address->to_string());
    } else if (!peer.remote_id.empty()) {
        fmt::format_to(out, "ipsec peer any remote-id {}\n", end_of_line_text(peer.remote_id));
    } else {
        fmt::format_to(out, "ipsec peer any\n");
    }
    if (peer.local_ip) fmt::format_to(out, " local ip {}{}\n", peer.local_ip->to_string(), peer.nated ? " nated" : "");
    if (!peer.local_id.empty()) fmt::format_to(out, " local-id {}\n", end_of_line_text(peer.local_id));
    if (!peer.local_nets.empty()) fmt::format_to(out, " local-net {}\n", network_list(peer.local_nets));
    if (peer.address && !peer.remote_id.empty()) {
        fmt::format_to(out, " remote-id {}\n", end_of_line_text(peer.remote_id));
    }
    if (peer.remote_ip_any) fmt::format_to(out, " remote-ip any\n");
    if (!peer.remote_nets.empty()) fmt::format_to(out, " remote-net {}\n", network_list(peer.remote_nets));
    if (peer.ike_policy && peer.esp_policy) {
        fmt::format_to(out, " policy ike {} esp {}\n", *peer.ike_policy, *peer.esp_policy);
    }
    if (peer.mode) fmt::format_to(out, " mode {}\n", to_string(*peer.mode));
    if (peer.dpd != 0) fmt::format_to(out, " dpd {}\n", peer.dpd);
    if (!peer.psk.empty()) {
        fmt::format_to(out, " psk {}\n", options.redact_secrets ? "********" : end_of_line_text(peer.psk));
    }
    fmt::format_to(out, "!\n");
}

void emit_snat_rule(Out out, const SnatRule& rule) {
    fmt::format_to(out, "firewall-snat {} {} outbound {}", rule.rule, to_string(rule.action), rule.interface);
    if (rule.protocol) fmt::format_to(out, " {}", to_string(*rule.protocol));
    if (!rule.src.empty()) fmt::format_to(out, " src {}", network_list(rule.src));
    if (!rule.dst.empty()) fmt::format_to(out, " dst {}", network_list(rule.dst));
    if (rule.xsrc) fmt::format_to(out, " xsrc {}", rule.xsrc->to_string());
    if (!rule.remark.empty()) fmt::format_to(out, " remark {}", quoted(rule.remark));
    fmt::format_to(out, "\n");
}

// Only what differs from the defaults, so a configuration without NAT tuning says nothing.
void emit_nat_settings(Out out, const NatSettings& nat) {
    const NatSettings defaults;
    if (nat.sessions != defaults.sessions) fmt::format_to(out, "firewall-nat sessions {}\n", nat.sessions);
    if (nat.port_first != defaults.port_first || nat.port_last != defaults.port_last)
        fmt::format_to(out, "firewall-nat port-range {}-{}\n", nat.port_first, nat.port_last);
    const std::pair<const char*, uint32_t NatTimeouts::*> timeouts[] = {
        {"tcp-established", &NatTimeouts::tcp_established}, {"tcp-transitory", &NatTimeouts::tcp_transitory},
        {"udp", &NatTimeouts::udp}, {"icmp", &NatTimeouts::icmp}, {"other", &NatTimeouts::other}};
    for (const auto& [word, field] : timeouts)
        if (nat.timeouts.*field != defaults.timeouts.*field)
            fmt::format_to(out, "firewall-nat timeout {} {}\n", word, nat.timeouts.*field);
    if (!(nat == defaults)) fmt::format_to(out, "!\n");
}

}  // namespace

ParseResult parse_mbox(std::string_view text, std::string_view file) {
    return MboxParser(file).parse(text);
}

std::string emit_mbox(const Config& config, EmitOptions options) {
    std::string text;
    const Out out(text);
    for (const auto& interface : config.interfaces) emit_interface(out, interface);
    for (const auto& route : config.routes) {
        fmt::format_to(out, "ip route {} nexthop {}\n", route.prefix.to_string(), route.nexthop.to_string());
    }
    if (!config.routes.empty()) fmt::format_to(out, "!\n");
    for (const auto& [id, policy] : config.ike_policies) emit_ike_policy(out, policy);
    for (const auto& [id, policy] : config.esp_policies) emit_esp_policy(out, policy);
    emit_pki(out, config.pki);
    for (const auto& peer : config.peers) emit_peer(out, peer, options);
    for (const auto& sa : config.manual_sas) emit_manual_sa(text, sa, options);
    for (const auto& rule : config.snat_rules) emit_snat_rule(out, rule);
    if (!config.snat_rules.empty()) fmt::format_to(out, "!\n");
    emit_nat_settings(out, config.nat);
    if (config.ipsec_stopped_traffic != StoppedTraffic::Drop)  // only what differs from the default
        fmt::format_to(out, "ipsec stopped-traffic {}\n", to_string(config.ipsec_stopped_traffic));
    fmt::format_to(out, "ipsec {}\n", config.ipsec_enabled ? "start" : "stop");
    return text;
}

}  // namespace mbox::config
