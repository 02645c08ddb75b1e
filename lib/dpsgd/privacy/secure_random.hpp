#pragma once
// Standard normal draws from the operating system's cryptographically secure
// generator (getrandom(2), the kernel's ChaCha20 CSPRNG), for
// `privacy.secure_noise: true`. Pseudo-random generators such as torch's
// Philox/MT19937 are fine for experiments but predictable to anyone who learns
// their state or seed, which voids the Gaussian mechanism's guarantee in a
// deployment. Uniforms take 53 random bits each and become normals by the
// Box-Muller transform in double precision.
//
// Caveat, stated rather than hidden: floating-point Gaussian samplers leak
// through the pattern of representable values (Mironov 2012, "On significance
// of the least significant bits for differential privacy"); no mitigation of
// that attack is attempted here.
#include <cstdint>

#include <torch/torch.h>

namespace dpsgd::privacy {

/// `count` independent N(0, 1) draws as a CPU float64 tensor of shape (count).
/// Throws std::runtime_error if the OS generator fails.
torch::Tensor secure_standard_normal(std::int64_t count);

}  // namespace dpsgd::privacy
