#include "control/command_table.hpp"

#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "config/printable_text.hpp"

namespace mbox::control {

std::span<const CommandSpec> command_table() {
    // Function-local so that no other static initializer can see it half-built.
    static const CommandSpec table[] = {
        {{"show", "interfaces"}, "Interfaces: link state, addresses, packet counters"},
        {{"show", "ip", "route"}, "IPv4 routing table"},
        {{"show", "arp"}, "ARP (neighbour) table"},
        {{"show", "dataplane", "counters"}, "Per-worker data-plane counters and drop reasons"},
        {{"show", "running-config"}, "Configuration in effect (secrets redacted)"},
        {{"show", "ipsec", "sa"}, "IPsec SAs: SPI, algorithms, packets, bytes, drops by reason (never keys)"},
        {{"show", "ipsec", "status"}, "IPsec peers: state, networks, traffic, uptime, IKE and ESP algorithms"},
        {{"show", "ipsec", "peer", "[<peer>]"}, "IKE and CHILD SAs of a peer (or all): SPIs, algorithms, NAT-T, lifetimes"},
        {{"show", "ipsec", "log", "[<peer>]"}, "Recent IKE events, with why a negotiation failed"},
        {{"clear", "ipsec", "peer", "<peer>"}, "Delete a peer's SAs and negotiate again"},
        {{"ipsec", "start"}, "Start IPsec: install manual SAs, bring every peer up"},
        {{"configure", "<file>"}, "Apply a configuration file: only what changed is touched"},
        {{"ipsec", "stop"}, "Stop IPsec: DELETE to every peer, remove every SA"},
        {{"show", "firewall", "snat"}, "Source-NAT rules in order, with the packets each decided"},
        {{"show", "nat", "sessions"}, "NAT mappings: inside, outside and remote endpoints, state, expiry"},
        {{"show", "version"}, "mboxd and DPDK versions, uptime"},
        {{"clear", "dataplane", "counters"}, "Reset the data-plane counters"},
        {{"clear", "nat", "sessions"}, "Forget every NAT mapping (open connections through PAT break)"},
    };
    return table;
}

namespace {

// Help for keywords that lead to further words; a command's last keyword uses the
// command's own help.
struct KeywordHelp {
    std::string_view word;
    std::string_view help;
};

constexpr KeywordHelp kKeywordHelp[] = {
    {"show", "Show operational state"},
    {"clear", "Reset operational state"},
    {"ip", "IPv4 state"},
    {"dataplane", "Data-plane workers"},
    {"ipsec", "IPsec: start and stop the service, its state"},
    {"firewall", "Firewall rules"},
    {"nat", "NAT state"},
};

constexpr std::string_view kEndOfCommand = "<cr>";

bool is_placeholder(std::string_view word) {
    return !word.empty() && (word.front() == '<' || word.front() == '[');
}

size_t fixed_count(const CommandSpec& spec) {
    auto first = std::find_if(spec.words.begin(), spec.words.end(), is_placeholder);
    return static_cast<size_t>(first - spec.words.begin());
}

size_t placeholder_count(const CommandSpec& spec) {
    return spec.words.size() - fixed_count(spec);
}

size_t required_count(const CommandSpec& spec) {
    return static_cast<size_t>(std::count_if(spec.words.begin(), spec.words.end(),
                                             [](std::string_view w) { return w.starts_with('<'); }));
}

template <typename Words>
std::string join(const Words& words, std::string_view separator) {
    std::string out;
    for (const auto& word : words) {
        if (!out.empty()) out += separator;
        out += word;
    }
    return out;
}

// The words an error quotes back: escaped, since a control character typed or piped in
// must not reach the operator's terminal raw.
std::string typed(std::span<const std::string> words, size_t count) {
    return config::printable_text(join(words.first(std::min(count, words.size())), " "));
}

std::string expected(const std::vector<std::string>& options) {
    if (options.size() == 1) return fmt::format("expected: {}", options.front());
    return fmt::format("expected one of: {}", join(options, ", "));
}

void sort_unique(std::vector<std::string>& words) {
    std::sort(words.begin(), words.end());
    words.erase(std::unique(words.begin(), words.end()), words.end());
}

// Where matching stands after some of the typed words.
struct Walk {
    std::vector<const CommandSpec*> candidates;  // commands still possible
    size_t depth = 0;                            // fixed keywords consumed so far
    std::vector<std::string> args;               // arguments consumed (one candidate left)
};

Walk start(std::span<const CommandSpec> table) {
    Walk walk;
    for (const CommandSpec& spec : table) walk.candidates.push_back(&spec);
    return walk;
}

std::vector<std::string> next_keywords(const Walk& walk) {
    std::vector<std::string> keywords;
    for (const CommandSpec* spec : walk.candidates) {
        if (fixed_count(*spec) > walk.depth) keywords.emplace_back(spec->words[walk.depth]);
    }
    sort_unique(keywords);
    return keywords;
}

// The candidate whose keywords have all been typed, if any (keys are unique, so at most one).
const CommandSpec* complete_spec(const Walk& walk) {
    for (const CommandSpec* spec : walk.candidates) {
        if (fixed_count(*spec) == walk.depth) return spec;
    }
    return nullptr;
}

// An exact keyword wins; otherwise every keyword `word` is a prefix of.
std::vector<std::string> keywords_for(const std::vector<std::string>& keywords,
                                      std::string_view word) {
    if (std::find(keywords.begin(), keywords.end(), word) != keywords.end()) return {std::string(word)};
    std::vector<std::string> matches;
    for (const std::string& keyword : keywords) {
        if (keyword.starts_with(word)) matches.push_back(keyword);
    }
    return matches;
}

void descend(Walk& walk, std::string_view keyword) {
    std::erase_if(walk.candidates, [&](const CommandSpec* spec) {
        return fixed_count(*spec) <= walk.depth || spec->words[walk.depth] != keyword;
    });
    ++walk.depth;
}

std::string no_more_arguments(const CommandSpec& spec, std::string_view argument) {
    const std::string word = config::printable_text(argument);
    size_t most = placeholder_count(spec);
    if (most == 0) {
        return fmt::format("unexpected argument '{}' ('{}' takes no arguments)", word, command_key(spec));
    }
    return fmt::format("unexpected argument '{}' ('{}' takes at most {} argument{})", word,
                       command_key(spec), most, most == 1 ? "" : "s");
}

// `words[i]` matched no keyword: it is an argument of the command typed so far, or an error.
std::optional<std::string> take_argument(Walk& walk, std::span<const std::string> words, size_t i) {
    const CommandSpec* spec = complete_spec(walk);
    auto keywords = next_keywords(walk);
    if (spec != nullptr && walk.args.size() < placeholder_count(*spec)) {
        walk.candidates = {spec};
        walk.args.push_back(words[i]);
        return std::nullopt;
    }
    if (spec != nullptr && keywords.empty()) return no_more_arguments(*spec, words[i]);
    return fmt::format("unknown command '{}' ({})", typed(words, i + 1), expected(keywords));
}

std::optional<std::string> step(Walk& walk, std::span<const std::string> words, size_t i) {
    auto matches = keywords_for(next_keywords(walk), words[i]);
    if (matches.size() == 1) {
        descend(walk, matches.front());
        return std::nullopt;
    }
    if (matches.size() > 1) {
        return fmt::format("ambiguous command '{}' (could be: {})", typed(words, i + 1),
                           join(matches, ", "));
    }
    return take_argument(walk, words, i);
}

std::variant<Walk, std::string> walk_words(std::span<const CommandSpec> table,
                                           std::span<const std::string> words) {
    Walk walk = start(table);
    for (size_t i = 0; i < words.size(); ++i) {
        if (auto error = step(walk, words, i)) return *std::move(error);
    }
    return walk;
}

// What could follow when the typed words stop short of a command.
std::vector<std::string> missing(const Walk& walk) {
    std::vector<std::string> options = next_keywords(walk);
    if (const CommandSpec* spec = complete_spec(walk)) {
        options.emplace_back(spec->words[walk.depth + walk.args.size()]);
    }
    return options;
}

std::string help_for(const Walk& walk, std::string_view keyword) {
    for (const CommandSpec* spec : walk.candidates) {
        if (fixed_count(*spec) == walk.depth + 1 && spec->words[walk.depth] == keyword) {
            return std::string(spec->help);
        }
    }
    for (const KeywordHelp& entry : kKeywordHelp) {
        if (entry.word == keyword) return std::string(entry.help);
    }
    return {};
}

}  // namespace

std::string command_key(const CommandSpec& spec) {
    return join(std::span(spec.words).first(fixed_count(spec)), " ");
}

std::variant<CommandMatch, std::string> match_command(std::span<const CommandSpec> table,
                                                      std::span<const std::string> words) {
    auto walked = walk_words(table, words);
    if (auto* error = std::get_if<std::string>(&walked)) return *error;
    Walk& walk = std::get<Walk>(walked);
    const CommandSpec* spec = complete_spec(walk);
    if (spec != nullptr && walk.args.size() >= required_count(*spec)) {
        return CommandMatch{spec, std::move(walk.args)};
    }
    if (words.empty()) return fmt::format("empty command ({})", expected(missing(walk)));
    return fmt::format("incomplete command '{}' ({})", typed(words, words.size()),
                       expected(missing(walk)));
}

std::variant<CommandMatch, std::string> match_command(std::span<const std::string> words) {
    return match_command(command_table(), words);
}

std::vector<std::string> complete(std::span<const CommandSpec> table,
                                  std::span<const std::string> before, std::string_view partial) {
    auto walked = walk_words(table, before);
    if (!std::holds_alternative<Walk>(walked)) return {};
    std::vector<std::string> keywords = next_keywords(std::get<Walk>(walked));
    std::erase_if(keywords, [&](const std::string& k) { return !k.starts_with(partial); });
    return keywords;
}

std::vector<std::string> complete(std::span<const std::string> before, std::string_view partial) {
    return complete(command_table(), before, partial);
}

std::vector<std::pair<std::string, std::string>> describe_next(
    std::span<const CommandSpec> table, std::span<const std::string> before) {
    auto walked = walk_words(table, before);
    if (!std::holds_alternative<Walk>(walked)) return {};
    const Walk& walk = std::get<Walk>(walked);
    std::vector<std::pair<std::string, std::string>> next;
    for (const std::string& keyword : next_keywords(walk)) {
        next.emplace_back(keyword, help_for(walk, keyword));
    }
    if (const CommandSpec* spec = complete_spec(walk)) {
        if (walk.args.size() < placeholder_count(*spec)) {
            next.emplace_back(spec->words[walk.depth + walk.args.size()], spec->help);
        }
        if (walk.args.size() >= required_count(*spec)) next.emplace_back(kEndOfCommand, spec->help);
    }
    return next;
}

std::vector<std::pair<std::string, std::string>> describe_next(
    std::span<const std::string> before) {
    return describe_next(command_table(), before);
}

std::vector<std::string> split_words(std::string_view line) {
    std::vector<std::string> words;
    constexpr std::string_view blanks = " \t\r\n";
    size_t pos = line.find_first_not_of(blanks);
    while (pos != std::string_view::npos) {
        size_t end = line.find_first_of(blanks, pos);
        words.emplace_back(line.substr(pos, end == std::string_view::npos ? end : end - pos));
        pos = line.find_first_not_of(blanks, end);
    }
    return words;
}

}  // namespace mbox::control
