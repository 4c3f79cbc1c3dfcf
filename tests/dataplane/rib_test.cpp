// control::build_rib / build_fib_entries: which routes a configuration implies, on
// which ports, and what the forwarding table then does with our own and broadcast
// addresses.
#include <gtest/gtest.h>
#include <gmock/gmock.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "control/rib.hpp"
#include "eal_environment.hpp"
#include "route_printers.hpp"

namespace mbox::control {
namespace {

using dataplane::NextHop;
using ::testing::ElementsAreArray;
using ::testing::UnorderedElementsAreArray;

Ipv4Prefix prefix(const char* text) { return Ipv4Prefix::parse(text).value(); }
Ipv4Address addr(const char* text) { return Ipv4Address::parse(text).value(); }

config::Interface interface(std::string name, std::vector<const char*> addresses) {
    config::Interface i;
    i.name = std::move(name);
    i.dpdk_device = "net_null_" + i.name;
    i.enabled = true;
    for (const char* a : addresses) i.addresses.push_back(prefix(a));
    return i;
}

config::Route route(const char* to, const char* nexthop) { return {prefix(to), addr(nexthop), {}}; }

// Interfaces named here have a port; any other has none (disabled or not opened).
PortLookup ports(std::map<std::string, uint16_t> table) {
    return [table = std::move(table)](std::string_view name) -> std::optional<uint16_t> {
        const auto it = table.find(std::string(name));
        if (it == table.end()) return std::nullopt;
        return it->second;
    };
}

// One line per route, so that a mismatch prints as a readable diff.
std::string describe(const RibRoute& r) {
    std::string s = std::string(to_string(r.source)) + " " + r.prefix.to_string();
    if (r.nexthop) s += " via " + r.nexthop->to_string();
    return s + " " + r.interface + " port " + std::to_string(r.port);
}

std::vector<std::string> describe(const std::vector<RibRoute>& rib) {
    std::vector<std::string> out;
    for (const auto& r : rib) out.push_back(describe(r));
    return out;
}

std::string describe(const dataplane::RouteEntry& e) {
    std::string s = std::string(dataplane::kind_name(e.next_hop.kind)) + " " + e.prefix.to_string();
    if (e.next_hop.kind == NextHop::Kind::Gateway) s += " via " + Ipv4Address{e.next_hop.gateway}.to_string();
    return s + " port " + std::to_string(e.next_hop.port);
}

std::vector<std::string> describe(const std::vector<dataplane::RouteEntry>& fib) {
    std::vector<std::string> out;
    for (const auto& e : fib) out.push_back(describe(e));
    return out;
}

// The standard two-interface gateway: lan (port 0) and wan (port 1, default gateway).
config::Config lan_wan_config() {
    config::Config c;
    c.interfaces.push_back(interface("lan", {"10.1.0.1/24"}));
    auto wan = interface("wan", {"198.51.100.1/24"});
    wan.default_gateway = addr("198.51.100.254");
    c.interfaces.push_back(wan);
    c.routes.push_back(route("10.2.0.0/16", "198.51.100.254"));
    c.routes.push_back(route("10.3.0.0/16", "10.1.0.254"));
    return c;
}

TEST(Rib, ConnectedLocalStaticAndDefaultGatewayRoutesOnTheirPorts) {
    const auto rib = build_rib(lan_wan_config(), ports({{"lan", 0}, {"wan", 1}}));
    EXPECT_THAT(describe(rib), UnorderedElementsAreArray({
                                   "connected 10.1.0.0/24 lan port 0",
                                   "local 10.1.0.1/32 lan port 0",
                                   "connected 198.51.100.0/24 wan port 1",
                                   "local 198.51.100.1/32 wan port 1",
                                   "static 0.0.0.0/0 via 198.51.100.254 wan port 1",
                                   "static 10.2.0.0/16 via 198.51.100.254 wan port 1",
                                   "static 10.3.0.0/16 via 10.1.0.254 lan port 0",
                               }));
}

TEST(Rib, PortsComeFromTheLookupNotFromConfigurationOrder) {
    // The lookup decides the port: swap it and every route follows its interface.
    const auto rib = build_rib(lan_wan_config(), ports({{"lan", 7}, {"wan", 3}}));
    for (const auto& r : rib) EXPECT_EQ(r.port, r.interface == "lan" ? 7 : 3) << describe(r);
}

TEST(Rib, FibHasOneEntryPerRoutePlusConnectedBroadcasts) {
    const auto fib = build_fib_entries(build_rib(lan_wan_config(), ports({{"lan", 0}, {"wan", 1}})));
    EXPECT_THAT(describe(fib), UnorderedElementsAreArray({
                                   "connected 10.1.0.0/24 port 0",
                                   "local 10.1.0.1/32 port 0",
                                   "broadcast 10.1.0.255/32 port 0",
                                   "connected 198.51.100.0/24 port 1",
                                   "local 198.51.100.1/32 port 1",
                                   "broadcast 198.51.100.255/32 port 1",
                                   "gateway 0.0.0.0/0 via 198.51.100.254 port 1",
                                   "gateway 10.2.0.0/16 via 198.51.100.254 port 1",
                                   "gateway 10.3.0.0/16 via 10.1.0.254 port 0",
                               }));
}

TEST(Rib, StaticRouteWithOffLinkNexthopIsLeftOut) {
    auto c = lan_wan_config();
    c.routes.push_back(route("10.4.0.0/16", "192.0.2.1"));        // on no connected network
    c.interfaces[1].default_gateway = addr("203.0.113.1");        // nor is this gateway
    const auto rib = build_rib(c, ports({{"lan", 0}, {"wan", 1}}));
    for (const auto& r : rib) {
        EXPECT_NE(r.prefix, prefix("10.4.0.0/16")) << describe(r);
        EXPECT_NE(r.prefix, prefix("0.0.0.0/0")) << describe(r);
    }
    // The valid static routes are unaffected.
    EXPECT_THAT(describe(rib), ::testing::Contains("static 10.2.0.0/16 via 198.51.100.254 wan port 1"));
}

TEST(Rib, ConnectedNetworkBeatsStaticRouteForSamePrefix) {
    auto c = lan_wan_config();
    c.routes.push_back(route("10.1.0.0/24", "198.51.100.254"));
    const auto rib = build_rib(c, ports({{"lan", 0}, {"wan", 1}}));
    std::vector<std::string> for_lan;
    for (const auto& r : rib)
        if (r.prefix == prefix("10.1.0.0/24")) for_lan.push_back(describe(r));
    EXPECT_THAT(for_lan, ElementsAreArray({"connected 10.1.0.0/24 lan port 0"}));
}

TEST(Rib, LaterStaticRouteForSamePrefixReplacesEarlier) {
    auto c = lan_wan_config();
    c.routes.push_back(route("10.2.0.0/16", "10.1.0.254"));
    const auto rib = build_rib(c, ports({{"lan", 0}, {"wan", 1}}));
    std::vector<std::string> for_prefix;
    for (const auto& r : rib)
        if (r.prefix == prefix("10.2.0.0/16")) for_prefix.push_back(describe(r));
    EXPECT_THAT(for_prefix, ElementsAreArray({"static 10.2.0.0/16 via 10.1.0.254 lan port 0"}));
}

TEST(Rib, InterfaceWithoutPortContributesNothing) {
    auto c = lan_wan_config();
    auto dmz = interface("dmz", {"192.0.2.1/24"});
    dmz.enabled = false;
    c.interfaces.push_back(dmz);
    c.routes.push_back(route("10.9.0.0/16", "192.0.2.254"));  // reachable only through dmz
    const auto with_dmz = build_rib(c, ports({{"lan", 0}, {"wan", 1}}));
    const auto without = build_rib(lan_wan_config(), ports({{"lan", 0}, {"wan", 1}}));
    EXPECT_THAT(describe(with_dmz), UnorderedElementsAreArray(describe(without)));
}

// `ip default-gateway` belongs to its interface: with the interface gone, so is the
// default route, even when another interface's network holds the gateway address.
// (Found by this test; fixed in 188c8d1.)
TEST(Rib, InterfaceWithoutPortContributesNoDefaultRouteEvenIfGatewayIsReachable) {
    config::Config c;
    c.interfaces.push_back(interface("wan", {"198.51.100.1/24"}));
    auto backup = interface("backup", {"198.51.100.2/24"});  // same segment, not opened
    backup.enabled = false;
    backup.default_gateway = addr("198.51.100.254");
    c.interfaces.push_back(backup);
    const auto rib = build_rib(c, ports({{"wan", 1}}));
    EXPECT_THAT(describe(rib), UnorderedElementsAreArray({
                                   "connected 198.51.100.0/24 wan port 1",
                                   "local 198.51.100.1/32 wan port 1",
                               }));
}

TEST(Rib, NoInterfacesNoRoutes) {
    config::Config c;
    c.routes.push_back(route("10.2.0.0/16", "198.51.100.254"));
    EXPECT_TRUE(build_rib(c, ports({})).empty());
    EXPECT_TRUE(build_fib_entries({}).empty());
}

TEST(Rib, BroadcastEntriesOnlyForNetworksShorterThan31) {
    config::Config c;
    c.interfaces.push_back(interface("lan", {"10.1.0.1/24"}));
    c.interfaces.push_back(interface("p2p", {"192.0.2.0/31"}));   // RFC 3021: both addresses usable
    c.interfaces.push_back(interface("host", {"203.0.113.7/32"}));
    c.interfaces.push_back(interface("small", {"10.7.0.1/30"}));
    const auto fib = build_fib_entries(build_rib(c, ports({{"lan", 0}, {"p2p", 1}, {"host", 2}, {"small", 3}})));
    std::vector<std::string> broadcasts;
    for (const auto& e : fib)
        if (e.next_hop.kind == NextHop::Kind::Broadcast) broadcasts.push_back(describe(e));
    EXPECT_THAT(broadcasts, UnorderedElementsAreArray({"broadcast 10.1.0.255/32 port 0", "broadcast 10.7.0.3/32 port 3"}));
}

// What the workers see: the FIB loaded into a real RouteTable.
class RibForwarding : public ::testing::Test {
protected:
    void SetUp() override {
        if (!mbox::testing::eal_ready()) GTEST_SKIP() << "EAL not initialised";
    }

