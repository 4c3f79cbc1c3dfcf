#include "eal_environment.hpp"

#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include <string>
#include <vector>

namespace mbox::testing {

namespace {

bool g_ready = false;

}  // namespace

bool eal_ready() { return g_ready; }

void EalEnvironment::SetUp() {
    // No hugepages, no PCI scan, nothing shared on disk: the tests run unprivileged. The
    // pid-based prefix keeps two test binaries (or two runs of one) from colliding.
    // --no-shconf rather than --in-memory: DPDK 22.11 turns --no-huge into legacy memory
    // mode, which it refuses to combine with --in-memory; --no-huge already keeps the
    // memory itself off disk, and --no-shconf does the same for the runtime config.
    std::vector<std::string> args = {
        "mbox_test", "--no-huge",  "-m", "256", "--no-pci", "--no-shconf", "-l", "0", "--log-level=error",
        "--file-prefix=mbox_test_" + std::to_string(::getpid()),
    };
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    const int rc = rte_eal_init(static_cast<int>(argv.size()), argv.data());
    ASSERT_GE(rc, 0) << "rte_eal_init failed: " << rte_strerror(rte_errno);
    g_ready = true;
}

void EalEnvironment::TearDown() {
    if (!g_ready) return;
    EXPECT_EQ(rte_eal_cleanup(), 0);
    g_ready = false;
}

}  // namespace mbox::testing

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    // GoogleTest owns (and deletes) the environment.
    ::testing::AddGlobalTestEnvironment(new mbox::testing::EalEnvironment);
    return RUN_ALL_TESTS();
}
