// mbox: the command-line client of mboxd.
//   mbox [--socket PATH] [--json] WORDS...        one command, answer on stdout
//   mbox [--socket PATH] [--json]                 interactive shell (or commands piped on stdin)
//   mbox config convert FILE --to yaml|mbox       offline: print FILE in the other form
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <filesystem>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <CLI/CLI.hpp>
#include <histedit.h>
#include <fmt/format.h>

#include "config/load.hpp"
#include "config/mbox_language.hpp"
#include "config/yaml_form.hpp"
#include "control/command_client.hpp"
#include "control/command_table.hpp"

#ifndef MBOX_VERSION
#define MBOX_VERSION "unknown"
#endif

namespace {

using mbox::control::CommandClient;
using mbox::control::Reply;
using mbox::control::Request;

constexpr const char* kPrompt = "mbox> ";
constexpr int kHistoryLines = 1000;

struct Options {
    std::string socket = mbox::control::kDefaultSocketPath;
    bool json = false;
    std::vector<std::string> words;
    std::string convert_file;
    std::string convert_to;
};

void print_error(std::string_view message) { std::cerr << "% " << message << '\n'; }

// Prints an answer for people (text) or tools (data); errors go to stderr. True when ok.
bool print_reply(const std::variant<Reply, std::string>& result, bool json) {
    if (const auto* error = std::get_if<std::string>(&result)) {
        print_error(*error);
        return false;
    }
    const Reply& reply = std::get<Reply>(result);
    if (!reply.ok) {
        print_error(reply.error);
        return false;
    }
    if (json) {
        // A command without structured data still answers valid JSON.
        nlohmann::json data = reply.data.is_null() ? nlohmann::json{{"text", reply.text}} : reply.data;
        std::cout << data.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    } else {
        std::cout << reply.text;
        if (!reply.text.empty() && reply.text.back() != '\n') std::cout << '\n';
    }
    std::cout.flush();
    return true;
}

// One connection for a whole session. The client connects again when mboxd closed it
// (an idle shell is timed out after a few minutes; mboxd restarted) or a call failed. A
// failed command is not sent again, since it may have been carried out, unless mboxd
// closed the connection before reading it.
class Session {
   public:
    Session(CommandClient client, bool json) : client_(std::move(client)), json_(json) {}

    bool run(const std::string& command) {
        return print_reply(client_.call(Request{absolute_file(command), json_}), json_);
    }

    // `configure FILE`: mboxd reads the file from its own working directory, so a
    // relative name is made absolute here, where the operator typed it.
    static std::string absolute_file(const std::string& command) {
        auto words = mbox::control::split_words(command);
        if (words.size() != 2 || words[0] != "configure" || words[1].starts_with('/')) return command;
        std::error_code ec;
        const auto path = std::filesystem::absolute(words[1], ec);
        return ec ? command : "configure " + path.string();
    }

