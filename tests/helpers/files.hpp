#pragma once
// Small file helpers shared by tests.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace dpsgd::test {

/// The whole content of a file ("" when it cannot be read).
inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace dpsgd::test
