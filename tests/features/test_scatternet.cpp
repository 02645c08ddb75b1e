// Tests of the 2-D scattering transform (ScatterNet features) against kymatio 0.3.0
// (tests/reference/scatternet_reference.json, made by scripts/gen_scatternet_reference.py).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "dpsgd/features/scatternet/scattering2d.hpp"
#include "dpsgd/features/scatternet_extractor.hpp"

#ifndef DPSGD_SOURCE_DIR
#define DPSGD_SOURCE_DIR "."
#endif

using dpsgd::features::ScatterNetExtractor;
using dpsgd::features::scatternet::Scattering2d;

namespace {

// Our float32 pipeline against kymatio's float32 pipeline: the filters differ by float32
// rounding (kymatio builds them in complex64, we in float64) and the FFTs round differently,
// so we allow a max abs error per image of kRelTol times that image's largest |coefficient|.
constexpr double kRelTol = 1e-6;  // measured: 2.9e-7

nlohmann::json load_reference() {
  const std::string path =
      std::string(DPSGD_SOURCE_DIR) + "/tests/reference/scatternet_reference.json";
  std::ifstream in(path);
  // The reference is checked in: a missing file is a failure, not a skip.
  if (!in) throw std::runtime_error("cannot open " + path);
  return nlohmann::json::parse(in);
}

torch::Tensor tensor_of(const nlohmann::json& values, const nlohmann::json& shape) {
  const auto flat = values.get<std::vector<double>>();
  const auto sizes = shape.get<std::vector<std::int64_t>>();
  return torch::tensor(flat, torch::kFloat64).reshape(sizes);
}

// The 28 x 28 images of the first reference case (N x 1 x 28 x 28 float32).
torch::Tensor reference_mnist_like() {
  const auto ref = load_reference();
  const auto& c = ref["cases"][0];
  return tensor_of(c["input"], c["input_shape"]).to(torch::kFloat32);
}

}  // namespace

TEST_CASE("Scattering2d matches kymatio 0.3.0 channel by channel", "[scatternet]") {
  const auto ref = load_reference();
  REQUIRE(ref["kymatio_version"] == "0.3.0");
  REQUIRE(ref["cases"].size() == 3);
  double worst = 0.0;
  for (const auto& c : ref["cases"]) {
    const auto in_shape = c["input_shape"].get<std::vector<std::int64_t>>();
    const auto out_shape = c["output_shape"].get<std::vector<std::int64_t>>();
    const Scattering2d scattering(c["J"].get<int>(), c["L"].get<int>(), in_shape[2], in_shape[3]);
    const auto x = tensor_of(c["input"], c["input_shape"]).to(torch::kFloat32);
    // kymatio: N x C x K x h x w; ours: N x (C*K) x h x w in the same order.
    const auto want =
        tensor_of(c["output"], c["output_shape"])
            .reshape({out_shape[0], out_shape[1] * out_shape[2], out_shape[3], out_shape[4]});
    const auto got = scattering.transform(x);
    REQUIRE(got.scalar_type() == torch::kFloat32);
    REQUIRE(got.sizes() == want.sizes());
    for (std::int64_t i = 0; i < want.size(0); ++i) {
      const double scale = want[i].abs().max().item<double>();
      for (std::int64_t k = 0; k < want.size(1); ++k) {
        const double err =
            (got[i][k].to(torch::kFloat64) - want[i][k]).abs().max().item<double>() / scale;
        worst = std::max(worst, err);
        INFO(c["name"].get<std::string>() << " image " << i << " channel " << k);
        REQUIRE(err <= kRelTol);
      }
    }
  }
  std::cout << "max |ours - kymatio| / max |kymatio| over the reference: " << worst
            << std::endl;  // the measured figure, for the notes
}

