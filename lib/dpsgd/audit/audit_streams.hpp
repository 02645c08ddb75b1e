#pragma once
// The audit's random streams, all below util/seeds.hpp's kAuditMembership
// (which canaries are included) and kAuditCanaries, whose sub-streams are:
//   2i           the direction of gradient canary i
//   2t + 1       the inclusion coins of step t (t < 2^63 - 2)
//   2^64 - 1     which examples become input canaries, and their labels
//   2^64 - 3     the seed of the reference runs (audit_run.hpp)
// Indices that no canary or step reaches, so no stream replays another.
#include <cstdint>

#include "dpsgd/util/seeds.hpp"

namespace dpsgd::audit {

inline constexpr std::uint64_t kInputCanarySubstream = ~0ULL;
inline constexpr std::uint64_t kReferenceSubstream = ~0ULL - 2;

/// The seed of the stream kAuditCanaries's sub-stream `index`, for run seed `seed`.
[[nodiscard]] constexpr std::uint64_t audit_substream(std::uint64_t seed, std::uint64_t index) {
  return util::substream_seed(util::stream_seed(seed, util::SeedStream::kAuditCanaries), index);
}

}  // namespace dpsgd::audit
