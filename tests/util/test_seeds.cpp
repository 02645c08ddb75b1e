// util/seeds.hpp is the one place run seeds become stream seeds. Its values are
// pinned here: a change would silently change every reproduced result.
#include <catch2/catch.hpp>

#include "dpsgd/util/seeds.hpp"

using dpsgd::util::SeedStream;
using dpsgd::util::stream_seed;

TEST_CASE("stream seeds are the documented functions of the run seed", "[seeds]") {
  for (std::uint64_t seed : {0ULL, 1ULL, 12345ULL, ~0ULL}) {
    REQUIRE(stream_seed(seed, SeedStream::kModelInit) == seed);
    REQUIRE(stream_seed(seed, SeedStream::kBatchSampling) == seed);
    REQUIRE(stream_seed(seed, SeedStream::kBenchBatches) == seed);
    REQUIRE(stream_seed(seed, SeedStream::kNoise) == seed + 0x9E3779B97F4A7C15ULL);
    REQUIRE(stream_seed(seed, SeedStream::kClipper) == seed + 0xC2B2AE3D27D4EB4FULL);
    REQUIRE(stream_seed(seed, SeedStream::kMicrobatchAssignment) == seed + 0x165667B19E3779F9ULL);
    REQUIRE(stream_seed(seed, SeedStream::kAugmentation) == (seed ^ 0x9E3779B97F4A7C15ULL));
    // The privacy-relevant streams that are seeded apart today stay apart.
    REQUIRE(stream_seed(seed, SeedStream::kNoise) != stream_seed(seed, SeedStream::kClipper));
    REQUIRE(stream_seed(seed, SeedStream::kNoise) !=
            stream_seed(seed, SeedStream::kMicrobatchAssignment));
    REQUIRE(stream_seed(seed, SeedStream::kNoise) != stream_seed(seed, SeedStream::kBatchSampling));
  }
  REQUIRE(dpsgd::util::substream_seed(7, 0) == 7);
  REQUIRE(dpsgd::util::substream_seed(7, 2) == 7 + 2 * 0x9E3779B97F4A7C15ULL);
}
