// Duplicate checks in linear time, for the parsers and validation. Internal to config/.
//
// Comparing each object with every earlier one is quadratic, and reporting a repeat
// against every earlier copy is quadratic in memory too: 2,000 copies of one manual-sa
// took 7 s and 1 GB to check. Here each key remembers where it was seen first, a repeat
// costs one hash lookup, and it is reported once, against that first occurrence.
#pragma once

#include <cstddef>
#include <functional>
#include <utility>
#include <unordered_map>

namespace mbox::config {

// `Where` says where a key was seen: an index into the objects' vector, or a SourceLocation.
template <typename Key, typename Where = size_t, typename Hash = std::hash<Key>>
class FirstOccurrence {
public:
    // Where `key` was seen first; nullptr, with `where` recorded, when the key is new.
    const Where* find_or_add(const Key& key, Where where) {
        const auto [entry, added] = first_.try_emplace(key, std::move(where));
        return added ? nullptr : &entry->second;
    }

private:
    std::unordered_map<Key, Where, Hash> first_;
};

}  // namespace mbox::config
