// The operational commands `mbox` can send to `mboxd`, and how typed words are matched
// against them (exact keywords or unambiguous prefixes, as on the appliance's CLI).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace mbox::control {

struct CommandSpec {
    // Fixed keywords, then placeholders: "<addr>" (required) or "[<addr>]" (optional).
    std::vector<std::string_view> words;
    std::string_view help;
};

// Every command mboxd serves. A plain table: add a row to add a command.
std::span<const CommandSpec> command_table();

// The fixed keywords joined by ' ': "show ip route". Unique within a table.
std::string command_key(const CommandSpec&);

struct CommandMatch {
    const CommandSpec* spec = nullptr;  // points into the table that was matched
    std::vector<std::string> args;      // one per placeholder given, in order
};

// Matches typed words against a table. On failure the string says what was expected:
//   "unknown command 'show foo' (expected one of: arp, dataplane, ...)"
//   "incomplete command 'show ip' (expected: route)"
//   "ambiguous command 'show i' (could be: interfaces, ip)"
std::variant<CommandMatch, std::string> match_command(std::span<const CommandSpec> table,
                                                      std::span<const std::string> words);
std::variant<CommandMatch, std::string> match_command(std::span<const std::string> words);

// Keywords that complete `partial`, given the words typed before it; sorted, unique.
// Placeholders are not completed (an address cannot be guessed).
std::vector<std::string> complete(std::span<const CommandSpec> table,
                                  std::span<const std::string> before, std::string_view partial);
std::vector<std::string> complete(std::span<const std::string> before, std::string_view partial);

// For `?`: each possible next word (keyword, placeholder, or "<cr>" when the words so far
// already form a command) with its help text. Empty when `before` matches nothing.
std::vector<std::pair<std::string, std::string>> describe_next(
    std::span<const CommandSpec> table, std::span<const std::string> before);
std::vector<std::pair<std::string, std::string>> describe_next(
    std::span<const std::string> before);

// Splits a command line into words at runs of blanks.
std::vector<std::string> split_words(std::string_view line);

}  // namespace mbox::control
