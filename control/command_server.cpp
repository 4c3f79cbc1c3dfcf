#include "control/command_server.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>

namespace mbox::control {

namespace {

constexpr size_t kMaxClients = 64;
constexpr size_t kReadChunk = 16 * 1024;
constexpr size_t kReadBudget = 256 * 1024;       // per client per poll round, for fairness
// Replies a client has not read yet; past this it is dropped rather than buffered further.
constexpr size_t kMaxBacklogBytes = 16 * 1024 * 1024;
constexpr mode_t kSocketMode = 0660;
constexpr mode_t kDirectoryMode = 0755;

std::string errno_text(int err) { return std::strerror(err); }

bool make_address(const std::string& path, sockaddr_un& addr, std::string& error) {
    addr = {};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
        error = fmt::format("invalid socket path '{}' (1 to {} bytes)", path, sizeof(addr.sun_path) - 1);
        return false;
    }
    std::memcpy(addr.sun_path, path.data(), path.size());
    return true;
}

bool ensure_parent_directory(const std::string& path, std::string& error) {
    namespace fs = std::filesystem;
    fs::path parent = fs::path(path).parent_path();
    std::error_code ec;
    if (parent.empty() || fs::is_directory(parent, ec)) return true;
    if (!fs::create_directories(parent, ec) && ec) {
        error = fmt::format("cannot create directory {}: {}", parent.string(), ec.message());
        return false;
    }
    ::chmod(parent.c_str(), kDirectoryMode);
    return true;
}

// Probes an existing socket file: a live daemon accepts the connection (or is too busy to),
// a stale file refuses it.
enum class Probe { Live, Stale, Failed };

Probe probe(const sockaddr_un& addr, int& err) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        err = errno;
        return Probe::Failed;
    }
    int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
    err = rc == 0 ? 0 : errno;
    ::close(fd);
    if (rc == 0 || err == EAGAIN) return Probe::Live;
    return err == ECONNREFUSED ? Probe::Stale : Probe::Failed;
}

bool remove_stale_socket(const std::string& path, const sockaddr_un& addr, std::string& error) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return true;  // nothing there
    if (!S_ISSOCK(st.st_mode)) {
        error = fmt::format("{} exists and is not a socket", path);
        return false;
    }
    int err = 0;
    switch (probe(addr, err)) {
        case Probe::Live:
            error = fmt::format("another mboxd is already listening on {}", path);
            return false;
        case Probe::Failed:
            error = fmt::format("cannot check existing socket {}: {}", path, errno_text(err));
            return false;
        case Probe::Stale:
            break;
    }
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        error = fmt::format("cannot remove stale socket {}: {}", path, errno_text(errno));
        return false;
    }
    return true;
}

int bind_and_listen(const std::string& path, const sockaddr_un& addr, std::string& error) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error = fmt::format("cannot create socket: {}", errno_text(errno));
        return -1;
    }
    // bind() creates the file under the umask (022 for a daemon: nobody else may connect);
    // chmod then opens it to the group.
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::listen(fd, SOMAXCONN) != 0 || ::chmod(path.c_str(), kSocketMode) != 0) {
        error = fmt::format("cannot listen on {}: {}", path, errno_text(errno));
        ::close(fd);
        return -1;
    }
    return fd;
}

std::string reply_line(const Reply& reply) { return encode_reply(reply) + '\n'; }

std::string too_long_message() {
    return fmt::format("request too long (more than {} bytes)", kMaxRequestBytes);
}

}  // namespace

struct CommandServer::Client {
    explicit Client(int descriptor) : fd(descriptor) {}
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;
    ~Client() { ::close(fd); }

    bool has_request() const { return in.find('\n') != std::string::npos; }
    // Unanswered requests are answered before more is read, which bounds `in`.
    bool wants_input() const { return !peer_closed && !dead && in.size() <= kMaxRequestBytes; }
    bool finished() const { return dead || (peer_closed && out.empty() && !has_request()); }

    int fd;
    std::string in;            // received, not yet answered
    std::string out;           // replies not yet written
    bool skipping = false;     // inside an over-long request: drop bytes up to its '\n'
    bool peer_closed = false;  // EOF read: answer complete lines, flush, then close
    bool dead = false;         // write failed or backlog over the cap: close now
};

std::unique_ptr<CommandServer> CommandServer::open(const std::string& path, std::string& error,
                                                   std::span<const CommandSpec> table) {
    sockaddr_un addr;
    if (!make_address(path, addr, error) || !ensure_parent_directory(path, error) ||
        !remove_stale_socket(path, addr, error)) {
        return nullptr;
    }
    int fd = bind_and_listen(path, addr, error);
    if (fd < 0) return nullptr;
    return std::unique_ptr<CommandServer>(new CommandServer(path, fd, table));
}

CommandServer::CommandServer(std::string path, int listen_fd, std::span<const CommandSpec> table)
    : path_(std::move(path)), listen_fd_(listen_fd), table_(table) {
    struct stat st {};
    if (::stat(path_.c_str(), &st) == 0) {
        socket_dev_ = st.st_dev;
        socket_ino_ = st.st_ino;
    }
}

CommandServer::~CommandServer() {
    clients_.clear();
    ::close(listen_fd_);
    struct stat st {};
    if (::stat(path_.c_str(), &st) == 0 && st.st_dev == socket_dev_ && st.st_ino == socket_ino_) {
        ::unlink(path_.c_str());
    }
}

