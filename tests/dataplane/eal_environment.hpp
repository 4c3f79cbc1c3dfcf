// One DPDK EAL per test binary. Tests that touch rte_lpm, rte_hash, rings, mempools or
// ethdevs link eal_environment.cpp, which holds main(): it registers EalEnvironment as
// a GoogleTest global environment, so EAL is up before the first test and cleaned up
// after the last.
#pragma once

#include <gtest/gtest.h>

namespace mbox::testing {

class EalEnvironment : public ::testing::Environment {
public:
    void SetUp() override;
    void TearDown() override;
};

// True once rte_eal_init succeeded in this process.
bool eal_ready();

}  // namespace mbox::testing
