// The mbox configuration language: parser (block and single-line forms) and emitter.
#pragma once

#include <string>
#include <string_view>

#include "config/diagnostic.hpp"
#include "config/model.hpp"

namespace mbox::config {

struct ParseResult {
    Config config;
    Diagnostics diagnostics;  // syntax errors found while parsing (not validation)
};

// Parses text in the mbox language. `file` names the source in diagnostics.
// Every line is either understood or reported: nothing is silently ignored.
//
// Decisions where the appliance's manual is silent:
//  * Keywords and algorithm words are accepted in any case; names (interfaces) are not.
//  * Repeating `interface NAME`, `ipsec peer ADDR` or `ipsec manual-sa NAME` reopens
//    the same object (the single-line forms accumulate); a scalar setting given again
//    replaces the old one (`inbound ...` replaces the whole inbound SA), `ip address`,
//    `local-net`, `remote-net` and `ca-cert` append. A policy or firewall-snat number
//    defined twice is an error. `ipsec pki` is one object that every header reopens.
//  * `ipsec peer any remote-id ID` reopens the `any` peer with that remote-id (or
//    starts it); a bare `ipsec peer any` always starts a new one. Nothing but
//    `remote-id ID` may follow `ipsec peer any` on its line.
//  * Free text at the end of a line (description, psk, local-id, remote-id) is taken
//    literally; one pair of surrounding double quotes is stripped, which is how
//    leading or trailing blanks are written. A remark is a "quoted text" with \" and
//    \\ escapes, or one word.
//  * A block whose header was wrong still has its indented lines checked, into a
//    scratch object, so one mistake does not hide the ones below it.
ParseResult parse_mbox(std::string_view text, std::string_view file);

struct EmitOptions {
    bool redact_secrets = false;  // `show running-config` prints "psk ********", "enc-key ********"
};

// Canonical block form; parse_mbox(emit_mbox(c)) reproduces c (locations aside).
std::string emit_mbox(const Config&, EmitOptions = {});

}  // namespace mbox::config
