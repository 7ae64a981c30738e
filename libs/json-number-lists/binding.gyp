{
  "targets": [
    {
      "target_name": "number_lists",
      "sources": ["src/number-lists.cc"],
      "cflags_cc": ["-O3", "-std=c++17"]
    }
  ]
}
