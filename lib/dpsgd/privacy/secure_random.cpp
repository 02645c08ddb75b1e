#include "dpsgd/privacy/secure_random.hpp"

#include <cerrno>
#include <cmath>
#include <stdexcept>
#include <vector>

#include <sys/random.h>

namespace dpsgd::privacy {
namespace {

void fill_random(std::uint64_t* out, std::size_t count) {
  auto* bytes = reinterpret_cast<unsigned char*>(out);
  std::size_t left = count * sizeof(std::uint64_t);
  while (left > 0) {
    const ssize_t got = getrandom(bytes, left, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("getrandom failed: the secure noise source is unavailable");
    }
    bytes += got;
    left -= static_cast<std::size_t>(got);
  }
}

// A uniform in (0, 1] from the top 53 bits: never 0, so log() is finite.
double unit_interval(std::uint64_t bits) {
  return (static_cast<double>(bits >> 11U) + 1.0) * 0x1.0p-53;
}

}  // namespace

torch::Tensor secure_standard_normal(std::int64_t count) {
  auto out = torch::empty({count}, torch::kFloat64);
  if (count == 0) return out;
  const auto pairs = static_cast<std::size_t>((count + 1) / 2);
  std::vector<std::uint64_t> bits(2 * pairs);
  fill_random(bits.data(), bits.size());
  auto* dst = out.data_ptr<double>();
  const double two_pi = 2.0 * M_PI;
  for (std::size_t k = 0; k < pairs; ++k) {
    const double radius = std::sqrt(-2.0 * std::log(unit_interval(bits[2 * k])));
    const double angle = two_pi * unit_interval(bits[2 * k + 1]);
    const auto i = static_cast<std::int64_t>(2 * k);
    dst[i] = radius * std::cos(angle);
    if (i + 1 < count) dst[i + 1] = radius * std::sin(angle);
  }
  return out;
}

}  // namespace dpsgd::privacy
