#pragma once
// The one owner of engine compatibility: which engine `auto` means for a clipping
// method and a microbatch setting, and which pairs are impossible. The config
// loader calls it to refuse a bad file before any run, the bench to pick the
// engines it times, and DpGradient to build its engine, so the three can never
// disagree.
//
// The rule (every engine is exact; they differ in what they can compute):
//  - microbatches > 0 need an engine that clips microbatch means (microbatch),
//    and such an engine is refused without microbatches;
//  - a clipper that masks coordinates before the norm (random sparsification)
//    needs per-example gradients (loop, materialize; ghost norms cannot see the
//    mask without materialising);
//  - a clipper that releases a per-example count (adaptive) cannot be combined
//    with microbatches, whose sensitivity analysis is per microbatch;
//  - auto: microbatch with microbatches, else materialize for coordinate masks,
//    else ghost (the fastest for norm-only clipping; see ghost_engine.cpp).
#include <cstdint>
#include <string>
#include <vector>

#include "dpsgd/privacy/clipping/clipper.hpp"

namespace dpsgd::privacy {

/// The registry key of the engine to build for `requested` (a registry key or
/// "auto"); throws std::invalid_argument saying why the pair is impossible and
/// what would work, and util::UserError (listing the valid names) for an unknown one.
[[nodiscard]] std::string choose_engine(const std::string& requested, const ClippingNeeds& needs,
                                        std::int64_t microbatches);

/// Every registered engine (auto excluded) that can run this clipping method.
[[nodiscard]] std::vector<std::string> compatible_engines(const ClippingNeeds& needs,
                                                          std::int64_t microbatches);

}  // namespace dpsgd::privacy
