// The command server and client over a real Unix socket in a temporary directory.
#include "control/command_server.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "control/command_client.hpp"

namespace mbox::control {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const CommandSpec kTable[] = {
    {{"show", "ipsec", "peer", "[<addr>]"}, "Per-SA detail"},
    {{"show", "arp"}, "ARP table"},
    {{"fail"}, "Handler throws"},
    {{"big"}, "A 1 MiB answer"},
};

struct Call {
    std::string key;
    std::vector<std::string> args;
    bool json = false;
};

// Records what the handler saw; answers with the command key and arguments.
class Recorder {
   public:
    Reply handle(const CommandMatch& match, const Request& request) {
        std::string key = command_key(*match.spec);
        {
            std::lock_guard lock(mutex_);
            calls_.push_back({key, match.args, request.json});
        }
        if (key == "fail") throw std::runtime_error("boom");
        Reply reply;
        reply.text = key == "big" ? std::string(1024 * 1024, 'x') : key;
        for (const std::string& arg : match.args) reply.text += " " + arg;
        return reply;
    }
    CommandServer::Handler handler() {
        return [this](const CommandMatch& m, const Request& r) { return handle(m, r); };
    }
    std::vector<Call> calls() {
        std::lock_guard lock(mutex_);
        return calls_;
    }

   private:
    std::mutex mutex_;
    std::vector<Call> calls_;
};

// The control thread's loop, in the background.
class Serving {
   public:
    Serving(CommandServer& server, CommandServer::Handler handler)
        : thread_([this, &server, handler] {
              while (!stop_) server.serve(10ms, handler);
          }) {}
    ~Serving() {
        stop_ = true;
        thread_.join();
    }

   private:
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

// A client speaking raw bytes, for what CommandClient never sends.
class RawSocket {
   public:
    explicit RawSocket(const std::string& path) : fd_(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
        connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    }
    ~RawSocket() { close(); }
    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }
    bool connected() const { return connected_; }
    bool send(std::string_view bytes, int flags = 0) {
        while (!bytes.empty()) {
            ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | flags);
            if (n <= 0) return false;
            bytes.remove_prefix(static_cast<size_t>(n));
        }
        return true;
    }
    // One line without its '\n'; "<timeout>" or "<closed>" otherwise.
    std::string read_line(std::chrono::milliseconds timeout = 5s) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        size_t end;
        while ((end = in_.find('\n')) == std::string::npos) {
            auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            pollfd pfd{fd_, POLLIN, 0};
            if (left.count() <= 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) return "<timeout>";
            char buffer[65536];
            ssize_t n = ::read(fd_, buffer, sizeof(buffer));
            if (n <= 0) return "<closed>";
            in_.append(buffer, static_cast<size_t>(n));
        }
        std::string line = in_.substr(0, end);
        in_.erase(0, end + 1);
        return line;
    }

   private:
    int fd_;
    bool connected_ = false;
    std::string in_;
};

Reply decoded(const std::string& line) {
    auto reply = decode_reply(line);
    if (auto* error = std::get_if<std::string>(&reply)) return Reply::failure("undecodable: " + *error + ": " + line);
    return std::get<Reply>(reply);
}

std::string request_line(const std::string& command) { return encode_request({command, false}) + "\n"; }

class CommandServerTest : public ::testing::Test {
   protected:
    void SetUp() override {
        char dir_template[] = "/tmp/mbox-cmdchan-XXXXXX";
        ASSERT_NE(::mkdtemp(dir_template), nullptr);
        dir_ = dir_template;
        path_ = dir_ + "/run/mbox/mboxd.sock";  // parent directories do not exist yet
    }
    void TearDown() override { fs::remove_all(dir_); }

    std::unique_ptr<CommandServer> open_server(ClientTimeouts timeouts = {}) {
        std::string error;
        auto server = CommandServer::open(path_, error, kTable, timeouts);
        EXPECT_NE(server, nullptr) << error;
        return server;
    }

    CommandClient connect() {
        auto client = CommandClient::connect(path_);
        if (auto* error = std::get_if<std::string>(&client)) ADD_FAILURE() << *error;
        return std::move(std::get<CommandClient>(client));
    }

