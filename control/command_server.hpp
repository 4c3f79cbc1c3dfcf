// The Unix-socket server on mboxd's control thread that answers `mbox` commands.
// Single-threaded and non-blocking: the control thread calls serve() in its loop.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "control/command_protocol.hpp"
#include "control/command_table.hpp"

namespace mbox::control {

// How long the server waits on a client before it closes the connection, so that
// clients that connect and say nothing cannot hold the socket.
struct ClientTimeouts {
    // A request begun and not finished (a partial line), or a reply the client does not
    // read: `mbox` writes a request whole and reads its reply at once, so only a stalled
    // or hostile client is still at it after this.
    std::chrono::milliseconds stalled{5'000};
    // No request in flight: an interactive `mbox` between commands, which reconnects on
    // its next command (CommandClient::call).
    std::chrono::milliseconds idle{300'000};
};

// Connections the server closed on its own, by reason, since it opened.
struct CommandServerDrops {
    uint64_t stalled = 0;  // a partial request or an unread reply past ClientTimeouts::stalled
    uint64_t idle = 0;     // nothing in flight for ClientTimeouts::idle
    uint64_t evicted = 0;  // closed to admit a new client when all kMaxClients places were taken
    uint64_t unread = 0;   // replies not read past the backlog cap (16 MiB)

    bool operator==(const CommandServerDrops&) const = default;
};

class CommandServer {
   public:
    using Handler = std::function<Reply(const CommandMatch&, const Request&)>;

    // Clients served at once. One more connecting evicts the client quiet for longest
    // among those with no request waiting to be answered, so a flood of connections,
    // silent or half-open, can never keep an operator out.
    static constexpr size_t kMaxClients = 64;

    // Creates the parent directory (0755) if missing, replaces a stale socket file, binds,
    // listens and sets the socket to 0660. Fails (nullptr and `error` set) when another
    // daemon is listening on `path` or `path` exists and is not a socket. Requests are
    // matched against `table`, which must outlive the server.
    static std::unique_ptr<CommandServer> open(const std::string& path, std::string& error,
                                               std::span<const CommandSpec> table = command_table(),
                                               ClientTimeouts timeouts = {});

    CommandServer(const CommandServer&) = delete;
    CommandServer& operator=(const CommandServer&) = delete;
    ~CommandServer();  // closes every fd and unlinks the socket if it is still ours

    // Serves for at most `timeout` (plus the time a handler call takes): accepts clients,
    // reads newline-terminated requests, answers each with one reply line. A request that
    // matches no command is answered with the match error and the handler is not called;
    // an exception from the handler becomes an error reply. Replies a client does not read
    // are buffered; past a cap (16 MiB) the client is dropped, so it can never block mboxd.
    // Stalled and idle clients are closed after their timeouts; drops are logged.
    // `wake_fd` (when not -1) ends the wait early as soon as it is readable: the owner's
    // other work has arrived (mboxd: a worker punted). The owner drains it.
    void serve(std::chrono::milliseconds timeout, const Handler& handler, int wake_fd = -1);

    const std::string& path() const { return path_; }
    size_t client_count() const { return clients_.size(); }
    const CommandServerDrops& drops() const { return drops_; }

   private:
    struct Client;
    using Clock = std::chrono::steady_clock;

    CommandServer(std::string path, int listen_fd, std::span<const CommandSpec> table, ClientTimeouts timeouts);

    // false on an unexpected poll error; `woken`: wake_fd became readable.
    bool poll_once(Clock::time_point deadline, int wake_fd, bool& woken);
    void accept_clients();
    Client* eviction_candidate() const;
    void read_from(Client&);
    void write_to(Client&);
    void answer_pending(Client&, const Handler&, Clock::time_point deadline);
    void answer_line(Client&, std::string_view line, const Handler&);
    Reply dispatch(std::string_view line, const Handler&) const;
    bool has_pending_work() const;
    Clock::time_point expiry(const Client&) const;
    Clock::time_point next_expiry() const;
    void close_expired(Clock::time_point now);
    void log_drops(Clock::time_point now);

    std::string path_;
    int listen_fd_ = -1;
    dev_t socket_dev_ = 0;  // identify our socket file, so a successor's is never unlinked
    ino_t socket_ino_ = 0;
    std::span<const CommandSpec> table_;
    ClientTimeouts timeouts_;
    std::vector<std::unique_ptr<Client>> clients_;
    CommandServerDrops drops_;
    CommandServerDrops logged_;     // drops_ as last logged
    Clock::time_point next_log_{};  // drops are logged at most once per interval
};

}  // namespace mbox::control
