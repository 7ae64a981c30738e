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
// Value) is read by std::from_chars, which rounds correctly.
#include <node_api.h>

#include <charconv>
#include <cstdint>
#include <cstring>
#include <system_error>

namespace {

constexpr int64_t NOT_HANDLED = -1;
constexpr int64_t OUT_OF_ROOM = -2;
constexpr int MAX_RANK = 32;

inline bool IsSpace(uint8_t c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
inline bool IsDigit(uint8_t c) { return static_cast<uint8_t>(c - '0') <= 9; }

// A JSON number (strict grammar) as read by ScanNumber: its end and, when it has at most 19
// significant digits, its value as mantissa · 10^exponent (past 19 only the end counts).
struct Number {
  const uint8_t* end;
  uint64_t mantissa;
  int exponent;
  int digits;  // significant digits; over 19 the mantissa is not kept
  bool negative;
};

inline uint64_t Load8(const uint8_t* p) {
  uint64_t word;
  std::memcpy(&word, p, 8);
  return word;
}

constexpr uint64_t kPow10Integer[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};

// The number 8 ASCII digits spell (first byte most significant): pairs, then quads, then the whole.
inline uint64_t EightDigitValue(uint64_t word) {
  word -= 0x3030303030303030;
  word = word * 10 + (word >> 8);
  word = (((word & 0x000000FF000000FF) * 0x000F424000000064) + (((word >> 16) & 0x000000FF000000FF) * 0x0000271000000001)) >> 32;
  return word;
}

// Of a little-endian word, how many leading bytes are ASCII digits (0..8).
inline int LeadingDigits(uint64_t word) {
  // 0x80 in each byte that is not a digit: below '0' (borrow) or above '9' (carry past 0x7f).
  const uint64_t not_digit = ((word - 0x3030303030303030) | (word + 0x4646464646464646)) & 0x8080808080808080;
  return not_digit == 0 ? 8 : __builtin_ctzll(not_digit) >> 3;
}

// Appends the digits at p to the number, eight at a time, the last 1–7 in one step too (no loop
// per digit whose length varies from number to number); returns their end.
inline const uint8_t* Digits(const uint8_t* p, const uint8_t* end, Number& number, bool fraction) {
  while (p + 8 <= end) {
    const uint64_t word = Load8(p);
    const int digits = LeadingDigits(word);
    if (digits == 8) {
      if (number.digits + 8 <= 19) number.mantissa = number.mantissa * 100000000 + EightDigitValue(word);
      number.digits += 8;
      if (fraction) number.exponent -= 8;
      p += 8;
      continue;
    }
    // The 0–7 digits moved to the top of the word, zeros ('0') below them: an 8-digit number.
    // Without a branch on how many there are (that varies from number to number).
    const int shift = (8 - digits) * 8;
    const uint64_t padded = ((word << (shift - 1)) << 1) | (0x3030303030303030 >> (64 - shift));
    if (number.digits + digits <= 19) number.mantissa = number.mantissa * kPow10Integer[digits] + EightDigitValue(padded);
    number.digits += digits;
    if (fraction) number.exponent -= digits;
    return p + digits;
  }
  while (p < end && IsDigit(*p)) {
    if (number.digits < 19) number.mantissa = number.mantissa * 10 + (*p - '0');
    number.digits++;
    if (fraction) number.exponent--;
    p++;
  }
  return p;
}

// Reads the JSON number at p; number.end is nullptr if none starts there.
Number ScanNumber(const uint8_t* p, const uint8_t* end) {
  Number number{nullptr, 0, 0, 0, false};
  if (p < end && *p == '-') {
    number.negative = true;
    p++;
  }
  if (p >= end || !IsDigit(*p)) return number;
  if (*p == '0') {
    p++;
    if (p < end && IsDigit(*p)) return number;
  } else {
    p = Digits(p, end, number, false);
  }
  if (p < end && *p == '.') {
    p++;
    if (p >= end || !IsDigit(*p)) return number;
    if (number.digits == 0) {
      while (p < end && *p == '0') {
        p++;
        number.exponent--;
      }
    }
    p = Digits(p, end, number, true);
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    p++;
    bool negative = false;
    if (p < end && (*p == '+' || *p == '-')) negative = *p++ == '-';
    if (p >= end || !IsDigit(*p)) return number;
    int exponent = 0;
    while (p < end && IsDigit(*p)) {
      if (exponent < 100000) exponent = exponent * 10 + (*p - '0');
      p++;
    }
    number.exponent += negative ? -exponent : exponent;
  }
  number.end = p;
  return number;
}

constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                             1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

// mantissa · 10^exponent in one rounding of each step: exact (Clinger) when the mantissa has at
// most 15 digits, else within 2^-51 relative of the decimal. Only for |exponent| <= 22.
inline double Scaled(const Number& number) {
  const double mantissa = static_cast<double>(number.mantissa);
  return number.exponent >= 0 ? mantissa * kPow10[number.exponent] : mantissa / kPow10[-number.exponent];
}

// Within 2^-50 of v, does every value round to one float? Then so does the decimal's correctly
// rounded double (within 2^-51 + 2^-53 of v), and float(v) is its float.
inline bool FloatSettled(double v) {
  constexpr double kSlack = 0x1p-50;
  return static_cast<float>(v * (1 - kSlack)) == static_cast<float>(v * (1 + kSlack));
}

// The value JSON.parse gives the number (then rounded to float for a float out), or false when it
// is out of double range.
template <typename T>
inline bool Value(const uint8_t* start, const Number& number, T* value) {
  if (number.digits <= 19 && number.exponent >= -22 && number.exponent <= 22) {
    const double v = Scaled(number);
    if (number.digits <= 15 || (sizeof(T) == sizeof(float) && FloatSettled(v))) {
      *value = static_cast<T>(number.negative ? -v : v);
      return true;
    }
  }
  double exact;
  const auto parsed = std::from_chars(reinterpret_cast<const char*>(start), reinterpret_cast<const char*>(number.end), exact);
  if (parsed.ec != std::errc()) return false;
  *value = static_cast<T>(exact);
  return true;
}

template <typename T>
int64_t ReadLists(const uint8_t* bytes, int64_t start, int64_t end_at, T* out, int64_t offset, int64_t capacity, int32_t* shape) {
  const uint8_t* p = bytes + start;
  const uint8_t* const end = bytes + end_at;
  int64_t sizes[MAX_RANK];
  int64_t counts[MAX_RANK];
  int rank = -1;
  int depth = 0;
  int64_t count = offset;
  while (p < end && IsSpace(*p)) p++;
  if (p >= end || *p != '[') return NOT_HANDLED;
  for (;;) {
    // At a value at `depth`.
    while (p < end && IsSpace(*p)) p++;
    if (p >= end) return NOT_HANDLED;
    if (*p == '[') {
      if ((rank >= 0 && depth >= rank) || depth >= MAX_RANK) return NOT_HANDLED;
      if (rank < 0) sizes[depth] = -1;
      counts[depth] = 0;
      p++;
      while (p < end && IsSpace(*p)) p++;
      if (p >= end || *p == ']') return NOT_HANDLED;
      depth++;
      continue;
    }
    if (rank < 0) {
      rank = depth;
    } else if (depth != rank) {
      return NOT_HANDLED;
    }
    // The numbers of an innermost list, back to back while a comma follows each.
    for (;;) {
      const Number number = ScanNumber(p, end);
      if (number.end == nullptr) return NOT_HANDLED;
      T value;
      if (!Value(p, number, &value)) return NOT_HANDLED;
      if (count < capacity) out[count] = value;
      count++;
      p = number.end;
      if (p >= end || *p != ',') break;
      if (++counts[depth - 1] == sizes[depth - 1]) return NOT_HANDLED;
      p++;
      while (p < end && IsSpace(*p)) p++;
    }
    // After a complete value at `depth`: a comma (next sibling) or closing brackets.
    for (;;) {
      if (depth == 0) {
        shape[0] = rank;
        for (int level = 0; level < rank; level++) shape[level + 1] = static_cast<int32_t>(sizes[level]);
        return count > capacity ? OUT_OF_ROOM : p - bytes;
      }
      const int parent = depth - 1;
      const int64_t n = ++counts[parent];
      while (p < end && IsSpace(*p)) p++;
      if (p >= end) return NOT_HANDLED;
      const uint8_t c = *p++;
      if (c == ',') {
        if (n == sizes[parent]) return NOT_HANDLED;
        break;
      }
      if (c != ']') return NOT_HANDLED;
      if (sizes[parent] < 0) {
        if (n > INT32_MAX) return NOT_HANDLED;
        sizes[parent] = n;
      } else if (n != sizes[parent]) {
        return NOT_HANDLED;
      }
      depth = parent;
    }
  }
}

napi_value Fail(napi_env env, const char* message) {
  napi_throw_type_error(env, nullptr, message);
  return nullptr;
}

napi_value ReadListsCall(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value args[6];
  if (napi_get_cb_info(env, info, &argc, args, nullptr, nullptr) != napi_ok || argc != 6) {
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
  const int64_t result = out_type == napi_float32_array
                             ? ReadLists(bytes, start, end, static_cast<float*>(out_data), offset, capacity, shape)
                             : ReadLists(bytes, start, end, static_cast<double*>(out_data), offset, capacity, shape);
  napi_value answer;
  napi_create_int64(env, result, &answer);
  return answer;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_value read_lists;
  napi_create_function(env, "readLists", NAPI_AUTO_LENGTH, ReadListsCall, nullptr, &read_lists);
  napi_set_named_property(env, exports, "readLists", read_lists);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
