// readLists(bytes, start, end, out, offset, shape): reads the JSON value at bytes[start..end) if it
// is a rectangular, non-empty nested list of JSON numbers, into out[offset...] (float32 or float64),
// and returns where the value ends. The rank and sizes go to shape ([rank, size0, size1, ...]).
//
// It only takes what needs no judgement: anything else (an empty list, a non-number, NaN or
// Infinity tokens, a ragged list, a number out of double range, bad syntax, nesting deeper than
// MAX_RANK) answers NOT_HANDLED before anything is committed, and the caller's JavaScript reader,
// which carries TF Serving's rules and error messages, reads the value instead. OUT_OF_ROOM: out
// has fewer than the value's elements after offset; shape then holds the whole value's shape.
//
// Values are what JSON.parse gives, rounded to float32 for a float32 out, as a Float32Array store
// does: digits are read eight at a time, and a value that arithmetic cannot settle exactly (see
// Value) is read by std::from_chars, which rounds correctly. Float32 lists of the common number
// shapes take a faster path (ScanFloat, Settle) that gives the same values. On processors with
// AVX-512, float32 lists are read by float-lists-avx512.cc instead, with the same answers
// (readListsPortable keeps this reader, for tests to compare).
#include <node_api.h>

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "float-lists-avx512.h"
#include "number-scan.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace {

// The fast path for float32 lists. Reading an image of floats is bound by how soon each number's
// end is known (the next number starts there), so ScanFloat finds it with pointers that advance
// by constants along well-predicted branches and by a counted run of digits once per part, and
// leaves everything else to work no later number waits for: the first 16 significant digits
// become an integer in one vector pass (DigitsValue), and Settle turns staged integers into
// floats in batches.

// Of a little-endian word, how many leading bytes are '0' (0..8).
inline int LeadingZeros(uint64_t word) {
  const uint64_t differs = word ^ 0x3030303030303030;
  return differs == 0 ? 8 : __builtin_ctzll(differs) >> 3;
}

#if defined(__SSE2__)
// 16 bytes of 0xff, then 16 of 0: from kLeading + k, a mask of the first 16 - k bytes.
alignas(32) constexpr uint8_t kLeading[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

// The number the k (0..16) ASCII digits at p spell: the 16 bytes that end with them (bytes before
// them count as 0), pairs, quads and octets of digits joined by multiply-adds. Reads p + k - 16.
inline uint64_t DigitsValue(const uint8_t* p, int k) {
  const __m128i lead = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kLeading + k));
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + k - 16));
  const __m128i values = _mm_andnot_si128(lead, _mm_sub_epi8(bytes, _mm_set1_epi8('0')));
  const __m128i none = _mm_setzero_si128();
  const __m128i ten_one = _mm_set1_epi32(0x0001000A);
  const __m128i pairs = _mm_packs_epi32(_mm_madd_epi16(_mm_unpacklo_epi8(values, none), ten_one), _mm_madd_epi16(_mm_unpackhi_epi8(values, none), ten_one));
  const __m128i quads = _mm_madd_epi16(pairs, _mm_set1_epi32(0x00010064));
  const __m128i octets = _mm_madd_epi16(_mm_packs_epi32(quads, quads), _mm_set1_epi32(0x00012710));
  const uint64_t both = static_cast<uint64_t>(_mm_cvtsi128_si64(octets));
  return (both & 0xffffffff) * 100000000 + (both >> 32);
}
#else
// Without SSE2 (not x86-64), the same in two 8-byte words; CI runs the SSE2 version.
constexpr uint64_t kLowBytes[] = {0, 0xff, 0xffff, 0xffffff, 0xffffffff, 0xffffffffff, 0xffffffffffff, 0xffffffffffffff, ~uint64_t{0}};

inline uint64_t ZeroFilled(const uint8_t* p, int lead) { return (Load8(p) & ~kLowBytes[lead]) | (0x3030303030303030 & kLowBytes[lead]); }

