// The SA manager: the only code that turns SA descriptions into data-plane SAs. Today
// it installs the configuration's manually keyed SAs; IKE will install negotiated ones
// through the same calls.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/model.hpp"
#include "crypto/esp_algorithms.hpp"
#include "dataplane/dataplane.hpp"

namespace mbox::control {

// The ESP transform for configuration algorithm words.
std::optional<crypto::EspAlgorithms> esp_algorithms(config::Encryption encryption, std::optional<config::Hash> hash);

class SaManager {
public:
    explicit SaManager(dataplane::Dataplane& dataplane) : dataplane_(dataplane) {}
    ~SaManager() { remove_all(); }

    // Installs every manual SA of `config` (both directions). Returns one message per SA
    // that could not be installed; the others are installed regardless.
    std::vector<std::string> install_manual(const config::Config& config);
    void remove_all();

private:
    dataplane::Dataplane& dataplane_;
    std::vector<const dataplane::InboundSa*> inbound_;
    std::vector<const dataplane::OutboundSa*> outbound_;
};

}  // namespace mbox::control