    static Reply call(CommandClient& client, const std::string& command, bool json = false) {
        auto reply = client.call({command, json});
        if (auto* error = std::get_if<std::string>(&reply)) return Reply::failure("transport: " + *error);
        return std::get<Reply>(reply);
    }

    std::string dir_;
    std::string path_;
    Recorder recorder_;
};

TEST_F(CommandServerTest, HandlerGetsTheMatchedCommandAndArguments) {
    auto server = open_server();
    Serving serving(*server, recorder_.handler());
    CommandClient client = connect();
    Reply reply = call(client, "sh ipsec peer 192.0.2.7", true);
    EXPECT_TRUE(reply.ok) << reply.error;
    EXPECT_EQ(reply.text, "show ipsec peer 192.0.2.7");
    auto calls = recorder_.calls();
    ASSERT_EQ(calls.size(), 1u);
    EXPECT_EQ(calls[0].key, "show ipsec peer");
    EXPECT_EQ(calls[0].args, std::vector<std::string>{"192.0.2.7"});
    EXPECT_TRUE(calls[0].json);
}

TEST_F(CommandServerTest, UnknownCommandIsAnsweredWithoutCallingTheHandler) {
    auto server = open_server();
    Serving serving(*server, recorder_.handler());
    CommandClient client = connect();
    Reply reply = call(client, "show foo");
    EXPECT_FALSE(reply.ok);
    EXPECT_EQ(reply.error, "unknown command 'show foo' (expected one of: arp, ipsec)");
    EXPECT_TRUE(recorder_.calls().empty());
}

TEST_F(CommandServerTest, ServesSeveralRequestsOnOneConnection) {
    auto server = open_server();
    Serving serving(*server, recorder_.handler());
    CommandClient client = connect();
    EXPECT_EQ(call(client, "show arp").text, "show arp");
    EXPECT_EQ(call(client, "show ipsec peer").text, "show ipsec peer");
    EXPECT_TRUE(client.connected());
    EXPECT_EQ(recorder_.calls().size(), 2u);
}

TEST_F(CommandServerTest, AnswersPipelinedRequestsInOrder) {
    auto server = open_server();
    Serving serving(*server, recorder_.handler());
    RawSocket raw(path_);
    ASSERT_TRUE(raw.connected());
    ASSERT_TRUE(raw.send(request_line("show arp") + request_line("sh ipsec p 10.0.0.1")));
    EXPECT_EQ(decoded(raw.read_line()).text, "show arp");
    EXPECT_EQ(decoded(raw.read_line()).text, "show ipsec peer 10.0.0.1");
}

TEST_F(CommandServerTest, MalformedRequestIsAnsweredWithAnError) {
    auto server = open_server();
    Serving serving(*server, recorder_.handler());
    RawSocket raw(path_);
    ASSERT_TRUE(raw.send("show arp\n"));
    Reply reply = decoded(raw.read_line());
    EXPECT_FALSE(reply.ok);
    EXPECT_TRUE(reply.error.starts_with("malformed request: ")) << reply.error;
    EXPECT_TRUE(recorder_.calls().empty());
}

TEST_F(CommandServerTest, HandlerExceptionBecomesAnErrorReply) {
    auto server = open_server();
    Serving serving(*server, recorder_.handler());
    CommandClient client = connect();
    Reply reply = call(client, "fail");
    EXPECT_FALSE(reply.ok);
    EXPECT_EQ(reply.error, "internal error in 'fail': boom");
    EXPECT_EQ(call(client, "show arp").text, "show arp");  // the connection survives
}

TEST_F(CommandServerTest, RequestOver64KiBIsRejectedAndTheConnectionResyncs) {
    auto server = open_server();
    Serving serving(*server, recorder_.handler());
    RawSocket raw(path_);
    // No newline yet: the server must not wait for one to refuse the request.
    ASSERT_TRUE(raw.send(std::string(kMaxRequestBytes + 100, 'x')));
    Reply reply = decoded(raw.read_line());
    EXPECT_FALSE(reply.ok);
    EXPECT_EQ(reply.error, "request too long (more than 65536 bytes)");
    // The rest of the long line is skipped; the next request is served.
    ASSERT_TRUE(raw.send(std::string(1000, 'y') + "\n" + request_line("show arp")));
    EXPECT_EQ(decoded(raw.read_line()).text, "show arp");
    EXPECT_EQ(recorder_.calls().size(), 1u);
}