inline uint64_t DigitsValue(const uint8_t* p, int k) {
  const int lead = 16 - k;
  return EightDigitValue(ZeroFilled(p + k - 16, lead > 8 ? 8 : lead)) * 100000000 + EightDigitValue(ZeroFilled(p + k - 8, lead > 8 ? lead - 8 : 0));
}
#endif

// A number ScanFloat read: its first (up to) 16 significant digits, their scale and its sign, and
// where it starts, to be read again exactly if Settle cannot settle its float.
struct Staged {
  uint64_t mantissa;
  int64_t at;
  uint8_t scale;
  bool negative;
};

// Numbers settled per batch.
constexpr int kStage = 256;

// ScanFloat needs this many bytes readable before a number and after its start.
constexpr int64_t kFastBefore = 16;
constexpr int64_t kFastAfter = 40;

// Stages the number at p if it is `-?(0|[1-9][0-9]{0,6})(\.[0-9]{1,23})?` with a scale of at most
// 10^-22 (what float data printed as decimals looks like) and returns its end; nullptr for
// anything else, which ScanNumber reads.
inline const uint8_t* ScanFloat(const uint8_t* p, const uint8_t* bytes, Staged* staged) {
  const uint8_t* q = p;
  const bool negative = *q == '-';
  if (negative) q++;
  const uint8_t* integer_end;
  if (*q == '0') {
    integer_end = q + 1;
  } else {
    const int run = LeadingDigits(Load8(q));
    if (run == 0 || run == 8) return nullptr;
    integer_end = q + run;
  }
  // fraction and end advance inside the branch rather than by has_fraction's value, which
  // would put the '.' test on the chain of dependent loads.
  const bool has_fraction = *integer_end == '.';
  const uint8_t* fraction = integer_end;
  const uint8_t* end = integer_end;
  if (has_fraction) {
    fraction++;
    end = fraction;
    int run = LeadingDigits(Load8(end));
    if (run == 8) {
      end += 8;
      run = LeadingDigits(Load8(end));
      if (run == 8) {
        end += 8;
        run = LeadingDigits(Load8(end));
        if (run == 8) return nullptr;
      }
    }
    end += run;
    if (end == fraction) return nullptr;
  }
  // An exponent is ScanNumber's. (A digit here, after a leading zero as in "01", fails the
  // caller's check for a separator.)
  if ((*end | 0x20) == 'e') return nullptr;
  const int integer_digits = static_cast<int>(integer_end - q);
  const int fraction_digits = static_cast<int>(end - fraction);
  if (integer_digits == 1 && q[0] == '0') {
    // 0.F: the significant digits start after F's leading zeros.
    const int zeros = LeadingZeros(Load8(fraction));
    const int significant = fraction_digits - zeros;
    const int kept = significant < 16 ? significant : 16;
    if (zeros == 8 || zeros + kept > 22) return nullptr;
    staged->mantissa = DigitsValue(fraction + zeros, kept);
    staged->scale = static_cast<uint8_t>(zeros + kept);
  } else if (!has_fraction) {
    staged->mantissa = DigitsValue(q, integer_digits);
    staged->scale = 0;
  } else {
    const int kept = fraction_digits < 16 - integer_digits ? fraction_digits : 16 - integer_digits;
    staged->mantissa = DigitsValue(q, integer_digits) * kPow10Integer[kept] + DigitsValue(fraction, kept);
    staged->scale = static_cast<uint8_t>(kept);
  }
  staged->negative = negative;
  staged->at = p - bytes;
  return end;
}

// The floats of n staged numbers into out, and per number whether that float is certain: the
// value computed is within 2^-48 of the decimal (16 digits cut short: under 10^-15; the
// conversions and the product: 2^-53 each), so when both ends of that interval round to one
// float, the decimal's correctly rounded double (JSON.parse's value) rounds to it too. Otherwise
// (about one number in 10^7) the caller reads the number again exactly.
inline bool Settle(const Staged* staged, int n, float* out, bool* certain) {
  constexpr double kSlack = 0x1p-48;
  bool all = true;
  for (int i = 0; i < n; i++) {
    const double v = static_cast<double>(static_cast<int64_t>(staged[i].mantissa)) * kPow10[-staged[i].scale];
    const bool settled = static_cast<float>(v * (1 - kSlack)) == static_cast<float>(v * (1 + kSlack));
    const float value = static_cast<float>(v);
    out[i] = staged[i].negative ? -value : value;
    certain[i] = settled;
    all &= settled;
  }
  return all;
}

