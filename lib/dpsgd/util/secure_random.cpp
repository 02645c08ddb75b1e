#include "dpsgd/util/secure_random.hpp"

#include <cerrno>
#include <cmath>
#include <stdexcept>
#include <vector>

#include <sys/random.h>

namespace dpsgd::util {
namespace {

// A uniform in (0, 1] from the top 53 bits: never 0, so log() is finite.
double open_unit(std::uint64_t bits) {
  return (static_cast<double>(bits >> 11U) + 1.0) * 0x1.0p-53;
}

// x mod bound when x lies outside the top partial range of 2^64 (so every
// residue is equally likely); otherwise a fresh draw decides.
std::uint64_t below_from(std::uint64_t x, std::uint64_t bound) {
  const std::uint64_t reject_under = (0 - bound) % bound;  // 2^64 mod bound
  return x >= reject_under ? x % bound : secure_below(bound);
}

}  // namespace

void secure_words(std::uint64_t* out, std::size_t count) {
  auto* bytes = reinterpret_cast<unsigned char*>(out);
  std::size_t left = count * sizeof(std::uint64_t);
  while (left > 0) {
    const ssize_t got = getrandom(bytes, left, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("getrandom failed: the secure random source is unavailable");
    }
    bytes += got;
    left -= static_cast<std::size_t>(got);
  }
}

std::uint64_t secure_below(std::uint64_t bound) {
  if (bound == 0) throw std::invalid_argument("secure_below: bound must be > 0");
  const std::uint64_t reject_under = (0 - bound) % bound;
  std::uint64_t x = 0;
  do {
    secure_words(&x, 1);
  } while (x < reject_under);
  return x % bound;
}

torch::Tensor secure_standard_normal(std::int64_t count) {
  auto out = torch::empty({count}, torch::kFloat64);
  if (count == 0) return out;
  const auto pairs = static_cast<std::size_t>((count + 1) / 2);
  std::vector<std::uint64_t> bits(2 * pairs);
  secure_words(bits.data(), bits.size());
  auto* dst = out.data_ptr<double>();
  const double two_pi = 2.0 * M_PI;
  for (std::size_t k = 0; k < pairs; ++k) {
    const double radius = std::sqrt(-2.0 * std::log(open_unit(bits[2 * k])));
    const double angle = two_pi * open_unit(bits[2 * k + 1]);
    const auto i = static_cast<std::int64_t>(2 * k);
    dst[i] = radius * std::cos(angle);
    if (i + 1 < count) dst[i + 1] = radius * std::sin(angle);
  }
  return out;
}

torch::Tensor secure_uniform(std::int64_t count) {
  auto out = torch::empty({count}, torch::kFloat64);
  std::vector<std::uint64_t> bits(static_cast<std::size_t>(count));
  secure_words(bits.data(), bits.size());
  auto* dst = out.data_ptr<double>();
  for (std::int64_t i = 0; i < count; ++i) {
    dst[i] = static_cast<double>(bits[static_cast<std::size_t>(i)] >> 11U) * 0x1.0p-53;
  }
  return out;
}

torch::Tensor secure_randint(std::int64_t high, std::int64_t count) {
  if (high <= 0) throw std::invalid_argument("secure_randint: high must be > 0");
  auto out = torch::empty({count}, torch::kInt64);
  std::vector<std::uint64_t> bits(static_cast<std::size_t>(count));
  secure_words(bits.data(), bits.size());
  auto* dst = out.data_ptr<std::int64_t>();
  const auto bound = static_cast<std::uint64_t>(high);
  for (std::int64_t i = 0; i < count; ++i) {
    dst[i] = static_cast<std::int64_t>(below_from(bits[static_cast<std::size_t>(i)], bound));
  }
  return out;
}

torch::Tensor secure_randperm(std::int64_t n) {
  auto out = torch::arange(n, torch::kInt64);
  if (n < 2) return out;
  std::vector<std::uint64_t> bits(static_cast<std::size_t>(n - 1));
  secure_words(bits.data(), bits.size());
  auto* p = out.data_ptr<std::int64_t>();
  // Fisher-Yates: position i swaps with a uniform j in [0, i].
  for (std::int64_t i = n - 1; i > 0; --i) {
    const auto j = static_cast<std::int64_t>(
        below_from(bits[static_cast<std::size_t>(i - 1)], static_cast<std::uint64_t>(i + 1)));
    std::swap(p[i], p[j]);
  }
  return out;
}

}  // namespace dpsgd::util
