#include "control/log.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace mbox::control {

void log_line(LogLevel level, std::string_view message) {
    const auto now = std::chrono::system_clock::now();
    const std::time_t t = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    const char* tag = level == LogLevel::Info ? "info" : level == LogLevel::Warning ? "warning" : "error";
    std::fprintf(stderr, "%s mboxd %s: %.*s\n", stamp, tag, static_cast<int>(message.size()), message.data());
    std::fflush(stderr);
}

}  // namespace mbox::control