template <typename T>
int64_t ReadLists(const uint8_t* bytes, int64_t start, int64_t end_at, T* out, int64_t offset, int64_t capacity, int32_t* shape) {
  const uint8_t* p = bytes + start;
  const uint8_t* const end = bytes + end_at;
  Lists lists;
  lists.rank = -1;  // until the first number
  int depth = 0;
  int64_t count = offset;
  constexpr bool kFloat = std::is_same_v<T, float>;
  Staged stage[kFloat ? kStage : 1];
  int staged = 0;
  const uint8_t* const fast_from = end - bytes >= kFastBefore + kFastAfter ? bytes + kFastBefore : end;
  const uint8_t* const fast_to = end - kFastAfter;
  // The staged numbers are out[count - staged, count): their floats, each one Settle is not
  // certain of read again exactly.
  auto flush = [&]() {
    if constexpr (kFloat) {
      float values[kStage];
      bool certain[kStage];
      if (!Settle(stage, staged, values, certain)) {
        for (int i = 0; i < staged; i++) {
          const uint8_t* const at = bytes + stage[i].at;
          // Cannot fail: ScanFloat takes no number out of double range.
          if (!certain[i]) Value(at, ScanNumber(at, end), &values[i]);
        }
      }
      const int64_t first = count - staged;
      const int64_t room = capacity - first;
      if (room > 0) std::memcpy(out + first, values, (room < staged ? room : staged) * sizeof(float));
    }
    staged = 0;
  };
  while (p < end && IsSpace(*p)) p++;
  if (p >= end || *p != '[') return NOT_HANDLED;
  for (;;) {
    // At a value at `depth`.
    while (p < end && IsSpace(*p)) p++;
    if (p >= end) return NOT_HANDLED;
    if (*p == '[') {
      if ((lists.rank >= 0 && depth >= lists.rank) || depth >= MAX_RANK) return NOT_HANDLED;
      if (lists.rank < 0) lists.sizes[depth] = -1;
      lists.counts[depth] = 0;
      p++;
      while (p < end && IsSpace(*p)) p++;
      if (p >= end || *p == ']') return NOT_HANDLED;
      depth++;
      continue;
    }
    if (lists.rank < 0) {
      lists.rank = depth;
    } else if (depth != lists.rank) {
      return NOT_HANDLED;
    }
    // The numbers of an innermost list, back to back while a comma follows each.
    for (;;) {
      const uint8_t* const fast_end = kFloat && p >= fast_from && p <= fast_to ? ScanFloat(p, bytes, &stage[staged]) : nullptr;
      if (fast_end != nullptr) {
        p = fast_end;
        count++;
        if (++staged == kStage) flush();
      } else {
        if (staged > 0) flush();
        const Number number = ScanNumber(p, end);
        if (number.end == nullptr) return NOT_HANDLED;
        T value;
        if (!Value(p, number, &value)) return NOT_HANDLED;
        if (count < capacity) out[count] = value;
        count++;
        p = number.end;
      }
      if (p >= end || *p != ',') break;
      if (!Comma(lists, depth - 1)) return NOT_HANDLED;
      p++;
      while (p < end && IsSpace(*p)) p++;
    }
    // After a complete value at `depth`: a comma (next sibling) or closing brackets.
    for (;;) {
      if (depth == 0) {
        if (staged > 0) flush();
        shape[0] = lists.rank;
        for (int level = 0; level < lists.rank; level++) shape[level + 1] = static_cast<int32_t>(lists.sizes[level]);
        return count > capacity ? OUT_OF_ROOM : p - bytes;
      }
      const int parent = depth - 1;
      while (p < end && IsSpace(*p)) p++;
      if (p >= end) return NOT_HANDLED;
      const uint8_t c = *p++;
      if (c == ',') {
        if (!Comma(lists, parent)) return NOT_HANDLED;
        break;
      }
      if (c != ']' || !Close(lists, parent)) return NOT_HANDLED;
      depth = parent;
    }
  }
}

