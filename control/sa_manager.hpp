// The SA manager: the only code that turns SA descriptions into data-plane SAs: the
// configuration's manually keyed SAs, and the CHILD SAs IKE negotiates (it is the IKE
// engine's ChildSaInstaller), both through the data plane's add/replace/remove calls.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/model.hpp"
#include "control/ike/io.hpp"
#include "crypto/esp_algorithms.hpp"
#include "dataplane/dataplane.hpp"

namespace mbox::control {

// The ESP transform for configuration algorithm words.
std::optional<crypto::EspAlgorithms> esp_algorithms(config::Encryption encryption, std::optional<config::Hash> hash);

class SaManager final : public ike::ChildSaInstaller {
public:
    explicit SaManager(dataplane::Dataplane& dataplane) : dataplane_(dataplane) {}
    ~SaManager() override { remove_all(); }

    // Installs every manual SA of `config` (both directions). Returns one message per SA
    // that could not be installed; the others are installed regardless.
    std::vector<std::string> install_manual(const config::Config& config);
    void remove_manual();
    void remove_all();

    // ike::ChildSaInstaller
    std::optional<uint32_t> allocate_spi() override;
    void release_spi(uint32_t spi) override;
    bool install_inbound(const ike::ChildSaDescription& sa, const ike::ChildSaKeys& keys, std::string& error) override;
    bool install_outbound(const ike::ChildSaDescription& sa, const ike::ChildSaKeys& keys,
                          std::optional<uint32_t> replaces, std::string& error) override;
    void remove_inbound(uint32_t spi) override;
    void remove_outbound(uint32_t spi) override;
    ike::SaUsage inbound_usage(uint32_t spi) override;
    ike::SaUsage outbound_usage(uint32_t spi) override;

private:
    ike::SaUsage usage(const dataplane::SaCommon* sa) const;

    dataplane::Dataplane& dataplane_;
    std::vector<const dataplane::InboundSa*> inbound_;    // manual
    std::vector<const dataplane::OutboundSa*> outbound_;
    std::map<uint32_t, const dataplane::InboundSa*> ike_inbound_;   // by SPI
    std::map<uint32_t, const dataplane::OutboundSa*> ike_outbound_;
};

}  // namespace mbox::control
