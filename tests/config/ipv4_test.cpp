// IPv4 address and prefix parsing is strict: one spelling per value.
#include <gtest/gtest.h>

#include "config/ipv4.hpp"

namespace mbox {
namespace {

TEST(Ipv4Address, ParsesDottedQuadsInHostOrder) {
    EXPECT_EQ(Ipv4Address::parse("0.0.0.0"), Ipv4Address{0});
    EXPECT_EQ(Ipv4Address::parse("203.0.113.2"), Ipv4Address{0xcb007102});
    EXPECT_EQ(Ipv4Address::parse("255.255.255.255"), Ipv4Address{0xffffffff});
    EXPECT_EQ(Ipv4Address{0xc6336401}.to_string(), "198.51.100.1");
}

TEST(Ipv4Address, RejectsEverythingElse) {
    for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "300.1.1.1", "1.2.3.-4", "+1.2.3.4", "1.2.3.4 ",
                            " 1.2.3.4", "1..3.4", "1.2.3.", "01.2.3.4", "1.2.3.0x4", "1.2.3.4/24", "a.b.c.d",
                            "1.2.3.1000"}) {
        EXPECT_EQ(Ipv4Address::parse(bad), std::nullopt) << bad;
    }
}

TEST(Ipv4Prefix, ParsesAddressAndLength) {
    const auto prefix = Ipv4Prefix::parse("10.1.0.1/24");
    ASSERT_TRUE(prefix);
    EXPECT_EQ(prefix->address.to_string(), "10.1.0.1");
    EXPECT_EQ(prefix->length, 24);
    EXPECT_EQ(prefix->to_string(), "10.1.0.1/24");
    EXPECT_EQ(prefix->network().to_string(), "10.1.0.0/24");
    EXPECT_FALSE(prefix->is_network());
    EXPECT_TRUE(prefix->contains(*Ipv4Address::parse("10.1.0.254")));
    EXPECT_FALSE(prefix->contains(*Ipv4Address::parse("10.1.1.1")));
    EXPECT_EQ(Ipv4Prefix::parse("0.0.0.0/0")->mask(), 0u);
    EXPECT_TRUE(Ipv4Prefix::parse("0.0.0.0/0")->contains(*Ipv4Address::parse("8.8.8.8")));
    EXPECT_EQ(Ipv4Prefix::parse("1.2.3.4/32")->mask(), 0xffffffffu);
}

TEST(Ipv4Prefix, RejectsEverythingElse) {
    for (const char* bad : {"", "10.0.0.0", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/024", "10.0.0.0/2 4",
                            "10.0.0/8", "/8", "10.0.0.0/8/8", "300.0.0.0/8"}) {
        EXPECT_EQ(Ipv4Prefix::parse(bad), std::nullopt) << bad;
    }
}

}  // namespace
}  // namespace mbox
