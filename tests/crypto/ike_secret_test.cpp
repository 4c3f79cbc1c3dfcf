// SecretBytes (crypto/secret.hpp): wiping zeroes the bytes where they were, growing
// keeps the content, a move leaves the source empty.
#include <gtest/gtest.h>

#include "crypto/secret.hpp"

namespace mbox::crypto::test {
namespace {

TEST(SecretBytes, WipeZeroesTheBytesWhereTheyWere) {
    SecretBytes s(std::string_view("a key that must not linger"));
    const uint8_t* where = s.data();
    const size_t n = s.size();
    s.wipe();
    EXPECT_TRUE(s.empty());
    // wipe() only clears the vector, so its buffer is still allocated: the bytes can be
    // read where the span pointed and must all be zero.
    for (size_t i = 0; i < n; ++i)
        EXPECT_EQ(where[i], 0) << i;
}

TEST(SecretBytes, AppendKeepsTheContentAcrossGrowth) {
    SecretBytes s(std::string_view("abc"));
    std::vector<uint8_t> want = {'a', 'b', 'c'};
    for (int round = 0; round < 10; ++round) {
        const std::vector<uint8_t> more(static_cast<size_t>(round * 7 + 1), static_cast<uint8_t>(round));
        s.append(more);
        want.insert(want.end(), more.begin(), more.end());
    }
    EXPECT_EQ(std::vector<uint8_t>(s.data(), s.data() + s.size()), want);
}

TEST(SecretBytes, MoveLeavesTheSourceEmpty) {
    SecretBytes a(std::string_view("secret"));
    SecretBytes b(std::move(a));
    EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): the point of the test
    EXPECT_TRUE(b.equals(SecretBytes(std::string_view("secret"))));
    SecretBytes c;
    c = std::move(b);
    EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(c.size(), 6u);
}

TEST(SecretBytes, SliceAndConstantTimeEquals) {
    const SecretBytes s(std::string_view("0123456789"));
    EXPECT_TRUE(s.slice(2, 3).equals(SecretBytes(std::string_view("234"))));
    EXPECT_FALSE(s.equals(SecretBytes(std::string_view("0123456788"))));
    EXPECT_FALSE(s.equals(SecretBytes(std::string_view("012345678"))));
}

}  // namespace
}  // namespace mbox::crypto::test
