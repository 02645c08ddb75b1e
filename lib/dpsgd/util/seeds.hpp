#pragma once
// The one place where a run's seed becomes the seeds of its random streams.
// Every consumer of randomness names its stream here; no other file derives a
// seed. A stream's seed is a mixing function of (run seed, purpose):
//     stream_seed(s, p) = mix(mix(s) XOR tag_p)
// where mix is the SplitMix64 output function (Steele, Lea & Flood 2014, "Fast
// splittable pseudorandom number generators", OOPSLA; the finaliser is
// Stafford's Mix13 variant of MurmurHash3's fmix64) and tag_p is a distinct
// 64-bit constant per purpose (its name in ASCII). mix is a bijection of 64-bit
// words, so for one purpose distinct run seeds give distinct stream seeds, and
// for one run seed distinct purposes do; across (seed, purpose) pairs a
// collision is as unlikely as for random 64-bit values. Seed 0 is not special
// (mix(0) = 0xE220A8397B1DCDAF). Each stream then feeds its own generator
// (util/random_source.hpp), so no stream replays another: the sampler's draws
// are not the draws that initialised the model, and augmentation flips are not
// bits of the noise.
// Caveat: torch's CPU generator (MT19937) keeps only the low 32 bits of its
// seed, so two CPU streams coincide with probability 2^-32 per pair of seeds;
// device generators (Philox) use all 64 bits.
// None of this is a secret: anyone who knows the run seed knows every seeded
// draw. Runs whose privacy matters use privacy.secure_rng (the OS CSPRNG).
#include <cstdint>

namespace dpsgd::util {

enum class SeedStream {
  kModelInit,             ///< torch::manual_seed before the model is built
  kBatchSampling,         ///< Poisson (or shuffle) batch draws
  kNoise,                 ///< Gaussian noise on the clipped sum (seeded mode)
  kClipper,               ///< a clipper's own random choices (sparsification masks)
  kMicrobatchAssignment,  ///< which microbatch each sampled example joins
  kAugmentation,          ///< per-example flips of training batches
  kAdaptiveCountNoise,    ///< the noise on adaptive clipping's released count
  kBenchBatches,          ///< the fixed batches `dpsgd-run bench` times
  kAuditMembership,       ///< which audit canaries are included (probability 1/2 each)
  kAuditCanaries,         ///< the canaries: gradient directions, steps, relabelling
  kTuningTrials,          ///< the number of tuning trials and each trial's settings
};

/// The SplitMix64 output for state `z`: add the golden gamma, then the
/// Mix13 finaliser (Steele et al. 2014). A bijection of 64-bit words.
[[nodiscard]] constexpr std::uint64_t splitmix64(std::uint64_t z) {
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31U);
}

/// The purpose tag of a stream: its short name in ASCII, distinct per stream.
[[nodiscard]] constexpr std::uint64_t stream_tag(SeedStream stream) {
  switch (stream) {
    case SeedStream::kModelInit:
      return 0x6d6f64656c696e69ULL;  // "modelini"
    case SeedStream::kBatchSampling:
      return 0x6261746368736d70ULL;  // "batchsmp"
    case SeedStream::kNoise:
      return 0x67617573736e6f69ULL;  // "gaussnoi"
    case SeedStream::kClipper:
      return 0x636c69706d61736bULL;  // "clipmask"
    case SeedStream::kMicrobatchAssignment:
      return 0x6d6963726f626174ULL;  // "microbat"
    case SeedStream::kAugmentation:
      return 0x6175676d656e746eULL;  // "augmentn"
    case SeedStream::kAdaptiveCountNoise:
      return 0x6164617074636e74ULL;  // "adaptcnt"
    case SeedStream::kBenchBatches:
      return 0x62656e6368626174ULL;  // "benchbat"
    case SeedStream::kAuditMembership:
      return 0x61756469746d656dULL;  // "auditmem"
    case SeedStream::kAuditCanaries:
      return 0x6175646974636e79ULL;  // "auditcny"
    case SeedStream::kTuningTrials:
      return 0x74756e6574726961ULL;  // "tunetria"
  }
  return 0;
}

/// The seed of `stream` for a run seeded with `run_seed`.
[[nodiscard]] constexpr std::uint64_t stream_seed(std::uint64_t run_seed, SeedStream stream) {
  return splitmix64(splitmix64(run_seed) ^ stream_tag(stream));
}

/// The seed of the `index`-th sub-stream of a stream (e.g. one sparsification
/// mask per refresh period): a function of (seed, index) alone, so a resumed run
/// redraws the same values without replaying the draws before them. Both
/// arguments are mixed, so neighbouring indices give unrelated seeds.
[[nodiscard]] constexpr std::uint64_t substream_seed(std::uint64_t stream_seed,
                                                     std::uint64_t index) {
  constexpr std::uint64_t kSubstreamTag = 0x7375627374726561ULL;  // "substrea"
  return splitmix64(splitmix64(stream_seed ^ kSubstreamTag) ^ splitmix64(index));
}

}  // namespace dpsgd::util
