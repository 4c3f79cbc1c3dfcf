#include "dataplane/tx.hpp"

#include <rte_ethdev.h>

namespace mbox::dataplane {

namespace {

void flush_port(WorkerContext& ctx, uint16_t port) {
    TxBuffer& buf = ctx.tx[port];
    if (buf.count == 0) return;
    uint64_t bytes = 0;
    for (uint16_t i = 0; i < buf.count; ++i) bytes += rte_pktmbuf_pkt_len(buf.packets[i]);
    const uint16_t sent = rte_eth_tx_burst(port, static_cast<uint16_t>(ctx.index), buf.packets, buf.count);
    for (uint16_t i = sent; i < buf.count; ++i) {
        bytes -= rte_pktmbuf_pkt_len(buf.packets[i]);
        rte_pktmbuf_free(buf.packets[i]);
        ctx.drop(Drop::tx_queue_full);
    }
    PortCounters& c = ctx.counters->ports[port];
    c.tx_packets += sent;
    c.tx_bytes += bytes;
    buf.count = 0;
}

}  // namespace

void tx_enqueue(WorkerContext& ctx, uint16_t port, rte_mbuf* m) {
    TxBuffer& buf = ctx.tx[port];
    buf.packets[buf.count++] = m;
    if (buf.count == kTxBufferSize) flush_port(ctx, port);
}

void tx_flush(WorkerContext& ctx) {
    for (uint16_t port = 0; port < kMaxPorts; ++port) flush_port(ctx, port);
}

}  // namespace mbox::dataplane
