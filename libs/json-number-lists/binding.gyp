{
  "targets": [
    {
      "target_name": "number_lists",
      "sources": ["src/number-lists.cc", "src/float-lists-avx512.cc"],
      "cflags_cc": ["-O3", "-std=c++17"]
    }
  ]
}
