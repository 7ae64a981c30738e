// readLists for float32 lists on processors with AVX-512 (the CI machine's Xeon has it; others
// run the portable reader in number-lists.cc, which gives the same answers and values).
//
// The portable reader spends about 200 instructions on each number of a 17-digit image, most of
// them finding where the number ends, and the next number cannot start before that is known. This
// one reads in stages, each over many numbers at once:
//   1. Classify: 64 bytes at a time, a table lookup marks the bytes numbers are made of (digits
//      . - + e E); where that mask changes, a number starts or ends. Those positions go to a
//      list, 1 KiB of text at a time.
//   2. ReadToken, per number of a batch of 64: its bytes, start and end known, are checked
//      against JSON's grammar and its first 16 significant digits gathered by one compress.
//      Nothing links one number's work to the next one's, so the processor overlaps them.
//   3. Settle: eight numbers at a time become floats.
//   4. ClassifyGaps: the bytes between two numbers are compared, eight gaps at a time, with the
//      gap that is only a comma and the one that closes an innermost list (as seen before, so
//      any spacing works). A run of those is checked for rectangular lists in a few bit
//      operations; any other gap is walked byte by byte (OtherGap, WalkGap), which also finds
//      where the value ends.
// A number ReadToken does not take (an exponent, more than 32 bytes, a float Settle cannot make
// certain) is read by ScanNumber and Value, as the portable reader reads it.
#include "float-lists-avx512.h"

#include <cstdint>
#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#include <charconv>
#include <system_error>

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,avx512vbmi,avx512vbmi2,bmi,bmi2,lzcnt,popcnt")

#include "number-scan.h"

namespace number_lists {
namespace {

// 0xff for the bytes a JSON number is made of: digits, '+', '-', '.' (ASCII 0..63) and 'E', 'e'
// (64..127), looked up by vpermi2b with a byte's low seven bits.
alignas(64) constexpr uint8_t kNumberBytesLow[64] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0, 0xff, 0xff, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0};
alignas(64) constexpr uint8_t kNumberBytesHigh[64] = {0, 0, 0, 0, 0, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                                      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff};
alignas(64) constexpr uint8_t kByteIndex[64] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                                                22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43,
                                                44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63};

// Text classified per refill of the boundary list.
constexpr int64_t kChunk = 1024;
// The list holds the two boundaries kept over a refill, a chunk's (at most one per byte and one
// for its end) and the 32 entries past them that a block's last store may write and ClassifyGaps
// may read.
constexpr int kBoundaryRoom = 2 + kChunk + 1 + 32;

// Appends to `boundaries` where numbers start and end in the n (1..64) bytes at `block` (from
// `bytes`): the positions where "is a number's byte" changes, given whether the byte before the
// block was one (carry, updated).
inline int Classify(const uint8_t* block, int64_t n, const uint8_t* bytes, uint64_t& carry, uint32_t* boundaries) {
  const uint64_t valid = n >= 64 ? ~uint64_t{0} : _bzhi_u64(~uint64_t{0}, static_cast<uint32_t>(n));
  const __m512i text = _mm512_maskz_loadu_epi8(valid, block);
  const __m512i kind = _mm512_permutex2var_epi8(_mm512_load_si512(kNumberBytesLow), text, _mm512_load_si512(kNumberBytesHigh));
  // Bytes from 128 up alias ASCII in the lookup; they are never a number's.
  const uint64_t number = _mm512_test_epi8_mask(kind, kind) & ~_mm512_movepi8_mask(text) & valid;
  const uint64_t changes = number ^ ((number << 1) | carry);
  carry = number >> 63;
  const int found = static_cast<int>(_mm_popcnt_u64(changes));
  alignas(64) uint8_t at[64];
  _mm512_store_si512(at, _mm512_maskz_compress_epi8(changes, _mm512_load_si512(kByteIndex)));
  const __m512i base = _mm512_set1_epi32(static_cast<int>(block - bytes));
  for (int i = 0; i < found; i += 16) {
    _mm512_storeu_si512(boundaries + i, _mm512_add_epi32(base, _mm512_cvtepu8_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(at + i)))));
  }
  return found;
}

