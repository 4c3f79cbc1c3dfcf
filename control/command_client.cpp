#include "control/command_client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <utility>

#include <fmt/format.h>

namespace mbox::control {

namespace {

constexpr size_t kMaxReplyBytes = 256 * 1024 * 1024;  // far above any real reply
constexpr size_t kReadChunk = 64 * 1024;

std::string connect_hint(int err) {
    switch (err) {
        case ENOENT:
        case ECONNREFUSED:
            return " (is mboxd running?)";
        case EACCES:
            return " (needs root or the socket's group)";
        case EAGAIN:
            return " (mboxd is too busy to accept)";
        default:
            return "";
    }
}

std::string describe(std::chrono::milliseconds timeout) {
    if (timeout.count() % 1000 == 0) return fmt::format("{} s", timeout.count() / 1000);
    return fmt::format("{} ms", timeout.count());
}

}  // namespace

std::variant<CommandClient, std::string> CommandClient::connect(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
        return fmt::format("cannot connect to {}: invalid socket path", path);
    }
    std::memcpy(addr.sun_path, path.data(), path.size());
    // Non-blocking: a Unix connect() to a full backlog would otherwise wait forever.
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return fmt::format("cannot create socket: {}", std::strerror(errno));
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
        int err = errno;
        ::close(fd);
        return fmt::format("cannot connect to {}: {}{}", path, std::strerror(err), connect_hint(err));
    }
    return CommandClient(path, fd);
}

CommandClient::CommandClient(CommandClient&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)), in_(std::move(other.in_)) {}

CommandClient& CommandClient::operator=(CommandClient&& other) noexcept {
    if (this != &other) {
        disconnect();
        path_ = std::move(other.path_);
        fd_ = std::exchange(other.fd_, -1);
        in_ = std::move(other.in_);
    }
    return *this;
}

CommandClient::~CommandClient() { disconnect(); }

bool CommandClient::connected() const {
    if (fd_ < 0) return false;
    // Between calls mboxd sends nothing: a readable socket means it hung up.
    pollfd pfd{fd_, POLLIN, 0};
    return ::poll(&pfd, 1, 0) == 0;
}

void CommandClient::disconnect() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    in_.clear();
}

std::variant<Reply, std::string> CommandClient::call(const Request& request,
                                                     std::chrono::milliseconds timeout) {
    if (!connected()) {
        if (auto error = reconnect()) return *std::move(error);
    }
    const auto deadline = Clock::now() + timeout;
    const std::string line = encode_request(request) + '\n';
    auto result = exchange(line, deadline, timeout);
    if (const auto* failure = std::get_if<Failure>(&result); failure != nullptr && failure->request_unread) {
        // Closed while the request was on its way (an idle timeout, say): mboxd never saw it.
        if (auto error = reconnect()) return *std::move(error);
        result = exchange(line, deadline, timeout);
    }
    if (auto* failure = std::get_if<Failure>(&result)) {
        disconnect();
        return std::move(failure->message);
    }
    return std::get<Reply>(std::move(result));
}

// A fresh connection to the same socket in place of this one; the error if there is none.
std::optional<std::string> CommandClient::reconnect() {
    auto fresh = connect(path_);
    if (auto* error = std::get_if<std::string>(&fresh)) {
        disconnect();
        return std::move(*error);
    }
    *this = std::get<CommandClient>(std::move(fresh));
    return std::nullopt;
}

std::variant<Reply, CommandClient::Failure> CommandClient::exchange(std::string_view line,
                                                                     Clock::time_point deadline,
                                                                     std::chrono::milliseconds timeout) {
    if (auto failure = send_line(line, deadline, timeout)) return *std::move(failure);
    return receive_reply(deadline, timeout);
}

// Waits until the socket is ready for `events`; the error when the deadline passes first.
std::optional<std::string> CommandClient::wait_for(short events, Clock::time_point deadline,
                                                   std::chrono::milliseconds timeout) {
    for (;;) {
        auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return fmt::format("no answer from mboxd within {}", describe(timeout));
        pollfd pfd{fd_, events, 0};
        int rc = ::poll(&pfd, 1, static_cast<int>(std::min<long long>(left, INT_MAX)));
        if (rc > 0) return std::nullopt;
        if (rc < 0 && errno != EINTR) return fmt::format("poll: {}", std::strerror(errno));
    }
}

// A line that did not go out whole is no request to mboxd.
std::optional<CommandClient::Failure> CommandClient::send_line(std::string_view line,
                                                               Clock::time_point deadline,
                                                               std::chrono::milliseconds timeout) {
    while (!line.empty()) {
        ssize_t n = ::send(fd_, line.data(), line.size(), MSG_NOSIGNAL);
        if (n >= 0) {
            line.remove_prefix(static_cast<size_t>(n));
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (auto error = wait_for(POLLOUT, deadline, timeout)) return Failure{*std::move(error)};
        } else if (errno == EPIPE || errno == ECONNRESET) {
            return Failure{"mboxd closed the connection", true};
        } else if (errno != EINTR) {
            return Failure{fmt::format("cannot send to mboxd: {}", std::strerror(errno))};
        }
    }
    return std::nullopt;
}

std::variant<Reply, CommandClient::Failure> CommandClient::receive_reply(Clock::time_point deadline,
                                                                         std::chrono::milliseconds timeout) {
    char buffer[kReadChunk];
    size_t end;
    while ((end = in_.find('\n')) == std::string::npos) {
        if (in_.size() > kMaxReplyBytes) return Failure{"reply from mboxd too long"};
        ssize_t n = ::read(fd_, buffer, sizeof(buffer));
        if (n > 0) {
            in_.append(buffer, static_cast<size_t>(n));
        } else if (n == 0 || errno == ECONNRESET) {
            // A Unix socket closed with data still queued to it resets its peer; a clean
            // EOF means mboxd had read the request.
            return Failure{"mboxd closed the connection", n < 0 && in_.empty()};
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (auto error = wait_for(POLLIN, deadline, timeout)) return Failure{*std::move(error)};
        } else if (errno != EINTR) {
            return Failure{fmt::format("cannot read from mboxd: {}", std::strerror(errno))};
        }
    }
    std::string line = in_.substr(0, end);
    in_.erase(0, end + 1);
    auto reply = decode_reply(line);
    if (auto* error = std::get_if<std::string>(&reply)) return Failure{std::move(*error)};
    return std::get<Reply>(std::move(reply));
}

}  // namespace mbox::control
