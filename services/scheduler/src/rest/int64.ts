/** The 64-bit integer ranges JSON integers are checked against (they arrive as arbitrary-length text). */
export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;
export const UINT64_MAX = 2n ** 64n - 1n;