// Numbers staged before their floats are made, eight at a time (Settle).
constexpr int kStage = 64;

// Numbers ReadToken took, waiting for Settle: per number its first 16 significant digit values
// (0..9, the first most significant, zeros after the last), the index in kPowers of the power of
// ten the 16-digit number is scaled by and its sign (the float's sign bit).
struct Stage {
  alignas(64) uint8_t digits[kStage][16];
  alignas(64) int32_t scales[kStage];
  alignas(64) uint32_t signs[kStage];
};

// Stages the number in s[0, length) (1..32 bytes) as stage's number i when it is
// `-?(0|[1-9][0-9]*)(\.[0-9]+)?` with a scale Settle covers; false for anything else, which the
// caller reads with ScanNumber.
inline bool ReadToken(const uint8_t* s, int64_t length, Stage& stage, int i) {
  const uint32_t in_token = _bzhi_u32(~0u, static_cast<uint32_t>(length));
  const __m256i text = _mm256_maskz_loadu_epi8(in_token, s);
  const __m256i values = _mm256_sub_epi8(text, _mm256_set1_epi8('0'));
  const __mmask32 digit_mask = _mm256_mask_cmple_epu8_mask(in_token, values, _mm256_set1_epi8(9));
  const uint32_t digits = digit_mask;
  const uint32_t nonzero = _mm256_mask_test_epi8_mask(digit_mask, values, values);
  const uint32_t points = _mm256_mask_cmpeq_epi8_mask(in_token, text, _mm256_set1_epi8('.'));
  const uint32_t negative = s[0] == '-';
  // Past the sign, only one '.', with digits before and after it (leading zeros only as "0.").
  const uint32_t others = in_token & ~digits & ~negative;
  const int point = others != 0 ? static_cast<int>(_tzcnt_u32(others)) : static_cast<int>(length);
  const uint32_t before_significant = (nonzero & (0u - nonzero)) - 1;
  const int leading_zeros = static_cast<int>(_mm_popcnt_u32(digits & before_significant));
  // The 16-digit number's first digit stands for 10^15; the first significant digit's place is
  // 10^(integer digits - leading zeros - 1).
  const int exponent = point - static_cast<int>(negative) - leading_zeros - 16;
  // Whether the first digit is 1..9 varies from number to number in signed data: bit
  // arithmetic, not a branch the processor would mispredict.
  const bool lead = ((nonzero >> negative) | static_cast<uint32_t>(point == static_cast<int>(negative) + 1)) & 1;
  const bool taken = (others & (others - 1)) == 0 && (others & ~points) == 0 && point > static_cast<int>(negative) && point != length - 1 && lead &&
                     exponent >= -22 && exponent <= 22;
  if (!taken) return false;
  const uint32_t kept = _pdep_u32(0xffff, digits & ~before_significant);
  _mm_store_si128(reinterpret_cast<__m128i*>(stage.digits[i]), _mm256_castsi256_si128(_mm256_maskz_compress_epi8(kept, values)));
  stage.scales[i] = exponent + 22;
  stage.signs[i] = negative << 31;
  return true;
}

// The 16-digit numbers of eight staged numbers (digits of four per 64 bytes): pairs, quads and
// octets of digits joined by multiply-adds, the two octets of each number at last.
inline __m512i Mantissas(const uint8_t (*digits)[16]) {
  const __m512i pair_weights = _mm512_set1_epi16(0x010A);
  const __m512i quad_weights = _mm512_set1_epi32(0x00010064);
  const __m512i first = _mm512_madd_epi16(_mm512_maddubs_epi16(_mm512_load_si512(digits), pair_weights), quad_weights);
  const __m512i second = _mm512_madd_epi16(_mm512_maddubs_epi16(_mm512_load_si512(digits + 4), pair_weights), quad_weights);
  // Per 128-bit lane k: number k's octets, then number k + 4's, as 64-bit [low | high << 32].
  const __m512i octets = _mm512_madd_epi16(_mm512_packus_epi32(first, second), _mm512_set1_epi32(0x00012710));
  const __m512i numbers = _mm512_add_epi64(_mm512_mul_epu32(octets, _mm512_set1_epi64(100000000)), _mm512_srli_epi64(octets, 32));
  return _mm512_permutexvar_epi64(_mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7), numbers);
}

