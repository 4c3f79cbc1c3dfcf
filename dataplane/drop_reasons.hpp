// Every reason the data plane drops a packet, in one table: a name that `mbox show
// dataplane counters` prints and tests assert on, and a sentence for operators.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace mbox::dataplane {

#define MBOX_DROP_REASONS(X)                                                                 \
    X(eth_truncated, "frame shorter than an Ethernet header")                                \
    X(eth_not_for_us, "destination MAC is neither ours nor broadcast")                       \
    X(eth_unsupported_type, "EtherType is neither IPv4 nor ARP")                             \
    X(ipv4_truncated, "IPv4 header or total length runs past the end of the frame")          \
    X(ipv4_bad_version, "IP version field is not 4")                                         \
    X(ipv4_bad_header_length, "IPv4 header length below 20 bytes or above total length")    \
    X(ipv4_bad_checksum, "IPv4 header checksum does not verify")                             \
    X(ipv4_bad_source, "source address is broadcast, multicast, loopback or zero")          \
    X(ipv4_bad_destination, "destination is multicast, loopback, zero or a directed broadcast") \
    X(arp_truncated, "ARP frame shorter than an Ethernet/IPv4 ARP packet")                   \
    X(interface_disabled, "packet arrived on or was routed to a disabled interface")         \
    X(no_route, "no route to the destination")                                               \
    X(ttl_exceeded, "TTL reached zero while forwarding")                                     \
    X(mtu_exceeded, "packet larger than the egress MTU")                                     \
    X(local_unsupported, "addressed to the gateway for a service it does not run")          \
    X(local_fragment, "non-ESP fragment addressed to the gateway (only ESP is reassembled)")  \
    X(icmp_truncated, "ICMP message addressed to the gateway is too short")                  \
    X(icmp_bad_checksum, "ICMP checksum of a message to the gateway does not verify")        \
    X(neighbour_unresolved, "next hop did not answer ARP in time")                           \
    X(neighbour_queue_full, "too many packets already waiting for ARP resolution")           \
    X(punt_ring_full, "control thread's punt ring was full")                                 \
    X(mbuf_alloc_failed, "no packet buffer available to build a reply")                      \
    X(tx_queue_full, "egress queue full (tx_burst did not take the packet)")                  \
    X(nat_keepalive, "NAT-T keepalive (RFC 3948 §2.3): consumed, nothing to forward")      \
    X(udp_bad_length, "UDP datagram to the gateway whose length field disagrees with the IPv4 total length") \
    X(ike_truncated, "IKE datagram shorter than an IKE header (28 bytes, after the non-ESP marker on 4500)") \
    X(ike_punt_full, "IKE datagram dropped: the control thread's punt ring was full")       \
    X(originate_no_route, "no route (or a local or broadcast one) for a datagram the gateway originates (IKE)") \
    X(originate_fragment_failed, "originated datagram over the egress MTU could not be fragmented") \
    X(esp_truncated, "ESP packet too short for its SA's header, IV, trailer and ICV")        \
    X(esp_unknown_spi, "no inbound SA has this SPI")                                         \
    X(esp_replayed, "sequence number already received (anti-replay, RFC 4303 §3.4.3)")      \
    X(esp_too_old, "sequence number left of the anti-replay window")                         \
    X(esp_sequence_zero, "sequence number 0, which no sender uses")                          \
    X(esp_bad_length, "ciphertext is not a multiple of the cipher's block size")            \
    X(esp_auth_failed, "ICV does not verify (wrong key, corrupted or forged)")               \
    X(esp_crypto_error, "the crypto library refused the operation")                          \
    X(esp_bad_padding, "padding length or padding bytes are wrong (RFC 4303 §2.4)")        \
    X(esp_dummy_packet, "next header 59: a dummy packet (RFC 4303 §2.6), discarded")         \
    X(esp_bad_next_header, "inner protocol is not IPv4 (tunnel mode carries IPv4 here)")     \
    X(esp_selector_mismatch, "inner addresses outside the SA's traffic selectors")          \
    X(esp_sequence_exhausted, "outbound sequence number space used up: the SA needs a rekey") \
    X(esp_no_route_to_peer, "no route to the tunnel's peer")                                \
    X(ipsec_stopped, "traffic between a tunnel's local-net and remote-net while ipsec is stopped (never sent in the clear)") \
    X(ipsec_no_sa, "traffic between a tunnel's local-net and remote-net that no SA carries (tunnel not up yet, down, or refused)") \
    X(esp_mtu_exceeded, "encapsulated packet over the egress MTU with DF set: ICMP fragmentation-needed sent") \
    X(esp_no_headroom, "packet buffer too small for the ESP headers or trailer")            \
    X(handoff_ring_full, "the SA's owning worker's hand-off ring was full")                 \
    X(handoff_sa_gone, "handed-off packet out of a tunnel whose SA was deleted before the owner ran it") \
    X(esp_fragment_failed, "encapsulated packet over the MTU could not be fragmented (no buffer, or over 8 fragments)") \
    X(reassembly_failed, "fragment discarded: overlapping or inconsistent fragments, too many, or reassembly table full") \
    X(reassembly_timeout, "fragment discarded: its datagram was not complete within 2 s")                \
    X(reassembly_too_large, "reassembled ESP packet does not fit one packet buffer")         \
    X(nat_malformed, "packet to translate has headers shorter than they say")               \
    X(nat_fragment, "IP fragment of a TCP, UDP or ICMP flow to translate (ports unknown; not reassembled)") \
    X(nat_table_full, "NAT session table full: no new mapping")                             \
    X(nat_ports_exhausted, "no free external port (or ICMP identifier) left for a new mapping") \
    X(nat_too_many_addresses, "more external addresses in use than the session table tracks") \
    X(nat_conflict, "address-only mapping held by another inside host, or an inside endpoint already mapped to another address") \
    X(nat_no_session, "packet to a translate-pool address that matches no NAT session")

enum class Drop : uint16_t {
#define MBOX_DROP_ENUM(name, text) name,
    MBOX_DROP_REASONS(MBOX_DROP_ENUM)
#undef MBOX_DROP_ENUM
};

struct DropReasonInfo {
    std::string_view name;
    std::string_view description;
};

inline constexpr std::array kDropReasons = {
#define MBOX_DROP_INFO(name, text) DropReasonInfo{#name, text},
    MBOX_DROP_REASONS(MBOX_DROP_INFO)
#undef MBOX_DROP_INFO
};

inline constexpr size_t kDropReasonCount = kDropReasons.size();

}  // namespace mbox::dataplane
