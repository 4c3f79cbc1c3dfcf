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

#include "control/log.hpp"

namespace mbox::control {

namespace {

// Fewer than kMaxClients: a client accepted in one round has its request read in the next,
// before enough newcomers can have arrived to evict it.
constexpr size_t kAcceptBudget = 16;
constexpr auto kDropLogInterval = std::chrono::seconds(10);
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

// "16 evicted for newcomers, 1 idle": the counts that grew since `before`.
std::string describe_drops(const CommandServerDrops& now, const CommandServerDrops& before) {
    const std::pair<uint64_t CommandServerDrops::*, const char*> reasons[] = {
        {&CommandServerDrops::evicted, "evicted for newcomers"},
        {&CommandServerDrops::stalled, "stalled in a request or a reply"},
        {&CommandServerDrops::unread, "not reading their replies"},
        {&CommandServerDrops::idle, "idle"},
    };
    std::string text;
    for (const auto& [field, reason] : reasons) {
        if (now.*field == before.*field) continue;
        text += fmt::format("{}{} {}", text.empty() ? "" : ", ", now.*field - before.*field, reason);
    }
    return text;
}

}  // namespace

struct CommandServer::Client {
    Client(int descriptor, Clock::time_point now) : fd(descriptor), last_active(now), request_started(now) {}
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;
    ~Client() { ::close(fd); }

    bool has_request() const { return in.find('\n') != std::string::npos; }
    // Part of a request has arrived and its end has not (or an over-long one is being skipped).
    bool partial() const { return skipping || (!in.empty() && !has_request()); }
    // Nothing in flight: no request arriving or waiting, no reply being written.
    bool idle() const { return in.empty() && !skipping && out.empty(); }
    // Unanswered requests are answered before more is read, which bounds `in`.
    bool wants_input() const { return !peer_closed && !dead && in.size() <= kMaxRequestBytes; }
    bool finished() const { return dead || (peer_closed && out.empty() && !has_request()); }

