// The words of the mbox language, shared by the parser's files: the cursor over one
// line, the argument readers that report what is wrong with file:line, and the
// small writing helpers the emitters share. Internal to config/.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "config/diagnostic.hpp"
#include "config/model.hpp"
#include "config/value_parsing.hpp"

namespace mbox::config::mbox_syntax {

inline constexpr std::string_view kBlanks = " \t";

using Keywords = std::span<const std::string_view>;

std::string_view trim(std::string_view text);

// Free text at the end of a line (description, psk, identities): surrounding double
// quotes are optional and stripped, so the text may keep leading or trailing blanks.
std::string_view strip_quotes(std::string_view text);

bool is_digits(std::string_view text);

// Keywords and algorithm words are accepted in any case.
inline bool is(std::string_view word, std::string_view keyword) { return equals_ignoring_case(word, keyword); }

// "10.1.0.0/24,10.3.0.0/24", as parse_network_list reads it.
std::string network_list(const std::vector<Ipv4Prefix>& networks);

// A cursor over the blank-separated words of one line. consumed() is the text read
// since the current command began, so messages can say "missing MTU after 'mtu'".
class Words {
public:
    explicit Words(std::string_view line) : line_(line) {}

    bool at_end() const { return start_of_next_word() == line_.size(); }

    std::string_view peek() const {
        const size_t start = start_of_next_word();
        return line_.substr(start, end_of_word(start) - start);
    }

    // The next word, or "" at the end of the line.
    std::string_view next() {
        const size_t start = start_of_next_word();
        position_ = end_of_word(start);
        return line_.substr(start, position_ - start);
    }

    // Everything left on the line, trimmed.
    std::string_view rest() {
        const std::string_view text = trim(line_.substr(position_));
        position_ = line_.size();
        return text;
    }

    // A double-quoted text (with \" and \\ escapes) or a plain word; nullopt when the
    // closing quote is missing.
    std::optional<std::string> next_quoted();

    void begin_command() { command_start_ = position_; }
    std::string_view consumed() const { return trim(line_.substr(command_start_, position_ - command_start_)); }

private:
    size_t start_of_next_word() const {
        const size_t start = line_.find_first_not_of(kBlanks, position_);
        return start == std::string_view::npos ? line_.size() : start;
    }
    size_t end_of_word(size_t start) const {
        const size_t end = line_.find_first_of(kBlanks, start);
        return end == std::string_view::npos ? line_.size() : end;
    }

    std::string_view line_;
    size_t position_ = 0;
    size_t command_start_ = 0;
};

// Reads the arguments of commands, one line at a time, and collects what is wrong
// with them. Each expect_* reports the problem at the current line and returns
// nothing (or false) then.
class LineReader {
public:
    explicit LineReader(std::string_view file) : file_(file) {}

    std::optional<std::string_view> expect_word(Words& words, std::string_view what);
    // The rest of the line as free text; surrounding quotes stripped.
    std::optional<std::string> expect_text(Words& words, std::string_view what);
    std::optional<std::string> expect_quoted(Words& words, std::string_view what);
    bool expect_word_ahead(Words& words, std::string_view what);

    // Reads a word and converts it with `parse` (a value_parsing function).
    template <typename ParseWord>
    auto expect_value(Words& words, std::string_view what, ParseWord parse)
        -> std::optional<std::remove_cvref_t<decltype(*parse(std::string_view{}))>> {
        const auto word = expect_word(words, what);
        if (!word) return std::nullopt;
        const auto parsed = parse(*word);
        if (!parsed) {
            error(parsed.error());
            return std::nullopt;
        }
        return *parsed;
    }

    std::optional<int> expect_number(Words& words, std::string_view what, NumberRange range);
    std::optional<Ipv4Address> expect_address(Words& words, std::string_view what);
    std::optional<Ipv4Prefix> expect_prefix(Words& words, std::string_view what);
    std::optional<std::vector<Ipv4Prefix>> expect_networks(Words& words, std::string_view context);
    std::optional<int> expect_dh_group(Words& words, std::string_view what);
    // The next word must be the only keyword in `expected`.
    bool expect_keyword(Words& words, Keywords expected);
    bool expect_end(Words& words);

    // Always false, so a sub-command can `return unknown_keyword(...)`.
    bool unknown_keyword(std::string_view keyword, std::string_view context, Keywords expected);
    bool given_twice(std::string_view what);

    SourceLocation here() const { return SourceLocation{file_, line_number_, {}}; }
    void error(std::string message);

protected:
    void next_line() { ++line_number_; }
    Diagnostics take_diagnostics() { return std::move(diagnostics_); }

private:
    std::string file_;
    int line_number_ = 0;
    Diagnostics diagnostics_;
};

// ---- storing what was read; each returns whether there was a value ----

template <typename Field, typename Value>
bool set(Field& field, const std::optional<Value>& value) {
    if (value) field = *value;
    return value.has_value();
}

template <typename Field>
bool set(Field& field, bool value) {
    field = value;
    return true;
}

inline bool append(std::vector<Ipv4Prefix>& list, const std::optional<std::vector<Ipv4Prefix>>& more) {
    if (more) list.insert(list.end(), more->begin(), more->end());
    return more.has_value();
}

}  // namespace mbox::config::mbox_syntax