    void load(const config::Config& c, const PortLookup& port_of) {
        std::string error;
        table_ = dataplane::RouteTable::build(build_fib_entries(build_rib(c, port_of)), error);
        ASSERT_NE(table_, nullptr) << error;
    }

    std::optional<NextHop::Kind> kind_of(const char* a) const {
        const NextHop* h = table_->lookup(addr(a).value);
        return h == nullptr ? std::nullopt : std::optional(h->kind);
    }

    std::unique_ptr<dataplane::RouteTable> table_;
};

TEST_F(RibForwarding, DirectedBroadcastIsBroadcastAndPointToPointAddressesAreNot) {
    config::Config c;
    c.interfaces.push_back(interface("lan", {"10.1.0.1/24"}));
    c.interfaces.push_back(interface("p2p", {"192.0.2.0/31"}));
    c.interfaces.push_back(interface("host", {"203.0.113.7/32"}));
    ASSERT_NO_FATAL_FAILURE(load(c, ports({{"lan", 0}, {"p2p", 1}, {"host", 2}})));
    EXPECT_EQ(kind_of("10.1.0.255"), NextHop::Kind::Broadcast);
    EXPECT_EQ(kind_of("10.1.0.254"), NextHop::Kind::Connected);
    EXPECT_EQ(kind_of("10.1.0.1"), NextHop::Kind::Local);
    EXPECT_EQ(kind_of("192.0.2.1"), NextHop::Kind::Connected);  // the /31 peer, not a broadcast
    EXPECT_EQ(kind_of("192.0.2.0"), NextHop::Kind::Local);
    EXPECT_EQ(kind_of("203.0.113.7"), NextHop::Kind::Local);
}

TEST_F(RibForwarding, OurAddressEqualToBroadcastAddressStaysLocal) {
    config::Config c;
    c.interfaces.push_back(interface("lan", {"10.5.0.255/24"}));
    ASSERT_NO_FATAL_FAILURE(load(c, ports({{"lan", 0}})));
    EXPECT_EQ(kind_of("10.5.0.255"), NextHop::Kind::Local);
    EXPECT_EQ(kind_of("10.5.0.1"), NextHop::Kind::Connected);
    // And build_fib_entries does not emit a competing broadcast entry for it.
    for (const auto& e : build_fib_entries(build_rib(c, ports({{"lan", 0}}))))
        EXPECT_NE(e.next_hop.kind, NextHop::Kind::Broadcast) << describe(e);
}

// Our own addresses win over static routes, as Linux's local table and a Cisco local
// route (distance 0) do: a static /32 for one of them must not turn it into a Gateway
// hop. (Found by this test; fixed in 188c8d1.)
TEST_F(RibForwarding, StaticHostRouteDoesNotTakeOverOurOwnAddress) {
    config::Config c;
    c.interfaces.push_back(interface("lan", {"10.1.0.1/24"}));
    c.routes.push_back(route("10.1.0.1/32", "10.1.0.254"));
    ASSERT_NO_FATAL_FAILURE(load(c, ports({{"lan", 0}})));
    EXPECT_EQ(kind_of("10.1.0.1"), NextHop::Kind::Local);
}

TEST_F(RibForwarding, ConfigurationWithDefaultGatewayLoads) {
    // The ordinary gateway configuration: the interface default-gateway becomes the
    // table's default route (a /0 in rte_lpm).
    ASSERT_NO_FATAL_FAILURE(load(lan_wan_config(), ports({{"lan", 0}, {"wan", 1}})));
    const NextHop* h = table_->lookup(addr("203.0.113.9").value);
    ASSERT_NE(h, nullptr);
    EXPECT_EQ(*h, (NextHop{NextHop::Kind::Gateway, 1, addr("198.51.100.254").value}));
}

}  // namespace
}  // namespace mbox::control
