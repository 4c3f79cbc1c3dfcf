// A secret written in the configuration (a pre-shared key): text that wipes its bytes
// whenever it gives them up (destruction, assignment, move), so that a PSK does not
// linger in freed memory of the control thread. Emitters redact it; it has no
// operator<< and never reaches a log line.
#pragma once

#include <string.h>  // explicit_bzero

#include <string>
#include <string_view>
#include <utility>

namespace mbox::config {

class SecretText {
public:
    SecretText() = default;
    SecretText(std::string text) : text_(std::move(text)) {}  // NOLINT: reads like the text it holds
    SecretText(const char* text) : text_(text) {}              // NOLINT
    SecretText(const SecretText& other) : text_(other.text_) {}
    // A moved-from std::string may keep short text in its inline buffer: copy, then wipe.
    SecretText(SecretText&& other) noexcept : text_(other.text_) { other.wipe(); }
    SecretText& operator=(const SecretText& other) {
        if (this != &other) {
            wipe();
            text_ = other.text_;
        }
        return *this;
    }
    SecretText& operator=(SecretText&& other) noexcept {
        if (this != &other) {
            wipe();
            text_ = other.text_;
            other.wipe();
        }
        return *this;
    }
    ~SecretText() { wipe(); }

    bool empty() const { return text_.empty(); }
    void clear() noexcept { wipe(); }
    size_t size() const { return text_.size(); }
    std::string_view view() const { return text_; }
    operator std::string_view() const { return text_; }  // NOLINT

    // Text compares through the implicit constructor: `psk == "Letmein99"`.
    friend bool operator==(const SecretText& a, const SecretText& b) { return a.text_ == b.text_; }

private:
    void wipe() noexcept {
        if (!text_.empty()) explicit_bzero(text_.data(), text_.size());
        text_.clear();
    }
    std::string text_;
};

}  // namespace mbox::config
