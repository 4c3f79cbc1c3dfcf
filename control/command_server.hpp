// The Unix-socket server on mboxd's control thread that answers `mbox` commands.
// Single-threaded and non-blocking: the control thread calls serve() in its loop.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "control/command_protocol.hpp"
#include "control/command_table.hpp"

namespace mbox::control {

class CommandServer {
   public:
    using Handler = std::function<Reply(const CommandMatch&, const Request&)>;

    // Creates the parent directory (0755) if missing, replaces a stale socket file, binds,
    // listens and sets the socket to 0660. Fails (nullptr and `error` set) when another
    // daemon is listening on `path` or `path` exists and is not a socket. Requests are
    // matched against `table`, which must outlive the server.
    static std::unique_ptr<CommandServer> open(const std::string& path, std::string& error,
                                               std::span<const CommandSpec> table = command_table());

    CommandServer(const CommandServer&) = delete;
    CommandServer& operator=(const CommandServer&) = delete;
    ~CommandServer();  // closes every fd and unlinks the socket if it is still ours

    // Serves for at most `timeout` (plus the time a handler call takes): accepts clients,
    // reads newline-terminated requests, answers each with one reply line. A request that
    // matches no command is answered with the match error and the handler is not called;
    // an exception from the handler becomes an error reply. Replies a client does not read
    // are buffered; past a cap (16 MiB) the client is dropped, so it can never block mboxd.
    void serve(std::chrono::milliseconds timeout, const Handler& handler);

    const std::string& path() const { return path_; }
    size_t client_count() const { return clients_.size(); }

   private:
    struct Client;
    using Clock = std::chrono::steady_clock;

    CommandServer(std::string path, int listen_fd, std::span<const CommandSpec> table);

    bool poll_once(Clock::time_point deadline);
    void accept_clients();
    void read_from(Client&);
    void write_to(Client&);
    void answer_pending(Client&, const Handler&, Clock::time_point deadline);
    void answer_line(Client&, std::string_view line, const Handler&);
    Reply dispatch(std::string_view line, const Handler&) const;
    bool has_pending_work() const;

    std::string path_;
    int listen_fd_ = -1;
    dev_t socket_dev_ = 0;  // identify our socket file, so a successor's is never unlinked
    ino_t socket_ino_ = 0;
    std::span<const CommandSpec> table_;
    std::vector<std::unique_ptr<Client>> clients_;
};

}  // namespace mbox::control
