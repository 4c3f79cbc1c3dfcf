// The `mbox` side of the command channel: one connection to mboxd's socket, one request
// at a time (an interactive session sends many over the same connection, and connects
// again when mboxd has closed it).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "control/command_protocol.hpp"

namespace mbox::control {

inline constexpr const char* kDefaultSocketPath = "/run/mbox/mboxd.sock";

class CommandClient {
   public:
    static constexpr std::chrono::milliseconds kDefaultTimeout{10'000};

    // "cannot connect to /run/mbox/mboxd.sock: No such file or directory (is mboxd running?)"
    static std::variant<CommandClient, std::string> connect(const std::string& path);

    CommandClient(CommandClient&& other) noexcept;
    CommandClient& operator=(CommandClient&& other) noexcept;
    CommandClient(const CommandClient&) = delete;
    CommandClient& operator=(const CommandClient&) = delete;
    ~CommandClient();

    // Sends one request and waits for its reply. Connects again first when mboxd closed
    // the connection since the last call (it times idle clients out, or restarted). When
    // mboxd closes the connection without reading the request, the request is sent once
    // more on a new connection: mboxd never saw it, so that is safe. Any other transport
    // failure (timeout, mboxd gone before it answered, garbage on the wire) returns the
    // message and closes the connection, and nothing is sent again: the request may have
    // been carried out.
    std::variant<Reply, std::string> call(const Request& request,
                                          std::chrono::milliseconds timeout = kDefaultTimeout);

    // False once a call failed or mboxd closed the connection (an idle timeout, a restart).
    bool connected() const;
    const std::string& path() const { return path_; }

   private:
    using Clock = std::chrono::steady_clock;

    // A transport failure, and whether mboxd certainly did not read the request: it
    // closed the connection with the request still queued unread (ECONNRESET on a Unix
    // socket) or before it was sent (EPIPE).
    struct Failure {
        std::string message;
        bool request_unread = false;
    };

    CommandClient(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}

    std::optional<std::string> reconnect();
    std::variant<Reply, Failure> exchange(std::string_view line, Clock::time_point deadline,
                                          std::chrono::milliseconds timeout);
    std::optional<Failure> send_line(std::string_view line, Clock::time_point deadline,
                                     std::chrono::milliseconds timeout);
    std::variant<Reply, Failure> receive_reply(Clock::time_point deadline, std::chrono::milliseconds timeout);
    std::optional<std::string> wait_for(short events, Clock::time_point deadline,
                                        std::chrono::milliseconds timeout);
    void disconnect();

    std::string path_;
    int fd_ = -1;
    std::string in_;  // bytes received past the last reply line
};

}  // namespace mbox::control