   private:
    CommandClient client_;
    bool json_;
};

bool is_exit(const std::vector<std::string>& words) {
    return words.size() == 1 && (words[0] == "exit" || words[0] == "quit");
}

// ---- interactive shell (libedit) -------------------------------------------------------
//
// libedit's native API rather than its readline layer: there rl_bind_key() binds nothing
// but rl_insert, and rl_add_defun() functions cannot ask for a redraw. Here a bound
// function returns what to redraw (CC_REFRESH, CC_REDISPLAY).

struct EditLineDeleter {
    void operator()(EditLine* el) const { el_end(el); }
};
struct HistoryDeleter {
    void operator()(History* history) const { history_end(history); }
};
using EditLinePtr = std::unique_ptr<EditLine, EditLineDeleter>;
using HistoryPtr = std::unique_ptr<History, HistoryDeleter>;

// The line up to the cursor: the words before the one being typed, and that one ("" after
// a blank).
struct WordsAtCursor {
    std::vector<std::string> before;
    std::string partial;
};

WordsAtCursor words_at_cursor(EditLine* el) {
    const LineInfo* line = el_line(el);
    std::string_view typed(line->buffer, static_cast<size_t>(line->cursor - line->buffer));
    size_t cut = typed.find_last_of(" \t");
    size_t start = cut == std::string_view::npos ? 0 : cut + 1;
    return {mbox::control::split_words(typed.substr(0, start)), std::string(typed.substr(start))};
}

// Prints what may come next at the cursor, with help, below the line being edited.
void list_next(const WordsAtCursor& at) {
    auto next = mbox::control::describe_next(at.before);
    std::erase_if(next, [&](const auto& entry) { return !entry.first.starts_with(at.partial); });
    std::string listing = "\n";
    if (next.empty()) listing += "% no command matches\n";
    for (const auto& [word, help] : next) listing += fmt::format("  {:<18} {}\n", word, help);
    std::fputs(listing.c_str(), stdout);
    std::fflush(stdout);
}

std::string_view common_prefix(const std::vector<std::string>& words) {
    std::string_view prefix = words.front();
    for (std::string_view word : words) {
        size_t n = 0;
        while (n < prefix.size() && n < word.size() && prefix[n] == word[n]) ++n;
        prefix = prefix.substr(0, n);
    }
    return prefix;
}

// `?`: lists the possible next words; the line is then drawn again below the list.
unsigned char describe_key(EditLine* el, int /*key*/) {
    list_next(words_at_cursor(el));
    return CC_REDISPLAY;
}

// Tab: completes the keyword at the cursor as far as it is unambiguous, with a blank after
// a whole word; when that adds nothing, lists the candidates as `?` does.
unsigned char complete_key(EditLine* el, int /*key*/) {
    WordsAtCursor at = words_at_cursor(el);
    auto options = mbox::control::complete(at.before, at.partial);
    if (options.empty()) return CC_ERROR;  // rings the bell
    std::string insert(common_prefix(options).substr(at.partial.size()));
    if (options.size() == 1) insert += ' ';
    if (insert.empty()) {
        list_next(at);
        return CC_REDISPLAY;
    }
    return el_insertstr(el, insert.c_str()) == 0 ? CC_REFRESH : CC_ERROR;
}

const char* prompt(EditLine* /*el*/) { return kPrompt; }

std::string history_path() {
    const char* home = std::getenv("HOME");
    return home != nullptr && *home != '\0' ? std::string(home) + "/.mbox_history" : std::string();
}

HistoryPtr open_history(const std::string& path) {
    HistoryPtr history(history_init());
    HistEvent event;
    ::history(history.get(), &event, H_SETSIZE, kHistoryLines);
    ::history(history.get(), &event, H_SETUNIQUE, 1);
    if (!path.empty()) ::history(history.get(), &event, H_LOAD, path.c_str());
    return history;
}

EditLinePtr open_editor(History* history) {
    EditLinePtr el(el_init("mbox", stdin, stdout, stderr));
    el_set(el.get(), EL_EDITOR, "emacs");
    el_set(el.get(), EL_SIGNAL, 1);
    el_set(el.get(), EL_PROMPT, prompt);
    el_set(el.get(), EL_HIST, ::history, history);
    // The wide form: libedit keeps these pointers, where the narrow form leaks a copy.
    el_wset(el.get(), EL_ADDFN, L"mbox-complete", L"Complete the command word", complete_key);
    el_wset(el.get(), EL_ADDFN, L"mbox-describe", L"List the possible next words", describe_key);
    el_set(el.get(), EL_BIND, "^I", "mbox-complete", nullptr);
    el_set(el.get(), EL_BIND, "?", "mbox-describe", nullptr);
    el_source(el.get(), nullptr);  // ~/.editrc, as every libedit program does
    return el;
}

int run_tty_shell(Session& session) {
    const std::string path = history_path();
    HistoryPtr history = open_history(path);
    EditLinePtr el = open_editor(history.get());
    HistEvent event;
    int count = 0;
    while (const char* raw = el_gets(el.get(), &count)) {
        std::string line(raw, static_cast<size_t>(std::max(count, 0)));
        auto words = mbox::control::split_words(line);
        if (words.empty()) continue;
        line.erase(line.find_last_not_of(" \t\r\n") + 1);  // history keeps the words only
        ::history(history.get(), &event, H_ENTER, line.c_str());
        if (!path.empty()) ::history(history.get(), &event, H_SAVE, path.c_str());
        if (is_exit(words)) return 0;
        session.run(line);
    }
    std::cout << '\n';  // EOF (^D) leaves the cursor after the prompt
    return 0;
}

// Commands piped on stdin: no prompt, no echo, only answers. Fails if any command failed.
int run_piped_shell(Session& session) {
    bool all_ok = true;
    std::string line;
    while (std::getline(std::cin, line)) {
        auto words = mbox::control::split_words(line);
        if (words.empty() || words[0].starts_with('#')) continue;
        if (is_exit(words)) break;
        all_ok = session.run(line) && all_ok;
    }
    return all_ok ? 0 : 1;
}

// ---- modes ---------------------------------------------------------------------------

std::string join_words(const std::vector<std::string>& words) {
    std::string line;
    for (const std::string& word : words) line += (line.empty() ? "" : " ") + word;
    return line;
}

int run_online(const Options& options) {
    auto connected = CommandClient::connect(options.socket);
    if (auto* error = std::get_if<std::string>(&connected)) {
        print_error(*error);
        return 1;
    }
    Session session(std::move(std::get<CommandClient>(connected)), options.json);
    if (!options.words.empty()) return session.run(join_words(options.words)) ? 0 : 1;
    return ::isatty(STDIN_FILENO) ? run_tty_shell(session) : run_piped_shell(session);
}

int run_convert(const Options& options) {
    namespace config = mbox::config;
    config::ParseResult loaded = config::load_file(options.convert_file);
    for (const config::Diagnostic& diagnostic : loaded.diagnostics) {
        std::cerr << diagnostic.to_string() << '\n';
    }
    if (config::has_errors(loaded.diagnostics)) return 1;
    std::cout << (options.convert_to == "yaml" ? config::emit_yaml(loaded.config)
                                               : config::emit_mbox(loaded.config));
    return 0;
}

// Binds the options to `options`; returns the `config convert` subcommand.
CLI::App* define_options(CLI::App& app, Options& options) {
    app.add_option("--socket", options.socket, "mboxd's command socket")
        ->envname("MBOX_SOCKET")
        ->capture_default_str();
    app.add_flag("--json", options.json, "Print answers as JSON (for tools)");
    app.set_version_flag("--version", std::string("mbox ") + MBOX_VERSION);
    CLI::App* config = app.add_subcommand("config", "Offline configuration tools");
    config->require_subcommand(1);
    CLI::App* convert = config->add_subcommand("convert", "Print a configuration file in the other form");
    convert->add_option("FILE", options.convert_file, "Configuration file (.yaml/.yml: YAML)")->required();
    convert->add_option("--to", options.convert_to, "Output form")
        ->required()
        ->check(CLI::IsMember({"yaml", "mbox"}));
    // Words after the options are the command, passed through untouched. Set after the
    // subcommands exist, since they would inherit it.
    app.prefix_command();
    app.footer("Commands: mbox [OPTIONS] WORDS...   e.g. mbox show interfaces, mbox sh ip route\n"
               "With no words, mbox reads commands interactively (or one per line from a pipe);\n"
               "type ? in the shell for the possible next words.");
    return convert;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app("mbox: operate the mboxd IPsec gateway", "mbox");
    Options options;
    CLI::App* convert = define_options(app, options);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    if (convert->parsed()) return run_convert(options);
    for (const std::string& word : app.remaining()) {
        if (word == "--json") {
            options.json = true;  // also accepted after the words: `mbox show arp --json`
        } else if (word.starts_with("--")) {
            print_error(fmt::format("unknown option '{}' (see mbox --help)", word));
            return 1;
        } else {
            options.words.push_back(word);
        }
    }
    return run_online(options);
}
