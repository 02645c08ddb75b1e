#pragma once
// Draws from the operating system's cryptographically secure generator
// (getrandom(2), the kernel's ChaCha20 CSPRNG), for `privacy.secure_rng: true`.
// Pseudo-random generators such as torch's Philox/MT19937 are fine for
// experiments but predictable to anyone who learns their state or seed, which
// voids both the Gaussian mechanism's and Poisson sampling's guarantees in a
// deployment. Nothing here touches a torch generator.
// Uniforms take 53 random bits each; integers below a bound are unbiased
// (rejection of the top partial range); normals are Box-Muller in double
// precision.
//
// Caveat, stated rather than hidden: floating-point Gaussian samplers leak
// through the pattern of representable values (Mironov 2012, "On significance
// of the least significant bits for differential privacy"); no mitigation of
// that attack is attempted here.
#include <cstddef>
#include <cstdint>

#include <torch/torch.h>

namespace dpsgd::util {

/// Fills `out[0..count)` with random 64-bit words from getrandom(2).
/// Throws std::runtime_error if the OS generator fails.
void secure_words(std::uint64_t* out, std::size_t count);

/// A uniform integer in [0, bound) (bound > 0), without modulo bias.
std::uint64_t secure_below(std::uint64_t bound);

/// `count` independent N(0, 1) draws as a CPU float64 tensor of shape (count).
torch::Tensor secure_standard_normal(std::int64_t count);

/// `count` independent uniforms in [0, 1) (multiples of 2^-53), CPU float64.
torch::Tensor secure_uniform(std::int64_t count);

/// `count` independent uniform integers in [0, high), CPU int64.
torch::Tensor secure_randint(std::int64_t high, std::int64_t count);

/// A uniformly random permutation of [0, n) (Fisher-Yates), CPU int64.
torch::Tensor secure_randperm(std::int64_t n);

}  // namespace dpsgd::util
