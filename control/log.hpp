// The control thread's log: one line per event on stderr with a UTC timestamp. Workers
// never log; they count.
#pragma once

#include <fmt/format.h>

#include <string_view>

namespace mbox::control {

enum class LogLevel { Info, Warning, Error };

void log_line(LogLevel level, std::string_view message);

template <typename... Args>
void log_info(fmt::format_string<Args...> f, Args&&... args) {
    log_line(LogLevel::Info, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void log_warning(fmt::format_string<Args...> f, Args&&... args) {
    log_line(LogLevel::Warning, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void log_error(fmt::format_string<Args...> f, Args&&... args) {
    log_line(LogLevel::Error, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace mbox::control
