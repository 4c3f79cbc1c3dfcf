// mbox: the command-line client of mboxd.
//   mbox [--socket PATH] [--json] WORDS...        one command, answer on stdout
//   mbox [--socket PATH] [--json]                 interactive shell (or commands piped on stdin)
//   mbox config convert FILE --to yaml|mbox       offline: print FILE in the other form
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <editline/readline.h>
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

// One connection for a whole session; reconnects once if mboxd went away in between.
class Session {
   public:
    Session(CommandClient client, bool json) : client_(std::move(client)), json_(json) {}

    bool run(const std::string& command) {
        if (!client_.connected()) {
            auto fresh = CommandClient::connect(client_.path());
            if (auto* error = std::get_if<std::string>(&fresh)) {
                print_error(*error);
                return false;
            }
            client_ = std::move(std::get<CommandClient>(fresh));
        }
        return print_reply(client_.call(Request{command, json_}), json_);
    }

   private:
    CommandClient client_;
    bool json_;
};

bool is_exit(const std::vector<std::string>& words) {
    return words.size() == 1 && (words[0] == "exit" || words[0] == "quit");
}

// ---- interactive shell (libedit) -------------------------------------------------------

// libedit frees what completion returns with free(): allocate with malloc/strdup.
char* copy_c_string(std::string_view text) {
    char* copy = static_cast<char*>(std::malloc(text.size() + 1));
    std::memcpy(copy, text.data(), text.size());
    copy[text.size()] = '\0';
    return copy;
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

// readline's contract: [0] is what replaces the word being typed, then the candidates,
// then NULL. libedit reads [2] even after a single match: pad with NULLs (calloc).
char** completion_array(const std::vector<std::string>& words) {
    if (words.empty()) return nullptr;
    size_t listed = words.size() == 1 ? 0 : words.size();
    auto** array = static_cast<char**>(std::calloc(listed + 3, sizeof(char*)));
    array[0] = copy_c_string(words.size() == 1 ? std::string_view(words[0]) : common_prefix(words));
    for (size_t i = 0; i < listed; ++i) array[i + 1] = copy_c_string(words[i]);
    return array;
}

char** complete_keyword(const char* text, int start, int /*end*/) {
    rl_attempted_completion_over = 1;  // never fall back to file names
    auto before = mbox::control::split_words(std::string_view(rl_line_buffer, static_cast<size_t>(start)));
    return completion_array(mbox::control::complete(before, text));
}

// `?`: lists what may come next at the cursor, with help, then redraws the line.
int describe_at_cursor(int /*count*/, int /*key*/) {
    std::string_view typed(rl_line_buffer, static_cast<size_t>(rl_point));
    size_t cut = typed.find_last_of(" \t");
    std::string_view partial = cut == std::string_view::npos ? typed : typed.substr(cut + 1);
    auto before = mbox::control::split_words(typed.substr(0, typed.size() - partial.size()));
    auto next = mbox::control::describe_next(before);
    std::erase_if(next, [&](const auto& entry) { return !entry.first.starts_with(partial); });
    std::string listing = "\n";
    if (next.empty()) listing += "% no command matches\n";
    for (const auto& [word, help] : next) listing += fmt::format("  {:<18} {}\n", word, help);
    std::fputs(listing.c_str(), stdout);
    std::fflush(stdout);
    rl_on_new_line();
    rl_forced_update_display();
    return 0;
}

std::string history_path() {
    const char* home = std::getenv("HOME");
    return home != nullptr && *home != '\0' ? std::string(home) + "/.mbox_history" : std::string();
}

void setup_line_editor() {
    rl_readline_name = "mbox";
    rl_initialize();  // libedit: must precede rl_add_defun, and must run only once
    rl_attempted_completion_function = complete_keyword;
    // libedit's rl_bind_key() binds only rl_insert; rl_add_defun() binds any function
    // (el_set EL_ADDFN + EL_BIND underneath).
    rl_add_defun("mbox-describe", describe_at_cursor, '?');
    stifle_history(kHistoryLines);
}

int run_tty_shell(Session& session) {
    setup_line_editor();
    const std::string history = history_path();
    if (!history.empty()) read_history(history.c_str());
    while (char* raw = readline(kPrompt)) {
        std::string line(raw);
        std::free(raw);
        auto words = mbox::control::split_words(line);
        if (words.empty()) continue;
        add_history(line.c_str());
        if (!history.empty()) write_history(history.c_str());
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
    app.footer("With no command words, mbox reads commands interactively (or from a pipe).\n"
               "Type ? in the shell for the possible next words.");
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
        } else {
            options.words.push_back(word);
        }
    }
    return run_online(options);
}
