// The float32 list reader for x86-64 processors with AVX-512 (see float-lists-avx512.cc).
#pragma once

#include <cstdint>

namespace number_lists {

// Whether this processor (and its operating system) runs ReadFloatListsAvx512.
bool HasAvx512Reader();

// readLists for a float32 out, with readLists' answers and values; only where HasAvx512Reader()
// and end < 2^31 (offsets into bytes are 32-bit gather indices).
int64_t ReadFloatListsAvx512(const uint8_t* bytes, int64_t start, int64_t end, float* out, int64_t offset, int64_t capacity, int32_t* shape);

}  // namespace number_lists
