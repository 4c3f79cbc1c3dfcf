// Command matching, completion and `?` help; the JSON line protocol.
#include "control/command_table.hpp"

#include <gtest/gtest.h>

#include <set>

#include "control/command_protocol.hpp"

namespace mbox::control {
namespace {

using Words = std::vector<std::string>;
using Described = std::vector<std::pair<std::string, std::string>>;

// Commands with placeholders, which the production table does not have yet.
const CommandSpec kTestTable[] = {
    {{"show", "ipsec", "status"}, "IPsec tunnels"},
    {{"show", "ipsec", "peer", "[<addr>]"}, "Per-SA detail"},
    {{"show", "ip", "route"}, "IPv4 routing table"},
    {{"ping", "<addr>", "[<count>]"}, "Send ICMP echo requests"},
};

std::string key_of(const std::variant<CommandMatch, std::string>& result) {
    if (auto* error = std::get_if<std::string>(&result)) return "error: " + *error;
    return command_key(*std::get<CommandMatch>(result).spec);
}

std::string error_of(const std::variant<CommandMatch, std::string>& result) {
    if (auto* error = std::get_if<std::string>(&result)) return *error;
    return "matched: " + command_key(*std::get<CommandMatch>(result).spec);
}

Words args_of(const std::variant<CommandMatch, std::string>& result) {
    if (auto* match = std::get_if<CommandMatch>(&result)) return match->args;
    return {"error: " + std::get<std::string>(result)};
}

TEST(CommandTable, HoldsTheOperationalCommands) {
    std::set<std::string> keys;
    for (const CommandSpec& spec : command_table()) keys.insert(command_key(spec));
    EXPECT_EQ(keys, (std::set<std::string>{"show interfaces", "show ip route", "show arp",
                                           "show dataplane counters", "show running-config",
                                           "clear dataplane counters", "show version", "show ipsec sa",
                                           "show firewall snat", "show nat sessions", "clear nat sessions",
                                           "show ipsec status", "show ipsec peer", "show ipsec log",
                                           "clear ipsec peer", "ipsec start", "ipsec stop", "configure"}));
}

TEST(CommandTable, KeysAreUniqueAndPlaceholdersAreWellFormed) {
    std::set<std::string> keys;
    for (const CommandSpec& spec : command_table()) {
        EXPECT_TRUE(keys.insert(command_key(spec)).second) << command_key(spec);
        EXPECT_FALSE(spec.help.empty()) << command_key(spec);
        bool in_placeholders = false, in_optional = false;
        for (std::string_view word : spec.words) {
            bool required = word.starts_with('<') && word.ends_with('>');
            bool optional = word.starts_with("[<") && word.ends_with(">]");
            EXPECT_FALSE(in_placeholders && !required && !optional) << "keyword after placeholder: " << word;
            EXPECT_FALSE(in_optional && required) << "required after optional: " << word;
            in_placeholders = in_placeholders || required || optional;
            in_optional = in_optional || optional;
        }
    }
}

TEST(CommandTable, KeyIsTheFixedKeywords) {
    EXPECT_EQ(command_key(kTestTable[1]), "show ipsec peer");
    EXPECT_EQ(command_key(kTestTable[3]), "ping");
}

TEST(MatchCommand, EveryCommandMatchesItsOwnWords) {
    for (const CommandSpec& spec : command_table()) {
        // The keywords, and a value for each required placeholder.
        Words words, expected_args;
        for (std::string_view w : spec.words) {
            if (w.starts_with('[')) break;
            if (w.starts_with('<')) expected_args.push_back("x");
            words.push_back(w.starts_with('<') ? "x" : std::string(w));
        }
        auto result = match_command(words);
        ASSERT_TRUE(std::holds_alternative<CommandMatch>(result)) << error_of(result);
        EXPECT_EQ(std::get<CommandMatch>(result).spec, &spec);
        EXPECT_EQ(std::get<CommandMatch>(result).args, expected_args);
    }
}

TEST(MatchCommand, AcceptsUnambiguousPrefixes) {
    EXPECT_EQ(key_of(match_command(Words{"sh", "int"})), "show interfaces");
    EXPECT_EQ(key_of(match_command(Words{"s", "ip", "r"})), "show ip route");
    EXPECT_EQ(key_of(match_command(Words{"sh", "run"})), "show running-config");
    EXPECT_EQ(key_of(match_command(Words{"cl", "d", "c"})), "clear dataplane counters");
    EXPECT_EQ(key_of(match_command(Words{"sh", "dat", "coun"})), "show dataplane counters");
}

TEST(MatchCommand, ExactKeywordWinsOverLongerKeywordItPrefixes) {
    const CommandSpec table[] = {{{"show", "ip"}, "a"}, {{"show", "ipsec"}, "b"}};
    EXPECT_EQ(key_of(match_command(table, Words{"show", "ip"})), "show ip");
    EXPECT_EQ(key_of(match_command(table, Words{"show", "ips"})), "show ipsec");
}

TEST(MatchCommand, RefusesAmbiguousPrefix) {
    EXPECT_EQ(error_of(match_command(Words{"show", "i"})),
              "ambiguous command 'show i' (could be: interfaces, ip, ipsec)");
}

TEST(MatchCommand, UnknownWordSaysWhatWasExpected) {
    EXPECT_EQ(error_of(match_command(Words{"show", "foo"})),
              "unknown command 'show foo' (expected one of: arp, dataplane, firewall, interfaces, ip, "
              "ipsec, nat, running-config, version)");
    EXPECT_EQ(error_of(match_command(Words{"sh", "ip", "foo"})),
              "unknown command 'sh ip foo' (expected: route)");
    EXPECT_EQ(error_of(match_command(Words{"reboot"})),
              "unknown command 'reboot' (expected one of: clear, configure, ipsec, show)");
}

TEST(MatchCommand, IncompleteCommandSaysWhatWasExpected) {
    EXPECT_EQ(error_of(match_command(Words{"show", "ip"})),
              "incomplete command 'show ip' (expected: route)");
    EXPECT_EQ(error_of(match_command(Words{"clear"})),
              "incomplete command 'clear' (expected one of: dataplane, ipsec, nat)");
    EXPECT_EQ(error_of(match_command(Words{})), "empty command (expected one of: clear, configure, ipsec, show)");
}

TEST(MatchCommand, RefusesArgumentsACommandDoesNotTake) {
    EXPECT_EQ(error_of(match_command(Words{"show", "arp", "eth0"})),
              "unexpected argument 'eth0' ('show arp' takes no arguments)");
}

// A terminal obeys control characters: echoed raw, "\x1b[2J" would clear the operator's screen.
TEST(MatchCommand, ErrorsEscapeControlCharactersInTheTypedWords) {
    EXPECT_EQ(error_of(match_command(Words{"show", "\x1b[2Jfoo"})),
              "unknown command 'show \\x1b[2Jfoo' (expected one of: arp, dataplane, firewall, interfaces, ip, "
              "ipsec, nat, running-config, version)");
    EXPECT_EQ(error_of(match_command(Words{"sh\x7f", "i"})),
              "unknown command 'sh\\x7f' (expected one of: clear, configure, ipsec, show)");
    EXPECT_EQ(error_of(match_command(Words{"show", "ip\v"})), "unknown command 'show ip\\x0b' (expected one of: "
              "arp, dataplane, firewall, interfaces, ip, ipsec, nat, running-config, version)");
    EXPECT_EQ(error_of(match_command(Words{"show", "arp", "eth0\x1b]0;pwned\x07"})),
              "unexpected argument 'eth0\\x1b]0;pwned\\x07' ('show arp' takes no arguments)");
    // Printable UTF-8 stays as typed; a byte that is not UTF-8 is escaped.
    EXPECT_EQ(error_of(match_command(Words{"caf\xc3\xa9\xff"})),
              "unknown command 'caf\xc3\xa9\\xff' (expected one of: clear, configure, ipsec, show)");
}

TEST(MatchCommand, CollectsArguments) {
    EXPECT_EQ(args_of(match_command(kTestTable, Words{"sh", "ipsec", "peer", "192.0.2.1"})),
              Words{"192.0.2.1"});
    EXPECT_EQ(args_of(match_command(kTestTable, Words{"show", "ipsec", "peer"})), Words{});
    EXPECT_EQ(args_of(match_command(kTestTable, Words{"ping", "10.0.0.1", "5"})),
              (Words{"10.0.0.1", "5"}));
    EXPECT_EQ(args_of(match_command(kTestTable, Words{"ping", "10.0.0.1"})), Words{"10.0.0.1"});
}

TEST(MatchCommand, ChecksArgumentCounts) {
    EXPECT_EQ(error_of(match_command(kTestTable, Words{"ping"})),
              "incomplete command 'ping' (expected: <addr>)");
    EXPECT_EQ(error_of(match_command(kTestTable, Words{"ping", "a", "1", "2"})),
              "unexpected argument '2' ('ping' takes at most 2 arguments)");
    EXPECT_EQ(error_of(match_command(kTestTable, Words{"show", "ipsec", "peer", "a", "b"})),
              "unexpected argument 'b' ('show ipsec peer' takes at most 1 argument)");
}

TEST(Complete, OffersKeywordsStartingWithThePartialWord) {
    EXPECT_EQ(complete(Words{}, ""), (Words{"clear", "configure", "ipsec", "show"}));
    EXPECT_EQ(complete(Words{"show"}, "i"), (Words{"interfaces", "ip", "ipsec"}));
    EXPECT_EQ(complete(Words{"sh", "ip"}, ""), Words{"route"});
    EXPECT_EQ(complete(Words{"show"}, "run"), Words{"running-config"});
    EXPECT_EQ(complete(Words{"show"}, "x"), Words{});
}

TEST(Complete, OffersNothingAfterAWrongWordOrAtAnArgument) {
    EXPECT_EQ(complete(Words{"show", "bogus"}, ""), Words{});
    EXPECT_EQ(complete(Words{"show", "arp"}, ""), Words{});
    EXPECT_EQ(complete(kTestTable, Words{"ping"}, "1"), Words{});
}

TEST(DescribeNext, ListsNextKeywordsWithHelp) {
    EXPECT_EQ(describe_next(Words{"show", "ip"}), (Described{{"route", "IPv4 routing table"}}));
    EXPECT_EQ(describe_next(Words{}),
              (Described{{"clear", "Reset operational state"},
                         {"configure", "Apply a configuration file: only what changed is touched"},
                         {"ipsec", "IPsec: start and stop the service, its state"},
                         {"show", "Show operational state"}}));
    auto after_show = describe_next(Words{"sh"});
    ASSERT_EQ(after_show.size(), 9u);
    EXPECT_EQ(after_show[0], (std::pair<std::string, std::string>{"arp", "ARP (neighbour) table"}));
}

TEST(DescribeNext, EndsWithCrWhenTheCommandIsComplete) {
    EXPECT_EQ(describe_next(Words{"show", "arp"}), (Described{{"<cr>", "ARP (neighbour) table"}}));
    EXPECT_EQ(describe_next(kTestTable, Words{"show", "ipsec", "peer"}),
              (Described{{"[<addr>]", "Per-SA detail"}, {"<cr>", "Per-SA detail"}}));
    EXPECT_EQ(describe_next(kTestTable, Words{"ping"}), (Described{{"<addr>", "Send ICMP echo requests"}}));
    EXPECT_EQ(describe_next(kTestTable, Words{"ping", "a"}),
              (Described{{"[<count>]", "Send ICMP echo requests"}, {"<cr>", "Send ICMP echo requests"}}));
}

TEST(DescribeNext, IsEmptyAfterAWrongWord) {
    EXPECT_TRUE(describe_next(Words{"show", "bogus"}).empty());
    EXPECT_TRUE(describe_next(Words{"show", "i"}).empty());  // ambiguous
}

TEST(SplitWords, SplitsAtRunsOfBlanks) {
    EXPECT_EQ(split_words("  show\tip   route \r\n"), (Words{"show", "ip", "route"}));
    EXPECT_EQ(split_words(""), Words{});
    EXPECT_EQ(split_words(" \t "), Words{});
}

// ---- protocol ----------------------------------------------------------------------------

std::string decode_error(const std::variant<Request, std::string>& result) {
    auto* error = std::get_if<std::string>(&result);
    return error ? *error : "decoded";
}

std::string decode_error(const std::variant<Reply, std::string>& result) {
    auto* error = std::get_if<std::string>(&result);
    return error ? *error : "decoded";
}

TEST(Protocol, RequestIsOneJsonLine) {
    EXPECT_EQ(encode_request({"show interfaces", true}), R"({"command":"show interfaces","json":true})");
    auto decoded = decode_request(R"({"command":"show arp","json":true})" "\n");
    ASSERT_TRUE(std::holds_alternative<Request>(decoded)) << decode_error(decoded);
    EXPECT_EQ(std::get<Request>(decoded).command, "show arp");
    EXPECT_TRUE(std::get<Request>(decoded).json);
}

TEST(Protocol, RequestJsonFlagDefaultsToFalse) {
    auto decoded = decode_request(R"({"command":"show arp"})" "\r\n");
    ASSERT_TRUE(std::holds_alternative<Request>(decoded)) << decode_error(decoded);
    EXPECT_FALSE(std::get<Request>(decoded).json);
}

TEST(Protocol, ReplyRoundTripsWithData) {
    Reply reply;
    reply.text = "eth0 up\neth1 down\n";
    reply.data = {{"interfaces", {{{"name", "eth0"}, {"up", true}}}}};
    std::string line = encode_reply(reply);
    EXPECT_EQ(line.find('\n'), std::string::npos);
    EXPECT_TRUE(line.starts_with(R"({"ok":true,"text":"eth0 up\neth1 down\n","data":)")) << line;
    auto decoded = decode_reply(line);
    ASSERT_TRUE(std::holds_alternative<Reply>(decoded)) << decode_error(decoded);
    EXPECT_TRUE(std::get<Reply>(decoded).ok);
    EXPECT_EQ(std::get<Reply>(decoded).text, reply.text);
    EXPECT_EQ(std::get<Reply>(decoded).data, reply.data);
}

TEST(Protocol, ErrorReplyCarriesOnlyTheError) {
    EXPECT_EQ(encode_reply(Reply::failure("no such peer")), R"({"ok":false,"error":"no such peer"})");
    auto decoded = decode_reply(R"({"ok":false,"error":"no such peer"})");
    ASSERT_TRUE(std::holds_alternative<Reply>(decoded));
    EXPECT_FALSE(std::get<Reply>(decoded).ok);
    EXPECT_EQ(std::get<Reply>(decoded).error, "no such peer");
}

TEST(Protocol, ReplyWithoutDataOmitsIt) {
    Reply reply;
    reply.text = "ok";
    EXPECT_EQ(encode_reply(reply), R"({"ok":true,"text":"ok"})");
}

TEST(Protocol, InvalidUtf8IsReplacedNotThrown) {
    Reply reply;
    reply.text = "bad \xff byte";
    std::string line;
    EXPECT_NO_THROW(line = encode_reply(reply));
    auto decoded = decode_reply(line);
    ASSERT_TRUE(std::holds_alternative<Reply>(decoded));
    EXPECT_EQ(std::get<Reply>(decoded).text, "bad \xEF\xBF\xBD byte");
}

TEST(Protocol, MalformedRequestsGiveErrors) {
    EXPECT_TRUE(decode_error(decode_request("")).starts_with("malformed request: ")) << decode_error(decode_request(""));
    EXPECT_TRUE(decode_error(decode_request("{\"command\":")).starts_with("malformed request: "));
    EXPECT_TRUE(decode_error(decode_request("show arp")).starts_with("malformed request: "));
    EXPECT_EQ(decode_error(decode_request("[1,2]")), "malformed request: not a JSON object");
    EXPECT_EQ(decode_error(decode_request(R"({"json":true})")), "malformed request: no 'command'");
    EXPECT_EQ(decode_error(decode_request(R"({"command":5})")),
              "malformed request: 'command' must be a string");
    EXPECT_EQ(decode_error(decode_request(R"({"command":"x","json":"yes"})")),
              "malformed request: 'json' must be a boolean");
}

TEST(Protocol, MalformedRepliesGiveErrors) {
    EXPECT_TRUE(decode_error(decode_reply("garbage")).starts_with("malformed reply: "));
    EXPECT_EQ(decode_error(decode_reply(R"({"text":"x"})")), "malformed reply: no 'ok'");
    EXPECT_EQ(decode_error(decode_reply(R"({"ok":"yes"})")), "malformed reply: 'ok' must be a boolean");
    EXPECT_EQ(decode_error(decode_reply(R"({"ok":true,"text":7})")),
              "malformed reply: 'text' must be a string");
}

TEST(Protocol, ParseErrorsDropTheLibraryPrefix) {
    std::string error = decode_error(decode_request("{"));
    EXPECT_EQ(error.find("[json.exception"), std::string::npos) << error;
}

}  // namespace
}  // namespace mbox::control
