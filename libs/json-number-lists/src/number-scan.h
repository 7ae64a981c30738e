// What both readers share: reading one JSON number (ScanNumber) and its exact value (Value), the
// rules of a rectangular list (Lists, Close, Comma), the answers' codes and the deepest list they
// take. Everything is in an anonymous namespace, so a
// file compiled for other instructions (float-lists-avx512.cc) has its own copy: no function built
// with AVX-512 can stand in for the portable reader's.
#pragma once

#include <charconv>
#include <cstdint>
#include <cstring>
#include <system_error>

namespace {

constexpr int64_t NOT_HANDLED = -1;
constexpr int64_t OUT_OF_ROOM = -2;
constexpr int MAX_RANK = 32;

// One comparison for the bytes that follow commas and brackets (digits, brackets, '-').
inline bool IsSpace(uint8_t c) { return c <= ' ' && (c == ' ' || c == '\n' || c == '\r' || c == '\t'); }
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

constexpr uint64_t kPow10Integer[] = {1,           10,           100,           1000,           10000,           100000,
                                      1000000,     10000000,     100000000,     1000000000,     10000000000,     100000000000,
                                      1000000000000, 10000000000000, 100000000000000, 1000000000000000, 10000000000000000};

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

// 10^-22 .. 10^22: exact from 10^0 up, correctly rounded below. kPow10[e] is 10^e for e in -22..22.
constexpr double kPowers[] = {1e-22, 1e-21, 1e-20, 1e-19, 1e-18, 1e-17, 1e-16, 1e-15, 1e-14, 1e-13, 1e-12, 1e-11, 1e-10, 1e-9, 1e-8,
                              1e-7,  1e-6,  1e-5,  1e-4,  1e-3,  1e-2,  1e-1,  1e0,   1e1,   1e2,   1e3,   1e4,   1e5,   1e6,  1e7,
                              1e8,   1e9,   1e10,  1e11,  1e12,  1e13,  1e14,  1e15,  1e16,  1e17,  1e18,  1e19,  1e20,  1e21, 1e22};
constexpr const double* kPow10 = kPowers + 22;

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

// The nesting read so far: per level, the lists' size once the first list there has closed (-1
// before) and the items counted in the open list.
struct Lists {
  int rank;
  int64_t sizes[MAX_RANK];
  int64_t counts[MAX_RANK];
};

// A list at `level` closes; false if its size differs from its first sibling's.
inline bool Close(Lists& lists, int level) {
  const int64_t n = ++lists.counts[level];
  if (lists.sizes[level] < 0) {
    if (n > INT32_MAX) return false;
    lists.sizes[level] = n;
    return true;
  }
  return n == lists.sizes[level];
}

// A comma in the list at `level`; false if that list is already full.
inline bool Comma(Lists& lists, int level) { return ++lists.counts[level] != lists.sizes[level]; }

}  // namespace
