// The `mbox` side of the command channel: one connection to mboxd's socket, one request
// at a time (an interactive session sends many over the same connection).
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

    // Sends one request and waits for its reply. A transport failure (timeout, mboxd gone,
    // garbage on the wire) returns the message and closes the connection: connected()
    // turns false and the caller may connect again.
    std::variant<Reply, std::string> call(const Request& request,
                                          std::chrono::milliseconds timeout = kDefaultTimeout);

    // False once a call failed or mboxd closed the connection (it restarted, say).
    bool connected() const;
    const std::string& path() const { return path_; }

   private:
    using Clock = std::chrono::steady_clock;

    CommandClient(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}

    std::optional<std::string> send_line(std::string_view line, Clock::time_point deadline,
                                         std::chrono::milliseconds timeout);
    std::variant<Reply, std::string> receive_reply(Clock::time_point deadline,
                                                   std::chrono::milliseconds timeout);
    std::optional<std::string> wait_for(short events, Clock::time_point deadline,
                                        std::chrono::milliseconds timeout);
    void disconnect();

    std::string path_;
    int fd_ = -1;
    std::string in_;  // bytes received past the last reply line
};

}  // namespace mbox::control
