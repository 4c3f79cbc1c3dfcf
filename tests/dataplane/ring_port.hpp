// A test port: an ethdev made with rte_eth_from_rings over two rings the test owns,
// so a test can put frames in front of a worker and read back what it transmitted.
#pragma once

#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dataplane/counters.hpp"
#include "packet_builder.hpp"

namespace mbox::testing {

struct RingPort {
    rte_ring* rx = nullptr;  // what the port receives
    rte_ring* tx = nullptr;  // what the port transmitted
    uint16_t id = 0;
};

// Creates, configures and starts the port "net_ring_<name>" with one queue pair whose
// RX buffers come from `pool`. Call under ASSERT_NO_FATAL_FAILURE.
inline void open_ring_port(const std::string& name, rte_mempool* pool, unsigned tx_ring_size, RingPort& p) {
    p.rx = rte_ring_create((name + "_rx").c_str(), 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    p.tx = rte_ring_create((name + "_tx").c_str(), tx_ring_size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    ASSERT_NE(p.rx, nullptr);
    ASSERT_NE(p.tx, nullptr);
    const int port = rte_eth_from_rings(name.c_str(), &p.rx, 1, &p.tx, 1, rte_socket_id());
    ASSERT_GE(port, 0) << rte_strerror(rte_errno);
    ASSERT_LT(port, dataplane::kMaxPorts);
    p.id = static_cast<uint16_t>(port);
    rte_eth_conf conf{};
    ASSERT_EQ(rte_eth_dev_configure(p.id, 1, 1, &conf), 0);
    ASSERT_EQ(rte_eth_rx_queue_setup(p.id, 0, 512, rte_socket_id(), nullptr, pool), 0);
    ASSERT_EQ(rte_eth_tx_queue_setup(p.id, 0, 512, rte_socket_id(), nullptr), 0);
    ASSERT_EQ(rte_eth_dev_start(p.id), 0);
}

inline void close_ring_port(RingPort& p) {
    rte_eth_dev_stop(p.id);
    rte_eth_dev_close(p.id);
    rte_ring_free(p.rx);
    rte_ring_free(p.tx);
    p = RingPort{};
}

// The frames the port transmitted since the last call (their mbufs freed). Each must
// be one segment.
inline std::vector<Bytes> take_sent(const RingPort& p) {
    std::vector<Bytes> out;
    void* obj = nullptr;
    while (rte_ring_dequeue(p.tx, &obj) == 0) {
        auto* m = static_cast<rte_mbuf*>(obj);
        EXPECT_EQ(m->nb_segs, 1);
        EXPECT_EQ(rte_pktmbuf_pkt_len(m), rte_pktmbuf_data_len(m));
        const auto* d = rte_pktmbuf_mtod(m, const uint8_t*);
        out.emplace_back(d, d + rte_pktmbuf_data_len(m));
        rte_pktmbuf_free(m);
    }
    return out;
}

}  // namespace mbox::testing
