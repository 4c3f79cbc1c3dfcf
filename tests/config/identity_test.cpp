// IKE identities: each kind recognised with its value, and what is refused.
#include <gtest/gtest.h>

#include "config/identity.hpp"
#include "test_support.hpp"

namespace mbox::config::testing {
namespace {

Identity parsed(std::string_view text) {
    const auto identity = parse_identity(text);
    EXPECT_TRUE(identity) << text << ": " << identity.error();
    return identity ? *identity : Identity{};
}

std::string refused(std::string_view text) {
    const auto identity = parse_identity(text);
    EXPECT_FALSE(identity) << text;
    return identity ? std::string{} : identity.error();
}

TEST(Identity, Ipv4Address) {
    const Identity identity = parsed("192.168.7.2");
    EXPECT_EQ(identity.kind, IdentityKind::Ipv4);
    EXPECT_EQ(identity.address, address("192.168.7.2"));
}

TEST(Identity, Fqdn) {
    const Identity identity = parsed("vpn.example.com");
    EXPECT_EQ(identity.kind, IdentityKind::Fqdn);
    EXPECT_EQ(identity.text, "vpn.example.com");
    EXPECT_EQ(parsed("gw-1").kind, IdentityKind::Fqdn);
    // strongSwan's "@name" is an FQDN, never guessed to be anything else.
    const Identity forced = parsed("@vpn.example.com");
    EXPECT_EQ(forced.kind, IdentityKind::Fqdn);
    EXPECT_EQ(forced.text, "vpn.example.com");
}

TEST(Identity, Rfc822) {
    const Identity identity = parsed("user@example.com");
    EXPECT_EQ(identity.kind, IdentityKind::Rfc822);
    EXPECT_EQ(identity.text, "user@example.com");
}

TEST(Identity, DnAsStrongSwanWritesIt) {
    const Identity identity = parsed("C=SG, O=Example, CN=gw1");
    EXPECT_EQ(identity.kind, IdentityKind::Dn);
    EXPECT_EQ(identity.dn, (std::vector<DnAttribute>{{"C", "SG"}, {"O", "Example"}, {"CN", "gw1"}}));
    // Slashes (OpenSSL's one-line form), any case of the attribute names, blanks around '='.
    EXPECT_EQ(parsed("/C=SG/O=Example/CN=gw1").dn, identity.dn);
    EXPECT_EQ(parsed("c = SG,o=Example,  cn=gw1").dn, identity.dn);
    EXPECT_EQ(parsed("CN=vpn, emailaddress=a@b.c").dn,
              (std::vector<DnAttribute>{{"CN", "vpn"}, {"emailAddress", "a@b.c"}}));
}

TEST(Identity, MalformedOnesAreRefusedWithTheReason) {
    EXPECT_EQ(refused(""), "empty identity");
    EXPECT_EQ(refused("  "), "empty identity");
    EXPECT_EQ(refused(" vpn"), "invalid identity ' vpn': leading or trailing blanks");
    EXPECT_EQ(refused("10.1.2.300"), "invalid identity '10.1.2.300': not an IPv4 address (expected A.B.C.D)");
    EXPECT_EQ(refused("my gateway"),
              "invalid identity 'my gateway': expected an IPv4 address, a host name, user@host or a DN such as "
              "\"C=SG, O=Example, CN=gw1\"");
    EXPECT_EQ(refused("vpn..example.com").substr(0, 36), "invalid identity 'vpn..example.com':");
    EXPECT_EQ(refused("-vpn.example.com").substr(0, 36), "invalid identity '-vpn.example.com':");
    EXPECT_EQ(refused("user@"), "invalid identity 'user@': not an email address (expected user@host)");
    EXPECT_EQ(refused("a b@example.com"),
              "invalid identity 'a b@example.com': not an email address (expected user@host)");
    EXPECT_EQ(refused("@"), "invalid identity '@': '@' must be followed by a host name");
    EXPECT_EQ(refused("C=SG, gw1"), "invalid identity 'C=SG, gw1': DN part 'gw1' is not TYPE=VALUE");
    EXPECT_EQ(refused("C=SG, CN="), "invalid identity 'C=SG, CN=': DN attribute CN has no value");
    EXPECT_EQ(refused("XX=1").substr(0, 51), "invalid identity 'XX=1': unknown DN attribute 'XX' ");
}

}  // namespace
}  // namespace mbox::config::testing