napi_value Fail(napi_env env, const char* message) {
  napi_throw_type_error(env, nullptr, message);
  return nullptr;
}

// Whether readLists reads float32 lists with ReadFloatListsAvx512 (readListsPortable never does).
const bool kAvx512 = number_lists::HasAvx512Reader();

napi_value ReadListsCall(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value args[6];
  void* portable = nullptr;
  if (napi_get_cb_info(env, info, &argc, args, nullptr, &portable) != napi_ok || argc != 6) {
    return Fail(env, "readLists(bytes, start, end, out, offset, shape) takes 6 arguments");
  }
  napi_typedarray_type bytes_type, out_type, shape_type;
  size_t bytes_length, out_length, shape_length;
  void *bytes_data, *out_data, *shape_data;
  if (napi_get_typedarray_info(env, args[0], &bytes_type, &bytes_length, &bytes_data, nullptr, nullptr) != napi_ok || bytes_type != napi_uint8_array) {
    return Fail(env, "bytes must be a Uint8Array");
  }
  if (napi_get_typedarray_info(env, args[3], &out_type, &out_length, &out_data, nullptr, nullptr) != napi_ok ||
      (out_type != napi_float32_array && out_type != napi_float64_array)) {
    return Fail(env, "out must be a Float32Array or Float64Array");
  }
  if (napi_get_typedarray_info(env, args[5], &shape_type, &shape_length, &shape_data, nullptr, nullptr) != napi_ok || shape_type != napi_int32_array ||
      shape_length < MAX_RANK + 1) {
    return Fail(env, "shape must be an Int32Array of at least 33 elements");
  }
  int64_t start, end, offset;
  if (napi_get_value_int64(env, args[1], &start) != napi_ok || napi_get_value_int64(env, args[2], &end) != napi_ok ||
      napi_get_value_int64(env, args[4], &offset) != napi_ok) {
    return Fail(env, "start, end and offset must be numbers");
  }
  if (start < 0 || end < start || static_cast<size_t>(end) > bytes_length || offset < 0 || static_cast<size_t>(offset) > out_length) {
    return Fail(env, "start, end or offset out of range");
  }
  const auto* bytes = static_cast<const uint8_t*>(bytes_data);
  auto* shape = static_cast<int32_t*>(shape_data);
  const auto capacity = static_cast<int64_t>(out_length);
  int64_t result;
  if (out_type == napi_float64_array) {
    result = ReadLists(bytes, start, end, static_cast<double*>(out_data), offset, capacity, shape);
  } else if (kAvx512 && portable == nullptr && end <= INT32_MAX) {
    result = number_lists::ReadFloatListsAvx512(bytes, start, end, static_cast<float*>(out_data), offset, capacity, shape);
  } else {
    result = ReadLists(bytes, start, end, static_cast<float*>(out_data), offset, capacity, shape);
  }
  napi_value answer;
  napi_create_int64(env, result, &answer);
  return answer;
}

napi_value Init(napi_env env, napi_value exports) {
  static int portable_flag;
  napi_value read_lists, read_lists_portable, avx512;
  napi_create_function(env, "readLists", NAPI_AUTO_LENGTH, ReadListsCall, nullptr, &read_lists);
  napi_create_function(env, "readListsPortable", NAPI_AUTO_LENGTH, ReadListsCall, &portable_flag, &read_lists_portable);
  napi_get_boolean(env, kAvx512, &avx512);
  napi_set_named_property(env, exports, "readLists", read_lists);
  napi_set_named_property(env, exports, "readListsPortable", read_lists_portable);
  napi_set_named_property(env, exports, "avx512", avx512);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
