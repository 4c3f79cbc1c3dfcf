// The words of the mbox language: reading a line's arguments, with the messages.
#include "config/mbox_syntax.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace mbox::config::mbox_syntax {

std::string_view trim(std::string_view text) {
    const size_t first = text.find_first_not_of(kBlanks);
    if (first == std::string_view::npos) return {};
    return text.substr(first, text.find_last_not_of(kBlanks) - first + 1);
}

std::string_view strip_quotes(std::string_view text) {
    if (text.size() >= 2 && text.front() == '"' && text.back() == '"') return text.substr(1, text.size() - 2);
    return text;
}

bool is_digits(std::string_view text) {
    return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
}

std::string network_list(const std::vector<Ipv4Prefix>& networks) {
    std::string text;
    for (const auto& network : networks) text += (text.empty() ? "" : ",") + network.to_string();
    return text;
}

std::optional<std::string> Words::next_quoted() {
    if (!peek().starts_with('"')) return std::string(next());
    std::string text;
    for (size_t at = start_of_next_word() + 1; at < line_.size(); ++at) {
        char c = line_[at];
        if (c == '"') {
            position_ = at + 1;
            return text;
        }
        if (c == '\\' && at + 1 < line_.size() && (line_[at + 1] == '"' || line_[at + 1] == '\\')) c = line_[++at];
        text += c;
    }
    return std::nullopt;
}

std::optional<std::string_view> LineReader::expect_word(Words& words, std::string_view what) {
    if (words.at_end()) {
        error(fmt::format("missing {} after '{}'", what, words.consumed()));
        return std::nullopt;
    }
    return words.next();
}

std::optional<std::string> LineReader::expect_text(Words& words, std::string_view what) {
    const std::string context{words.consumed()};
    const std::string_view text = strip_quotes(words.rest());
    if (text.empty()) {
        error(fmt::format("missing {} after '{}'", what, context));
        return std::nullopt;
    }
    return std::string(text);
}

std::optional<std::string> LineReader::expect_quoted(Words& words, std::string_view what) {
    if (!expect_word_ahead(words, what)) return std::nullopt;
    const std::string context{words.consumed()};
    auto text = words.next_quoted();
    if (!text) error(fmt::format("missing closing quote in the text after '{}'", context));
    return text;
}

bool LineReader::expect_word_ahead(Words& words, std::string_view what) {
    if (!words.at_end()) return true;
    error(fmt::format("missing {} after '{}'", what, words.consumed()));
    return false;
}

std::optional<int> LineReader::expect_number(Words& words, std::string_view what, NumberRange range) {
    const auto parse = [&](std::string_view text) { return parse_number(text, what, range); };
    const auto number = expect_value(words, what, parse);
    if (!number) return std::nullopt;
    return static_cast<int>(*number);
}

std::optional<Ipv4Address> LineReader::expect_address(Words& words, std::string_view what) {
    return expect_value(words, what, parse_address);
}

std::optional<Ipv4Prefix> LineReader::expect_prefix(Words& words, std::string_view what) {
    return expect_value(words, what, parse_prefix);
}

std::optional<std::vector<Ipv4Prefix>> LineReader::expect_networks(Words& words, std::string_view context) {
    return expect_value(words, "networks (P[,P...])", [&](std::string_view text) {
        return parse_network_list(text, context);
    });
}

std::optional<int> LineReader::expect_dh_group(Words& words, std::string_view what) {
    return expect_value(words, what, [&](std::string_view text) { return parse_dh_group(text, what); });
}

bool LineReader::expect_keyword(Words& words, Keywords expected) {
    const std::string context{words.consumed()};
    if (words.at_end()) {
        error(fmt::format("missing '{}' after '{}'", expected.front(), context));
        return false;
    }
    const std::string_view keyword = words.next();
    return is(keyword, expected.front()) || unknown_keyword(keyword, context, expected);
}

bool LineReader::expect_end(Words& words) {
    if (words.at_end()) return true;
    const std::string context{words.consumed()};
    error(fmt::format("extra argument '{}' after '{}'", words.next(), context));
    return false;
}

bool LineReader::unknown_keyword(std::string_view keyword, std::string_view context, Keywords expected) {
    const std::string after = context.empty() ? "" : fmt::format(" after '{}'", context);
    const std::string choices = fmt::format("{}", fmt::join(expected, ", "));
    if (keyword.empty()) {
        error(fmt::format("missing keyword{} (expected one of: {})", after, choices));
    } else {
        error(fmt::format("unknown keyword '{}'{} (expected one of: {})", keyword, after, choices));
    }
    return false;
}

bool LineReader::given_twice(std::string_view what) {
    error(fmt::format("{} given twice", what));
    return false;
}

void LineReader::error(std::string message) {
    diagnostics_.push_back(Diagnostic{Severity::Error, here(), std::move(message)});
}

}  // namespace mbox::config::mbox_syntax