TEST_F(CommandServerTest, CompleteRequestOver64KiBInOneWriteIsRejected) {
    auto server = open_server();
    Serving serving(*server, recorder_.handler());
    RawSocket raw(path_);
    std::string huge = encode_request({"show ipsec peer " + std::string(kMaxRequestBytes, 'a'), false});
    ASSERT_TRUE(raw.send(huge + "\n" + request_line("show arp")));
    EXPECT_EQ(decoded(raw.read_line()).error, "request too long (more than 65536 bytes)");
    EXPECT_EQ(decoded(raw.read_line()).text, "show arp");
    EXPECT_EQ(recorder_.calls().size(), 1u);
}

TEST_F(CommandServerTest, ClientDisconnectingMidLineDoesNotDisturbTheServer) {
    auto server = open_server();
    Serving serving(*server, recorder_.handler());
    {
        RawSocket raw(path_);
        ASSERT_TRUE(raw.send(R"({"command":"show ar)"));
    }
    CommandClient client = connect();
    EXPECT_EQ(call(client, "show arp").text, "show arp");
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(recorder_.calls().size(), 1u);  // the half line was never dispatched
}

TEST_F(CommandServerTest, ClientThatStopsReadingIsDroppedWithoutBlockingOthers) {
    auto server = open_server();
    RawSocket slow(path_);
    RawSocket other(path_);
    // 20 answers of 1 MiB that are never read: past the 16 MiB backlog cap.
    std::string requests;
    for (int i = 0; i < 20; ++i) requests += request_line("big");
    ASSERT_TRUE(slow.send(requests, MSG_DONTWAIT));
    auto handler = recorder_.handler();
    for (int round = 0; round < 200 && (round < 2 || server->client_count() == 2); ++round) {
        auto start = std::chrono::steady_clock::now();
        server->serve(10ms, handler);
        EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
    }
    EXPECT_EQ(server->client_count(), 1u);  // the slow one is gone, the other stays
    ASSERT_TRUE(other.send(request_line("show arp")));
    std::string line;
    for (int round = 0; round < 100 && line.empty(); ++round) {
        server->serve(10ms, handler);
        line = other.read_line(1ms);
        if (line == "<timeout>") line.clear();
    }
    EXPECT_EQ(decoded(line).text, "show arp") << line;
}

TEST_F(CommandServerTest, ServeReturnsWithinItsTimeout) {
    auto server = open_server();
    RawSocket idle(path_);
    ASSERT_TRUE(idle.send(R"({"command":)"));
    auto start = std::chrono::steady_clock::now();
    server->serve(50ms, recorder_.handler());
    auto took = std::chrono::steady_clock::now() - start;
    EXPECT_GE(took, 50ms);
    EXPECT_LT(took, 500ms);
    EXPECT_EQ(server->client_count(), 1u);
}

TEST_F(CommandServerTest, CreatesTheDirectoryAndSetsModes) {
    auto server = open_server();
    struct stat st {};
    ASSERT_EQ(::stat(fs::path(path_).parent_path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0755u);
    ASSERT_EQ(::stat(path_.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0660u);
    server.reset();
    EXPECT_FALSE(fs::exists(path_));  // the destructor unlinks it
}

TEST_F(CommandServerTest, ReplacesAStaleSocketFile) {
    fs::create_directories(fs::path(path_).parent_path());
    {  // a daemon that died without cleaning up: the file stays, nobody listens
        int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, path_.c_str(), sizeof(addr.sun_path) - 1);
        ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
        ::close(fd);
    }
    ASSERT_TRUE(fs::is_socket(path_));
    auto server = open_server();
    ASSERT_NE(server, nullptr);
    Serving serving(*server, recorder_.handler());
    CommandClient client = connect();
    EXPECT_EQ(call(client, "show arp").text, "show arp");
}

TEST_F(CommandServerTest, RefusesASecondServerOnALiveSocket) {
    auto first = open_server();
    std::string error;
    auto second = CommandServer::open(path_, error, kTable);
    EXPECT_EQ(second, nullptr);
    EXPECT_EQ(error, "another mboxd is already listening on " + path_);
    Serving serving(*first, recorder_.handler());
    CommandClient client = connect();  // the first one's socket is untouched
    EXPECT_EQ(call(client, "show arp").text, "show arp");
}

TEST_F(CommandServerTest, RefusesAPathThatIsNotASocket) {
    fs::create_directories(fs::path(path_).parent_path());
    std::ofstream(path_) << "precious";
    std::string error;
    EXPECT_EQ(CommandServer::open(path_, error, kTable), nullptr);
    EXPECT_EQ(error, path_ + " exists and is not a socket");
    EXPECT_TRUE(fs::is_regular_file(path_));
}

TEST_F(CommandServerTest, DestructorLeavesASuccessorsSocketAlone) {
    auto old_server = open_server();
    fs::remove(path_);
    auto new_server = open_server();
    old_server.reset();
    EXPECT_TRUE(fs::is_socket(path_));
}

TEST_F(CommandServerTest, ClientSaysWhenNoDaemonIsRunning) {
    auto client = CommandClient::connect(dir_ + "/none.sock");
    ASSERT_TRUE(std::holds_alternative<std::string>(client));
    EXPECT_EQ(std::get<std::string>(client),
              "cannot connect to " + dir_ + "/none.sock: No such file or directory (is mboxd running?)");
}

TEST_F(CommandServerTest, ClientTimesOutWhenTheDaemonDoesNotAnswer) {
    auto server = open_server();  // listening, but serve() is never called
    CommandClient client = connect();
    auto reply = client.call({"show arp", false}, 200ms);
    ASSERT_TRUE(std::holds_alternative<std::string>(reply));
    EXPECT_EQ(std::get<std::string>(reply), "no answer from mboxd within 200 ms");
    EXPECT_FALSE(client.connected());
}

TEST_F(CommandServerTest, ClientNoticesADaemonThatClosedTheConnection) {
    auto server = open_server();
    CommandClient client = connect();
    server->serve(10ms, recorder_.handler());  // accept the connection
    EXPECT_TRUE(client.connected());
    server.reset();
    EXPECT_FALSE(client.connected());  // so a shell reconnects before its next command
}

TEST_F(CommandServerTest, ClientReportsADaemonThatWentAway) {
    auto server = open_server();
    CommandClient client = connect();
    server->serve(10ms, recorder_.handler());  // accept the connection
    server.reset();
    auto reply = client.call({"show arp", false}, 1s);  // tries to connect again, and cannot
    ASSERT_TRUE(std::holds_alternative<std::string>(reply));
    EXPECT_EQ(std::get<std::string>(reply),
              "cannot connect to " + path_ + ": No such file or directory (is mboxd running?)");
}

// ---- clients that hold the socket: timeouts and eviction (issue 10) ----

// Serves in the calling thread until `done` holds or 5 s pass.
template <typename Done>
void serve_until(CommandServer& server, const CommandServer::Handler& handler, Done done) {
    const auto give_up = std::chrono::steady_clock::now() + 5s;
    while (!done() && std::chrono::steady_clock::now() < give_up) server.serve(10ms, handler);
}

std::vector<std::unique_ptr<RawSocket>> connect_many(const std::string& path, size_t count) {
    std::vector<std::unique_ptr<RawSocket>> sockets;
    for (size_t i = 0; i < count; ++i) {
        sockets.push_back(std::make_unique<RawSocket>(path));
        EXPECT_TRUE(sockets.back()->connected()) << i;
    }
    return sockets;
}

TEST_F(CommandServerTest, IdleConnectionsCannotLockAnOperatorOut) {
    auto server = open_server();
    auto handler = recorder_.handler();
    // 100 connections that never say anything: more than the 64 places.
    auto idle = connect_many(path_, 100);
    const uint64_t extra = 100 - CommandServer::kMaxClients;
    serve_until(*server, handler, [&] { return server->drops().evicted == extra; });
    EXPECT_EQ(server->client_count(), CommandServer::kMaxClients);
    EXPECT_EQ(server->drops().evicted, extra);
    // The longest idle went first: the oldest connection is closed, the newest is served.
    EXPECT_EQ(idle.front()->read_line(1s), "<closed>");
    EXPECT_EQ(idle.back()->read_line(10ms), "<timeout>");
    {
        Serving serving(*server, handler);
        CommandClient client = connect();
        EXPECT_EQ(call(client, "show arp").text, "show arp");
    }
    EXPECT_EQ(server->drops().evicted, extra + 1);
    EXPECT_EQ(server->drops().idle + server->drops().stalled, 0u);  // evicted, not timed out
}

TEST_F(CommandServerTest, HalfOpenConnectionsCannotLockAnOperatorOut) {
    auto server = open_server();  // a stalled request times out only after 5 s
    auto handler = recorder_.handler();
    auto stalled = connect_many(path_, 100);
    for (auto& socket : stalled) ASSERT_TRUE(socket->send(R"({"command":"show ar)"));
    serve_until(*server, handler, [&] { return server->drops().evicted == 100 - CommandServer::kMaxClients; });
    const auto start = std::chrono::steady_clock::now();
    {
        Serving serving(*server, handler);
        CommandClient client = connect();
        EXPECT_EQ(call(client, "show arp").text, "show arp");
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);  // well before any stalled timeout
    EXPECT_EQ(server->drops().stalled, 0u);
    EXPECT_EQ(recorder_.calls().size(), 1u);  // no half request was ever dispatched
}

TEST_F(CommandServerTest, HalfOpenClientIsClosedAfterTheStalledTimeout) {
    auto server = open_server({.stalled = 100ms, .idle = 60s});
    RawSocket half_open(path_);
    RawSocket idle(path_);
    ASSERT_TRUE(half_open.send(R"({"command":"show a)"));  // and never the rest of the line
    const auto start = std::chrono::steady_clock::now();
    {
        Serving serving(*server, recorder_.handler());
        EXPECT_EQ(half_open.read_line(2s), "<closed>");  // EOF: mboxd closed its end
        EXPECT_GE(std::chrono::steady_clock::now() - start, 100ms);
        EXPECT_EQ(idle.read_line(200ms), "<timeout>");  // nothing in flight: only the idle timeout applies
    }
    EXPECT_EQ(server->drops().stalled, 1u);
    EXPECT_EQ(server->drops().idle, 0u);
    EXPECT_EQ(server->client_count(), 1u);
    EXPECT_TRUE(recorder_.calls().empty());
}

TEST_F(CommandServerTest, TricklingARequestDoesNotPutOffTheStalledTimeout) {
    auto server = open_server({.stalled = 200ms, .idle = 60s});
    Serving serving(*server, recorder_.handler());
    RawSocket trickle(path_);
    const auto start = std::chrono::steady_clock::now();
    // One byte every 20 ms: the clock runs from the request's first byte, not its last.
    const std::string request = request_line("show arp");
    for (size_t i = 0; i + 1 < request.size() && trickle.read_line(20ms) == "<timeout>"; ++i) {
        trickle.send(request.substr(i, 1));
    }
    EXPECT_EQ(trickle.read_line(1s), "<closed>");
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_GE(took, 200ms);
    EXPECT_LT(took, 600ms);
}

TEST_F(CommandServerTest, IdleClientIsClosedAfterTheIdleTimeout) {
    auto server = open_server({.stalled = 5s, .idle = 100ms});
    RawSocket idle(path_);
    {
        Serving serving(*server, recorder_.handler());
        ASSERT_TRUE(idle.send(request_line("show arp")));
        EXPECT_EQ(decoded(idle.read_line()).text, "show arp");
        const auto answered = std::chrono::steady_clock::now();
        EXPECT_EQ(idle.read_line(2s), "<closed>");
        EXPECT_GE(std::chrono::steady_clock::now() - answered, 100ms);  // counted from the reply
    }
    EXPECT_EQ(server->drops().idle, 1u);
    EXPECT_EQ(server->drops().stalled, 0u);
}

// The interactive shell keeps one connection between commands; when mboxd has timed
// it out, the next command goes out on a new one.
TEST_F(CommandServerTest, ShellTimedOutWhileIdleStillRunsItsNextCommand) {
    auto server = open_server({.stalled = 5s, .idle = 100ms});
    Serving serving(*server, recorder_.handler());
    CommandClient client = connect();
    EXPECT_EQ(call(client, "show arp").text, "show arp");
    for (int i = 0; i < 100 && client.connected(); ++i) std::this_thread::sleep_for(10ms);
    ASSERT_FALSE(client.connected());  // mboxd closed it
    EXPECT_EQ(call(client, "sh ipsec peer 192.0.2.7").text, "show ipsec peer 192.0.2.7");
    EXPECT_EQ(recorder_.calls().size(), 2u);
}

// A bare listener in mboxd's place, to close a connection at exactly the wrong moment.
class FakeDaemon {
   public:
    explicit FakeDaemon(const std::string& path) : fd_(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
        fs::create_directories(fs::path(path).parent_path());
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
        EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
        EXPECT_EQ(::listen(fd_, 4), 0);
    }
    ~FakeDaemon() { ::close(fd_); }

    // The next connection, or -1 when none comes within `timeout`.
    int accept(std::chrono::milliseconds timeout) {
        pollfd pfd{fd_, POLLIN, 0};
        if (::poll(&pfd, 1, static_cast<int>(timeout.count())) <= 0) return -1;
        return ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    }

    // Blocks until `fd` has something to read (the client's request).
    static void wait_readable(int fd) {
        pollfd pfd{fd, POLLIN, 0};
        ::poll(&pfd, 1, 5000);
    }

    // One line from `fd`, without its '\n'.
    static std::string read_line(int fd) {
        std::string line;
        char c;
        while (::read(fd, &c, 1) == 1 && c != '\n') line += c;
        return line;
    }

   private:
    int fd_;
};

TEST_F(CommandServerTest, ClientSendsAgainARequestMboxdClosedUnread) {
    FakeDaemon daemon(path_);
    CommandClient client = connect();
    const int first = daemon.accept(1s);
    ASSERT_GE(first, 0);
    std::string resent;
    std::thread mboxd([&] {
        FakeDaemon::wait_readable(first);
        ::close(first);  // the request is still queued, unread: as an idle timeout racing it would
        const int second = daemon.accept(2s);
        if (second < 0) return;
        resent = FakeDaemon::read_line(second);
        Reply reply;
        reply.text = "answered on the new connection";
        const std::string line = encode_reply(reply) + "\n";
        EXPECT_EQ(::write(second, line.data(), line.size()), static_cast<ssize_t>(line.size()));
        ::close(second);
    });
    Reply reply = call(client, "show arp");
    mboxd.join();
    EXPECT_EQ(reply.text, "answered on the new connection") << reply.error;
    EXPECT_EQ(resent, encode_request({"show arp", false}));
}

TEST_F(CommandServerTest, ClientNeverSendsAgainARequestMboxdHadRead) {
    FakeDaemon daemon(path_);
    CommandClient client = connect();
    const int first = daemon.accept(1s);
    ASSERT_GE(first, 0);
    std::thread mboxd([&] {
        EXPECT_EQ(FakeDaemon::read_line(first), encode_request({"configure /etc/mbox.conf", false}));
        ::close(first);  // read, maybe carried out, then gone without an answer
    });
    auto reply = client.call({"configure /etc/mbox.conf", false}, 2s);
    mboxd.join();
    ASSERT_TRUE(std::holds_alternative<std::string>(reply));
    EXPECT_EQ(std::get<std::string>(reply), "mboxd closed the connection");
    EXPECT_EQ(daemon.accept(100ms), -1);  // no second attempt
}

}  // namespace
}  // namespace mbox::control