// The floats of the numbers `taken` (bit i: number i) of the first `staged`, into values, eight
// at a time, and which of them are certain (bit i: values[i]). Each 16-digit number times its
// power of ten is within 2^-48 of the decimal (cut digits: under 10^-15; three roundings of
// 2^-53), so when both ends of that interval round to one float, JSON.parse's double rounds to it
// too; otherwise (about one number in 10^7) the caller reads the number again.
inline uint64_t Settle(const Stage& stage, int staged, uint64_t taken, float* values) {
  constexpr double kSlack = 0x1p-48;
  uint64_t certain = 0;
  for (int i = 0; i < staged; i += 8) {
    const __mmask8 live = static_cast<__mmask8>(taken >> i);
    const __m256i scales = _mm256_maskz_load_epi32(live, stage.scales + i);
    const __m512d v = _mm512_mul_pd(_mm512_cvtepu64_pd(Mantissas(stage.digits + i)), _mm512_mask_i32gather_pd(_mm512_setzero_pd(), live, scales, kPowers, 8));
    const __m256 low = _mm512_cvtpd_ps(_mm512_mul_pd(v, _mm512_set1_pd(1 - kSlack)));
    const __m256 high = _mm512_cvtpd_ps(_mm512_mul_pd(v, _mm512_set1_pd(1 + kSlack)));
    const __m256i signed_values = _mm256_xor_si256(_mm256_castps_si256(_mm512_cvtpd_ps(v)), _mm256_load_si256(reinterpret_cast<const __m256i*>(stage.signs + i)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(values + i), signed_values);
    certain |= static_cast<uint64_t>(_mm256_cmp_ps_mask(low, high, _CMP_EQ_OQ)) << i;
  }
  return certain;
}

// What a gap between two numbers that closes `closed` lists does to the counts: the closings, the
// comma, and the same number of lists opening.
inline bool Step(Lists& lists, int closed) {
  int level = lists.rank - 1;
  for (int i = 0; i < closed; i++, level--) {
    if (!Close(lists, level)) return false;
    // The list opening again at this level starts counting anew.
    lists.counts[level] = 0;
  }
  return Comma(lists, level);
}

// Walks the bytes after a number: lists closing, then a comma and lists opening down to the
// numbers' depth (answers where the next number starts, and how many lists the gap closed) or the
// outermost list closing (answers the value's end, *done). nullptr: not a rectangular list of
// numbers.
inline const uint8_t* WalkGap(const uint8_t* q, const uint8_t* end, Lists& lists, int* closed, bool* done) {
  int depth = lists.rank;
  for (;;) {
    while (q < end && IsSpace(*q)) q++;
    if (q >= end) return nullptr;
    const uint8_t c = *q++;
    if (c == ',') break;
    if (c != ']' || !Close(lists, --depth)) return nullptr;
    if (depth == 0) {
      *done = true;
      return q;
    }
  }
  if (!Comma(lists, depth - 1)) return nullptr;
  *closed = lists.rank - depth;
  for (;;) {
    while (q < end && IsSpace(*q)) q++;
    if (q >= end) return nullptr;
    if (*q != '[') break;
    if (depth >= lists.rank) return nullptr;
    lists.counts[depth] = 0;
    q++;
    while (q < end && IsSpace(*q)) q++;
    if (q >= end || *q == ']') return nullptr;
    depth++;
  }
  return depth == lists.rank ? q : nullptr;
}

// The gaps between numbers seen so far, one per number of lists they close: up to 8 bytes (as a
// little-endian word) and their length (0: none seen yet). A gap with the same bytes does what
// that one did, so it needs no walk.
struct Gaps {
  uint64_t words[MAX_RANK] = {};
  int64_t lengths[MAX_RANK] = {};
};

// The `length` (0..8) bytes at `gap` as a little-endian word; reads no byte past them.
inline uint64_t GapWord(const uint8_t* gap, int64_t length) {
  return static_cast<uint64_t>(_mm_cvtsi128_si64(_mm_maskz_loadu_epi8(_bzhi_u32(0xffff, static_cast<uint32_t>(length)), gap)));
}

// The gap from a number's end e to the next number's start (nullptr: the text's last number) when
// ClassifyGaps did not match it: one seen before, or walked and remembered (gaps up to 8 bytes).
// Answers where the next number starts or, with *done, where the value ends; nullptr: not a
// rectangular list of numbers. Kept out of the loop, which it would crowd.
__attribute__((noinline)) const uint8_t* OtherGap(const uint8_t* e, const uint8_t* next, const uint8_t* end, Lists& lists, Gaps& gaps, bool* done) {
  const int64_t length = next != nullptr ? next - e : INT64_MAX;
  const uint64_t word = length <= 8 ? GapWord(e, length) : 0;
  if (length <= 8) {
    for (int closed = 1; closed < lists.rank; closed++) {
      if (length == gaps.lengths[closed] && word == gaps.words[closed]) return Step(lists, closed) ? next : nullptr;
    }
  }
  int closed = 0;
  const uint8_t* const after = WalkGap(e, end, lists, &closed, done);
  if (after == nullptr || *done) return after;
  if (after != next) return nullptr;
  if (length <= 8 && gaps.lengths[closed] == 0) {
    gaps.lengths[closed] = length;
    gaps.words[closed] = word;
  }
  return after;
}

// values[0, n) into out[count, ...) as far as capacity goes.
inline void StoreFloats(float* out, int64_t count, int64_t capacity, const float* values, int64_t n) {
  const int64_t room = capacity - count;
  if (room < n) n = room > 0 ? room : 0;
  for (int64_t i = 0; i < n; i += 16) {
    _mm512_mask_storeu_ps(out + count + i, static_cast<__mmask16>(_bzhi_u32(0xffff, static_cast<uint32_t>(n - i))), _mm512_load_ps(values + i));
  }
}

// The gaps a batch's numbers leave that are the comma alone or the one closing an innermost list
// (bit i: the gap after number i), eight at a time: each gap's up to 8 bytes, gathered, compared
// with those two. `bounds` holds the batch's starts and ends and the next number's start.
inline void ClassifyGaps(const uint32_t* bounds, int batch, const uint8_t* bytes, const uint8_t* end, uint64_t comma_word, int64_t comma_length,
                         uint64_t row_word, int64_t row_length, uint64_t& commas, uint64_t& rows) {
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 1, 3, 5, 7, 9, 11, 13, 15);
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 0, 2, 4, 6, 8, 10, 12, 14);
  // Gathers read 8 bytes at a gap; gaps whose 8 bytes pass the text's end are left out (OtherGap).
  const __m512i readable_to = _mm512_set1_epi64(end - bytes - 8);
  for (int i = 0; i < batch; i += 8) {
    const __m256i ends = _mm512_castsi512_si256(_mm512_permutexvar_epi32(odd, _mm512_loadu_si512(bounds + 2 * i)));
    const __m256i nexts = _mm512_castsi512_si256(_mm512_permutexvar_epi32(even, _mm512_loadu_si512(bounds + 2 * i + 2)));
    const __m512i lengths = _mm512_cvtepu32_epi64(_mm256_sub_epi32(nexts, ends));
    const __mmask8 live = static_cast<__mmask8>(_bzhi_u32(0xff, static_cast<uint32_t>(batch - i))) &
                          _mm512_cmple_epi64_mask(_mm512_cvtepu32_epi64(ends), readable_to);
    const __m512i words = _mm512_mask_i32gather_epi64(_mm512_setzero_si512(), live, ends, bytes, 1);
    const __m512i gap = _mm512_andnot_si512(_mm512_sllv_epi64(_mm512_set1_epi64(-1), _mm512_slli_epi64(lengths, 3)), words);
    const __mmask8 comma = _mm512_mask_cmpeq_epi64_mask(_mm512_mask_cmpeq_epi64_mask(live, lengths, _mm512_set1_epi64(comma_length)), gap,
                                                        _mm512_set1_epi64(static_cast<int64_t>(comma_word)));
    const __mmask8 row = _mm512_mask_cmpeq_epi64_mask(_mm512_mask_cmpeq_epi64_mask(live, lengths, _mm512_set1_epi64(row_length)), gap,
                                                      _mm512_set1_epi64(static_cast<int64_t>(row_word)));
    commas |= static_cast<uint64_t>(comma) << i;
    rows |= static_cast<uint64_t>(row) << i;
  }
}

