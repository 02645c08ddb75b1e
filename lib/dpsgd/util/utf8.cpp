#include "dpsgd/util/utf8.hpp"

namespace dpsgd::util {
namespace {

// Length of the well-formed sequence starting at text[i], or 0 if there is
// none (Unicode 15, table 3-7: the allowed second bytes exclude overlong forms,
// surrogates and code points above U+10FFFF).
std::size_t sequence_length(const std::string& text, std::size_t i) {
  const auto byte = [&](std::size_t k) {
    return k < text.size() ? static_cast<unsigned char>(text[k]) : 0u;
  };
  const unsigned b0 = byte(i);
  const auto cont = [&](std::size_t k) { return byte(k) >= 0x80 && byte(k) <= 0xBF; };
  if (b0 < 0x80) return 1;
  unsigned lo = 0x80;
  unsigned hi = 0xBF;
  std::size_t n = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (!cont(i + k)) return 0;
  }
  return n;
}

}  // namespace

std::string valid_utf8(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = sequence_length(text, i);
    if (n == 0) {
      static const char* digits = "0123456789ABCDEF";
      const auto b = static_cast<unsigned char>(text[i]);
      out += std::string("\\x") + digits[b >> 4] + digits[b & 0xF];
      ++i;
    } else {
      out.append(text, i, n);
      i += n;
    }
  }
  return out;
}

}  // namespace dpsgd::util
