// `ipsec manual-sa NAME` in the mbox language: its sub-commands and its block.
// Internal to config/: the parser and the emitter of mbox_language.cpp call these.
#pragma once

#include <string>

#include "config/mbox_language.hpp"
#include "config/mbox_syntax.hpp"
#include "config/model.hpp"

namespace mbox::config {

inline constexpr std::string_view kManualSaKeywords[] = {"local",     "peer",          "local-net", "remote-net",
                                                         "esp",       "inbound",       "outbound",  "udp-encap",
                                                         "replay-window", "esn", "df-bit"};

// One sub-command of a manual-sa block (or of its single-line form) into `sa`.
// Returns false when the line was wrong; it has been reported then.
//
//  local ip A | peer A | local-net P[,P...] | remote-net P[,P...] | esp ENC [HASH]
//  inbound|outbound spi SPI enc-key KEY [auth-key KEY] | udp-encap SPORT DPORT
//  replay-window N | esn
//
// Key lengths, a missing auth-key and SPIs used twice need the whole block (or the
// whole configuration); validation reports those.
bool parse_manual_sa_sub_command(ManualSa& sa, mbox_syntax::Words& words, mbox_syntax::LineReader& reader);

// The canonical block; keys as 0x-prefixed lower-case hex, or "********".
void emit_manual_sa(std::string& out, const ManualSa& sa, EmitOptions options);

}  // namespace mbox::config