    int fd;
    std::string in;            // received, not yet answered
    std::string out;           // replies not yet written
    bool skipping = false;     // inside an over-long request: drop bytes up to its '\n'
    bool peer_closed = false;  // EOF read: answer complete lines, flush, then close
    bool dead = false;         // write failed, backlog over the cap, timed out: close now
    Clock::time_point last_active;      // the last byte read or written
    Clock::time_point request_started;  // the first byte of the request now arriving
};

std::unique_ptr<CommandServer> CommandServer::open(const std::string& path, std::string& error,
                                                   std::span<const CommandSpec> table, ClientTimeouts timeouts) {
    sockaddr_un addr;
    if (!make_address(path, addr, error) || !ensure_parent_directory(path, error) ||
        !remove_stale_socket(path, addr, error)) {
        return nullptr;
    }
    int fd = bind_and_listen(path, addr, error);
    if (fd < 0) return nullptr;
    return std::unique_ptr<CommandServer>(new CommandServer(path, fd, table, timeouts));
}

CommandServer::CommandServer(std::string path, int listen_fd, std::span<const CommandSpec> table,
                             ClientTimeouts timeouts)
    : path_(std::move(path)), listen_fd_(listen_fd), table_(table), timeouts_(timeouts) {
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

void CommandServer::serve(std::chrono::milliseconds timeout, const Handler& handler, int wake_fd) {
    const auto deadline = Clock::now() + timeout;
    bool woken = false;
    do {
        if (!poll_once(deadline, wake_fd, woken)) return;
        close_expired(Clock::now());
        for (auto& client : clients_) answer_pending(*client, handler, deadline);
        std::erase_if(clients_, [](const auto& client) { return client->finished(); });
        log_drops(Clock::now());
    } while (!woken && Clock::now() < deadline);
}

// When the server gives up on a client. A request arriving, or a reply being written,
// must make progress within the stalled timeout; a client with nothing in flight may
// wait the idle one. A complete request is answered this round, so never expires.
CommandServer::Clock::time_point CommandServer::expiry(const Client& client) const {
    if (client.has_request()) return Clock::time_point::max();
    if (client.partial()) return client.request_started + timeouts_.stalled;
    if (!client.out.empty()) return client.last_active + timeouts_.stalled;
    return client.last_active + timeouts_.idle;
}

CommandServer::Clock::time_point CommandServer::next_expiry() const {
    auto next = Clock::time_point::max();
    for (const auto& client : clients_) {
        if (!client->dead) next = std::min(next, expiry(*client));
    }
    return next;
}

void CommandServer::close_expired(Clock::time_point now) {
    for (const auto& client : clients_) {
        if (client->dead || now < expiry(*client)) continue;
        client->dead = true;
        ++(client->idle() ? drops_.idle : drops_.stalled);
    }
}

// As counts, at most once per interval: a flood of connections must not flood the log.
void CommandServer::log_drops(Clock::time_point now) {
    if (drops_ == logged_ || now < next_log_) return;
    // Idle clients closed are routine (a shell left open); the others mean a broken or
    // hostile client, or a flood.
    const bool routine = drops_.stalled == logged_.stalled && drops_.evicted == logged_.evicted &&
                         drops_.unread == logged_.unread;
    log_line(routine ? LogLevel::Info : LogLevel::Warning,
             fmt::format("command socket: closed clients: {} ({} connected)", describe_drops(drops_, logged_),
                         clients_.size()));
    logged_ = drops_;
    next_log_ = now + kDropLogInterval;
}

bool CommandServer::has_pending_work() const {
    for (const auto& client : clients_) {
        if (!client->dead && client->has_request()) return true;
    }
    return false;
}

// One poll(2) round: waits until an fd is ready, a client's timeout or the deadline (not at
// all when requests are already waiting), then reads, writes and accepts. False on an
// unexpected poll error.
bool CommandServer::poll_once(Clock::time_point deadline, int wake_fd, bool& woken) {
    std::vector<pollfd> fds;
    // At the client limit with no client to evict, newcomers wait in the listen backlog.
    const bool room = clients_.size() < kMaxClients || eviction_candidate() != nullptr;
    short accepting = room ? POLLIN : 0;
    fds.push_back({listen_fd_, accepting, 0});
    for (const auto& client : clients_) {
        short events = client->wants_input() ? POLLIN : 0;  // backpressure
        if (!client->out.empty()) events |= POLLOUT;
        fds.push_back({client->fd, events, 0});
    }
    const auto wake = std::min(deadline, next_expiry());
    auto left = std::chrono::ceil<std::chrono::milliseconds>(wake - Clock::now()).count();
    int wait = has_pending_work() ? 0 : static_cast<int>(std::clamp<long long>(left, 0, INT_MAX));
    if (wake_fd >= 0) fds.push_back({wake_fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), wait) < 0) return errno == EINTR;
    if (wake_fd >= 0 && (fds.back().revents & POLLIN)) woken = true;
    for (size_t i = 0; i < clients_.size(); ++i) {
        Client& client = *clients_[i];
        short revents = fds[i + 1].revents;
        if (revents & (POLLIN | POLLHUP | POLLERR)) read_from(client);
        if ((revents & POLLOUT) && !client.dead) write_to(client);
    }
    if (fds[0].revents & POLLIN) accept_clients();
    return true;
}

// Accepts up to kAcceptBudget waiting connections. At the client limit each newcomer
// evicts a client that has no request waiting; when none can go, the rest wait in the
// listen backlog. (Refusing newcomers instead would let 64 silent connections lock every
// operator out.)
void CommandServer::accept_clients() {
    std::erase_if(clients_, [](const auto& client) { return client->finished(); });  // free their places first
    for (size_t accepted = 0; accepted < kAcceptBudget;) {
        const bool full = clients_.size() >= kMaxClients;
        Client* victim = full ? eviction_candidate() : nullptr;
        if (full && victim == nullptr) return;
        int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0 && (errno == EINTR || errno == ECONNABORTED)) continue;
        if (fd < 0) return;  // EAGAIN: none left; EMFILE and the like: retry on the next round
        if (victim != nullptr) {
            std::erase_if(clients_, [&](const auto& client) { return client.get() == victim; });
            ++drops_.evicted;
        }
        clients_.push_back(std::make_unique<Client>(fd, Clock::now()));
        ++accepted;
    }
}

// The client to close so a newcomer can be served: the one quiet for longest (no byte
// read or written), idle or stalled in a partial request alike. A connection just
// accepted is the newest, so it lives until its request is read in the next round; and
// one whose complete request waits is answered this round, so it is never chosen.
CommandServer::Client* CommandServer::eviction_candidate() const {
    Client* quietest = nullptr;
    for (const auto& client : clients_) {
        if (client->has_request()) continue;
        if (quietest == nullptr || client->last_active < quietest->last_active) quietest = client.get();
    }
    return quietest;
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
        const auto now = Clock::now();
        client.last_active = now;
        std::string_view chunk(buffer, static_cast<size_t>(n));
        if (client.skipping) {
            size_t end = chunk.find('\n');
            client.skipping = end == std::string_view::npos;
            chunk = client.skipping ? std::string_view() : chunk.substr(end + 1);
        }
        if (client.in.empty() && !client.skipping && !chunk.empty()) client.request_started = now;
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
    if (written > 0) client.last_active = Clock::now();
    client.out.erase(0, written);
    if (client.out.size() > kMaxBacklogBytes && !client.dead) {
        client.dead = true;
        ++drops_.unread;
    }
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
    if (start > 0 && !client.in.empty()) client.request_started = Clock::now();  // the next one has begun
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