// Bits 0, size, 2 size, ... of a word: where the innermost lists close, one per `size` numbers.
inline uint64_t RowPattern(int64_t size) {
  uint64_t pattern = 0;
  for (int64_t k = 0; size > 0 && k < 64; k += size) pattern |= uint64_t{1} << k;
  return pattern;
}

}  // namespace

bool HasAvx512Reader() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512vbmi2") && __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("lzcnt") &&
         __builtin_cpu_supports("popcnt");
}

int64_t ReadFloatListsAvx512(const uint8_t* bytes, int64_t start, int64_t end_at, float* out, int64_t offset, int64_t capacity, int32_t* shape) {
  const uint8_t* p = bytes + start;
  const uint8_t* const end = bytes + end_at;
  Lists lists;
  int depth = 0;
  while (p < end && IsSpace(*p)) p++;
  if (p >= end || *p != '[') return NOT_HANDLED;
  while (p < end && *p == '[') {
    if (depth >= MAX_RANK) return NOT_HANDLED;
    lists.sizes[depth] = -1;
    lists.counts[depth] = 0;
    p++;
    while (p < end && IsSpace(*p)) p++;
    if (p >= end || *p == ']') return NOT_HANDLED;
    depth++;
  }
  lists.rank = depth;
  const int inner_level = depth - 1;
  Gaps gaps;
  uint32_t boundaries[kBoundaryRoom];
  int have = 0;
  int at = 0;
  const uint8_t* classified = p;
  uint64_t carry = 0;
  int64_t count = offset;
  // Zeroed once, so Settle's lanes for numbers not taken hold digits too.
  Stage stage{};
  // The innermost open list's commas and size, and the gaps that are only a comma or close one
  // list, kept out of `lists` and `gaps` while the loop runs: most gaps are those.
  int64_t inner = 0;
  int64_t inner_size = -1;
  uint64_t comma_word = 0;
  int64_t comma_length = 0;
  uint64_t row_word = 0;
  int64_t row_length = 0;
  uint64_t row_pattern = 0;
  for (;;) {
    if (have - at < 3 && classified < end) {
      std::memmove(boundaries, boundaries + at, (have - at) * sizeof(uint32_t));
      have -= at;
      at = 0;
      const uint8_t* const chunk_end = end - classified > kChunk ? classified + kChunk : end;
      // The chunk after this one, asked for now: a request body is read once, from memory or a
      // shared cache, and this cut a cold read by 9 % in the harness.
      for (const uint8_t* ahead = chunk_end; ahead < chunk_end + kChunk && ahead < end; ahead += 64) _mm_prefetch(reinterpret_cast<const char*>(ahead), _MM_HINT_T0);
      while (classified < chunk_end) {
        const int64_t n = chunk_end - classified < 64 ? chunk_end - classified : 64;
        have += Classify(classified, n, bytes, carry, boundaries + have);
        classified += n;
      }
      // The first number starts where the opening brackets end.
      if (count == offset && (have == 0 || bytes + boundaries[0] != p)) return NOT_HANDLED;
      continue;
    }
    // A number still open where the text ends, or no number at all, is not a complete list.
    if (have - at < 2) return NOT_HANDLED;
    // A batch: the numbers whose next number's start is known, or else the text's last number.
    // First each one's float, all independent of each other, then in order the gaps after them
    // and the numbers ReadToken left, which may end the value (the rest of the batch is then
    // not the list's).
    int batch = (have - at - 1) / 2;
    if (batch > kStage) batch = kStage;
    const bool last = batch == 0;
    if (last) batch = 1;
    uint64_t taken = 0;
    for (int i = 0; i < batch; i++) {
      const int64_t length = boundaries[at + 2 * i + 1] - boundaries[at + 2 * i];
      if (length <= 32 && ReadToken(bytes + boundaries[at + 2 * i], length, stage, i)) taken |= uint64_t{1} << i;
    }
    alignas(64) float values[kStage];
    const uint64_t all = _bzhi_u64(~uint64_t{0}, static_cast<uint32_t>(batch));
    // Numbers to read exactly: not taken, or a float Settle is not certain of.
    const uint64_t exact = all & ~(Settle(stage, batch, taken, values) & taken);
    uint64_t commas = 0;
    uint64_t rows = 0;
    if (!last) ClassifyGaps(boundaries + at, batch, bytes, end, comma_word, comma_length, row_word, row_length, commas, rows);
    // Runs of numbers followed by those two gaps are checked at once; each other gap is walked.
    const uint64_t others = all & ~(commas | rows);
    for (int i = 0; i < batch;) {
      const int stop = (others >> i) != 0 ? i + static_cast<int>(_tzcnt_u64(others >> i)) : batch;
      // Numbers i..stop are the list's (only a walked gap ends it).
      for (uint64_t pending = exact & _bzhi_u64(all, stop + 1) & ~_bzhi_u64(all, i); pending != 0; pending &= pending - 1) {
        const int k = static_cast<int>(_tzcnt_u64(pending));
        const uint8_t* const s = bytes + boundaries[at + 2 * k];
        const Number number = ScanNumber(s, end);
        if (number.end != bytes + boundaries[at + 2 * k + 1] || !Value(s, number, &values[k])) return NOT_HANDLED;
      }
      // The run i..stop-1: commas, and rows where the innermost list is full (every inner_size
      // numbers), as gap by gap `++inner == inner_size` fails and a row needs inner + 1 ==
      // inner_size; each row is a comma in the list around (Step(lists, 1)).
      const int run = stop - i;
      const uint64_t run_rows = (rows >> i) & _bzhi_u64(~uint64_t{0}, static_cast<uint32_t>(run));
      if (run_rows == 0 && inner_size >= 0 && inner + run >= inner_size) return NOT_HANDLED;
      if (run_rows != 0) {
        const int64_t first = inner_size - 1 - inner;
        if (first >= 64 || run_rows != ((row_pattern << first) & _bzhi_u64(~uint64_t{0}, static_cast<uint32_t>(run)))) return NOT_HANDLED;
        inner = run - 1 - (63 - static_cast<int64_t>(_lzcnt_u64(run_rows)));
        int64_t& outer = lists.counts[inner_level - 1];
        outer += _mm_popcnt_u64(run_rows);
        if (lists.sizes[inner_level - 1] >= 0 && outer >= lists.sizes[inner_level - 1]) return NOT_HANDLED;
      } else {
        inner += run;
      }
      if (stop == batch) break;
      lists.counts[inner_level] = inner;
      const uint8_t* const e = bytes + boundaries[at + 2 * stop + 1];
      const uint8_t* const next = last ? nullptr : bytes + boundaries[at + 2 * stop + 2];
      bool done = false;
      const uint8_t* const after = OtherGap(e, next, end, lists, gaps, &done);
      if (after == nullptr) return NOT_HANDLED;
      if (done) {
        StoreFloats(out, count, capacity, values, stop + 1);
        count += stop + 1;
        shape[0] = lists.rank;
        for (int level = 0; level < lists.rank; level++) shape[level + 1] = static_cast<int32_t>(lists.sizes[level]);
        return count > capacity ? OUT_OF_ROOM : after - bytes;
      }
      inner = lists.counts[inner_level];
      if (inner_size != lists.sizes[inner_level]) {
        inner_size = lists.sizes[inner_level];
        row_pattern = RowPattern(inner_size);
      }
      comma_length = gaps.lengths[0];
      comma_word = gaps.words[0];
      row_length = gaps.lengths[1];
      row_word = gaps.words[1];
      i = stop + 1;
    }
    at += 2 * batch;
    StoreFloats(out, count, capacity, values, batch);
    count += batch;
  }
}

}  // namespace number_lists

#pragma GCC pop_options

#else

namespace number_lists {

bool HasAvx512Reader() { return false; }

int64_t ReadFloatListsAvx512(const uint8_t*, int64_t, int64_t, float*, int64_t, int64_t, int32_t*) { return -1; }

}  // namespace number_lists

#endif