TEST_CASE("Scattering2d output shape and channel count", "[scatternet]") {
  const Scattering2d j2(2, 8, 28, 28);
  CHECK(j2.channels_per_input() == 81);  // 1 + 16 + 64 (Tramer & Boneh's 81 x 7 x 7)
  CHECK(j2.transform(torch::rand({2, 1, 28, 28})).sizes() ==
        std::vector<std::int64_t>{2, 81, 7, 7});
  CHECK(j2.transform(torch::rand({1, 3, 28, 28})).sizes() ==
        std::vector<std::int64_t>{1, 243, 7, 7});
  const Scattering2d j3(3, 6, 32, 32);
  CHECK(j3.channels_per_input() == 127);  // 1 + 18 + 36 * 3
  CHECK(j3.transform(torch::rand({2, 1, 32, 32})).sizes() ==
        std::vector<std::int64_t>{2, 127, 4, 4});
  CHECK(j2.transform(torch::rand({0, 1, 28, 28})).sizes() ==
        std::vector<std::int64_t>{0, 81, 7, 7});
}

TEST_CASE("an example's ScatterNet features do not depend on the rest of the batch",
          "[scatternet]") {
  torch::manual_seed(14);
  const auto batch = torch::cat({reference_mnist_like(), torch::rand({5, 1, 28, 28})});
  const Scattering2d scattering(2, 8, 28, 28);
  const auto together = scattering.transform(batch);
  for (std::int64_t i = 0; i < batch.size(0); ++i) {
    const auto alone = scattering.transform(batch.narrow(0, i, 1));
    const double scale = alone.abs().max().item<double>();
    CHECK((together.narrow(0, i, 1) - alone).abs().max().item<double>() <= 1e-6 * scale);
  }
  // The extractor's chunking (kChunkSize examples per call) must not change anything either.
  const auto many = torch::rand({ScatterNetExtractor::kChunkSize + 3, 1, 28, 28});
  ScatterNetExtractor extractor(2, 8, 28, 28);
  const auto features = extractor.extract(many);
  REQUIRE(features.sizes() == std::vector<std::int64_t>{many.size(0), 81, 7, 7});
  const auto tail = scattering.transform(many.narrow(0, ScatterNetExtractor::kChunkSize, 3));
  CHECK(
      (features.narrow(0, ScatterNetExtractor::kChunkSize, 3) - tail).abs().max().item<double>() <=
      1e-6 * tail.abs().max().item<double>());
}

TEST_CASE("Scattering2d rejects bad settings and shapes", "[scatternet]") {
  CHECK_THROWS_AS(Scattering2d(2, 8, 30, 28), std::invalid_argument);  // 30 not a multiple of 4
  CHECK_THROWS_AS(Scattering2d(2, 8, 28, 26), std::invalid_argument);
  CHECK_THROWS_AS(Scattering2d(0, 8, 28, 28), std::invalid_argument);
  CHECK_THROWS_AS(Scattering2d(2, 0, 28, 28), std::invalid_argument);
  const Scattering2d scattering(2, 8, 28, 28);
  CHECK_THROWS_AS(scattering.transform(torch::rand({1, 28, 28})), std::invalid_argument);
  CHECK_THROWS_AS(scattering.transform(torch::rand({1, 1, 32, 28})), std::invalid_argument);
  CHECK_THROWS_AS(scattering.transform(torch::rand({1, 1, 28, 32})), std::invalid_argument);
  CHECK_THROWS_AS(ScatterNetExtractor(2, 8, 28, 30), std::invalid_argument);
  ScatterNetExtractor extractor(2, 8, 28, 28);
  CHECK_THROWS_AS(extractor.extract(torch::rand({28, 28})), std::invalid_argument);
}

TEST_CASE("ScatterNetExtractor fingerprint and provenance", "[scatternet]") {
  const ScatterNetExtractor extractor(2, 8, 28, 28);
  CHECK(extractor.fingerprint() == nlohmann::json{{"extractor", "scatternet"},
                                                  {"J", 2},
                                                  {"L", 8},
                                                  {"height", 28},
                                                  {"width", 28},
                                                  {"version", 1}});
  CHECK(extractor.provenance() ==
        "Morlet wavelet scattering, J=2, L=8 (Mallat 2012; Oyallon & Mallat 2015): no data");
}
