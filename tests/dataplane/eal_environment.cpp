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
    // --no-telemetry: no socket in the runtime directory, so TearDown can remove it.
    std::vector<std::string> args = {
        "mbox_test", "--no-huge", "-m", "256", "--no-pci", "--no-shconf", "--no-telemetry", "-l", "0",
        "--log-level=error", "--file-prefix=mbox_test_" + std::to_string(::getpid()),
    };
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    const int rc = rte_eal_init(static_cast<int>(argv.size()), argv.data());
    ASSERT_GE(rc, 0) << "rte_eal_init failed: " << rte_strerror(rte_errno);
    g_ready = true;
}

void EalEnvironment::TearDown() {
    if (!g_ready) return;
    const std::string runtime_dir = rte_eal_get_runtime_dir();
    EXPECT_EQ(rte_eal_cleanup(), 0);
    // EAL creates <runtime dir>/<file prefix> even with --no-shconf and leaves it behind,
    // empty: remove it so that pid-named directories do not pile up. (rmdir does nothing
    // to a directory that is not empty.)
    ::rmdir(runtime_dir.c_str());
    g_ready = false;
}

}  // namespace mbox::testing

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    // GoogleTest owns (and deletes) the environment.
    ::testing::AddGlobalTestEnvironment(new mbox::testing::EalEnvironment);
    return RUN_ALL_TESTS();
}