void CommandServer::serve(std::chrono::milliseconds timeout, const Handler& handler) {
    const auto deadline = Clock::now() + timeout;
    do {
        if (!poll_once(deadline)) return;
        for (auto& client : clients_) answer_pending(*client, handler, deadline);
        std::erase_if(clients_, [](const auto& client) { return client->finished(); });
    } while (Clock::now() < deadline);
}

bool CommandServer::has_pending_work() const {
    for (const auto& client : clients_) {
        if (!client->dead && client->has_request()) return true;
    }
    return false;
}

// One poll(2) round: waits until an fd is ready or the deadline (not at all when requests
// are already waiting), then accepts, reads and writes. False on an unexpected poll error.
bool CommandServer::poll_once(Clock::time_point deadline) {
    std::vector<pollfd> fds;
    // At the client limit, newcomers wait in the listen backlog.
    short accepting = clients_.size() < kMaxClients ? POLLIN : 0;
    fds.push_back({listen_fd_, accepting, 0});
    for (const auto& client : clients_) {
        short events = client->wants_input() ? POLLIN : 0;  // backpressure
        if (!client->out.empty()) events |= POLLOUT;
        fds.push_back({client->fd, events, 0});
    }
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    int wait = has_pending_work() ? 0 : static_cast<int>(std::clamp<long long>(left, 0, INT_MAX));
    if (::poll(fds.data(), fds.size(), wait) < 0) return errno == EINTR;
    for (size_t i = 0; i < clients_.size(); ++i) {
        Client& client = *clients_[i];
        short revents = fds[i + 1].revents;
        if (revents & (POLLIN | POLLHUP | POLLERR)) read_from(client);
        if ((revents & POLLOUT) && !client.dead) write_to(client);
    }
    if (fds[0].revents & POLLIN) accept_clients();
    return true;
}

void CommandServer::accept_clients() {
    while (clients_.size() < kMaxClients) {
        int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            clients_.push_back(std::make_unique<Client>(fd));
        } else if (errno != EINTR && errno != ECONNABORTED) {
            return;  // EAGAIN: none left; EMFILE and the like: retry on the next round
        }
    }
}

// Reads what the client has sent, up to a budget per round.
void CommandServer::read_from(Client& client) {
    char buffer[kReadChunk];
    for (size_t total = 0; total < kReadBudget;) {
        ssize_t n = ::read(client.fd, buffer, sizeof(buffer));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n <= 0) {
            client.peer_closed = true;  // EOF, or a reset: either way nothing more comes
            return;
        }
        std::string_view chunk(buffer, static_cast<size_t>(n));
        if (client.skipping) {
            size_t end = chunk.find('\n');
            client.skipping = end == std::string_view::npos;
            chunk = client.skipping ? std::string_view() : chunk.substr(end + 1);
        }
        client.in.append(chunk);
        total += static_cast<size_t>(n);
    }
}

// Writes as much backlog as the socket takes; drops the client on error or over the cap.
void CommandServer::write_to(Client& client) {
    size_t written = 0;
    while (written < client.out.size()) {
        ssize_t n = ::send(client.fd, client.out.data() + written, client.out.size() - written,
                           MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (n < 0) {
            client.dead = true;
            return;
        }
        written += static_cast<size_t>(n);
    }
    client.out.erase(0, written);
    if (client.out.size() > kMaxBacklogBytes) client.dead = true;
}

// Answers the complete requests a client has sent, in order, until the deadline (at least
// one, so every round makes progress); the rest wait for the next round.
void CommandServer::answer_pending(Client& client, const Handler& handler,
                                   Clock::time_point deadline) {
    size_t start = 0;
    while (!client.dead) {
        size_t end = client.in.find('\n', start);
        if (end == std::string::npos) break;
        answer_line(client, std::string_view(client.in).substr(start, end - start), handler);
        start = end + 1;
        if (Clock::now() >= deadline) break;
    }
    client.in.erase(0, start);
    if (!client.has_request() && client.in.size() > kMaxRequestBytes && !client.dead) {
        client.in.clear();
        client.skipping = true;
        client.out += reply_line(Reply::failure(too_long_message()));
        write_to(client);
    }
}

void CommandServer::answer_line(Client& client, std::string_view line, const Handler& handler) {
    client.out += reply_line(dispatch(line, handler));
    write_to(client);
}

Reply CommandServer::dispatch(std::string_view line, const Handler& handler) const {
    if (line.size() > kMaxRequestBytes) return Reply::failure(too_long_message());
    auto decoded = decode_request(line);
    if (auto* error = std::get_if<std::string>(&decoded)) return Reply::failure(*error);
    const Request& request = std::get<Request>(decoded);
    auto matched = match_command(table_, split_words(request.command));
    if (auto* error = std::get_if<std::string>(&matched)) return Reply::failure(*error);
    const CommandMatch& match = std::get<CommandMatch>(matched);
    try {
        return handler(match, request);
    } catch (const std::exception& e) {
        return Reply::failure(fmt::format("internal error in '{}': {}", command_key(*match.spec), e.what()));
    } catch (...) {
        return Reply::failure(fmt::format("internal error in '{}'", command_key(*match.spec)));
    }
}

}  // namespace mbox::control
