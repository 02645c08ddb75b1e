// The TorchScript feature extractor against the outputs Python computed for the same
// file (tests/data/tiny_backbone.pt and tiny_backbone_reference.json, made by
// scripts/make_tiny_torchscript.py): forward and a submodule, the preprocessing (repeat,
// bilinear resize, mean / std), chunking, clear errors, and the cache key.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "dpsgd/features/torchscript_extractor.hpp"
#include "tests/helpers/run_binary.hpp"

#ifndef DPSGD_SOURCE_DIR
#define DPSGD_SOURCE_DIR "."
#endif

using dpsgd::features::TorchScriptExtractor;
using dpsgd::features::TorchScriptOptions;
namespace fs = std::filesystem;

namespace {

fs::path data_dir() { return fs::path(DPSGD_SOURCE_DIR) / "tests" / "data"; }
fs::path model_file() { return data_dir() / "tiny_backbone.pt"; }

nlohmann::json load_reference() {
  const fs::path path = data_dir() / "tiny_backbone_reference.json";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  return nlohmann::json::parse(in);
}

torch::Tensor tensor_of(const nlohmann::json& j) {
  const auto values = j.at("values").get<std::vector<float>>();
  const auto shape = j.at("shape").get<std::vector<std::int64_t>>();
  return torch::tensor(values, torch::kFloat).reshape(shape);
}

TorchScriptOptions options(std::string output = "") {
  TorchScriptOptions o;
  o.file = model_file();
  o.output = std::move(output);
  return o;
}

// An empty folder under the temporary directory (fresh_dir: not fs::remove_all, which
// the torch wheel's libtorch breaks).
fs::path scratch(const std::string& name) {
  const fs::path dir = dpsgd::test::fresh_dir("dpsgd_torchscript_" + name);
  fs::create_directories(dir);
  return dir;
}

void check_close(const torch::Tensor& got, const torch::Tensor& want) {
  REQUIRE(got.sizes() == want.sizes());
  CHECK(got.scalar_type() == torch::kFloat);
  const double diff = (got - want).abs().max().item<double>();
  INFO("max abs difference " << diff);
  CHECK(diff <= 1e-6);
}

}  // namespace

TEST_CASE("torchscript: forward and a submodule match Python", "[torchscript]") {
  const auto ref = load_reference();
  REQUIRE(ref.contains("torch_version"));
  const auto inputs = tensor_of(ref.at("inputs"));
  TorchScriptExtractor forward(options());
  const auto out = forward.extract(inputs);
  CHECK(out.dim() == 2);
  check_close(out, tensor_of(ref.at("forward")));
  // The submodule's output is N x 4 x 2 x 2: 4-D outputs are kept as they are.
  TorchScriptExtractor features(options("features"));
  check_close(features.extract(inputs), tensor_of(ref.at("features")));
  // One example per chunk gives the same rows: each row depends on its input alone.
  auto chunked = options();
  chunked.batch_size = 1;
  check_close(TorchScriptExtractor(chunked).extract(inputs), tensor_of(ref.at("forward")));
}

TEST_CASE("torchscript: repeat, resize and mean / std match Python", "[torchscript]") {
  const auto ref = load_reference().at("preprocessed");
  auto o = options();
  o.repeat_channels = ref.at("repeat_channels");
  o.resize = ref.at("resize");
  o.mean = ref.at("mean").get<std::vector<double>>();
  o.std = ref.at("std").get<std::vector<double>>();
  TorchScriptExtractor extractor(o);
  const auto grey = tensor_of(ref.at("inputs"));
  REQUIRE(grey.size(1) == 1);
  check_close(extractor.extract(grey), tensor_of(ref.at("forward")));
}

TEST_CASE("torchscript: output shapes", "[torchscript]") {
  auto o = options("features");
  o.repeat_channels = 3;
  o.resize = 12;
  TorchScriptExtractor extractor(o);
  // Grey 5 x 5 images become 3 x 12 x 12, and the pool keeps the map 2 x 2.
  const auto out = extractor.extract(torch::rand({5, 1, 5, 5}));
  CHECK(out.sizes() == torch::IntArrayRef({5, 4, 2, 2}));
  // A sub-submodule: the convolution alone, 3 -> 4 channels, 3 x 3 valid.
  TorchScriptExtractor conv(options("features.0"));
  CHECK(conv.extract(torch::rand({2, 3, 8, 8})).sizes() == torch::IntArrayRef({2, 4, 6, 6}));
  // Three channels pass through repeat_channels = 3 untouched; two cannot.
  CHECK(extractor.extract(torch::rand({2, 3, 5, 5})).size(0) == 2);
  CHECK_THROWS_AS(extractor.extract(torch::rand({2, 2, 5, 5})), std::invalid_argument);
  CHECK_THROWS_AS(extractor.extract(torch::rand({2, 1, 5})), std::invalid_argument);
  // mean / std for 3 channels on 1-channel input without repeat: an error.
  auto norm = options();
  norm.mean = {0.0, 0.0, 0.0};
  norm.std = {1.0, 1.0, 1.0};
  CHECK_THROWS_AS(TorchScriptExtractor(norm).extract(torch::rand({1, 1, 8, 8})),
                  std::invalid_argument);
  // No input rows, no output rows.
  CHECK(TorchScriptExtractor(options()).extract(torch::rand({0, 3, 8, 8})).size(0) == 0);
}

TEST_CASE("torchscript: clear errors", "[torchscript]") {
  const fs::path dir = scratch("errors");
  auto missing = options();
  missing.file = dir / "nowhere.pt";
  CHECK_THROWS_AS(TorchScriptExtractor(missing), std::invalid_argument);
  CHECK_THROWS_WITH(TorchScriptExtractor(missing),
                    Catch::Contains("nowhere.pt") && Catch::Contains("does not exist"));

  auto not_script = options();
  not_script.file = dir / "notes.pt";
  std::ofstream(not_script.file) << "these are not the weights you are looking for\n";
  CHECK_THROWS_AS(TorchScriptExtractor(not_script), std::runtime_error);
  CHECK_THROWS_WITH(TorchScriptExtractor(not_script),
                    Catch::Contains("notes.pt") && Catch::Contains("not a TorchScript file"));

  CHECK_THROWS_AS(TorchScriptExtractor(options("features.7")), std::invalid_argument);
  CHECK_THROWS_WITH(TorchScriptExtractor(options("backbone")),
                    Catch::Contains("tiny_backbone.pt") && Catch::Contains("\"backbone\"") &&
                        Catch::Contains("features, head, pair"));
  CHECK_THROWS_WITH(TorchScriptExtractor(options("features.7")), Catch::Contains("0, 1, 2"));

  // A submodule that returns a tuple: an error naming the file and what came back.
  TorchScriptExtractor pair(options("pair"));
  CHECK_THROWS_AS(pair.extract(torch::rand({2, 3, 8, 8})), std::runtime_error);
  CHECK_THROWS_WITH(pair.extract(torch::rand({2, 3, 8, 8})),
                    Catch::Contains("tiny_backbone.pt") && Catch::Contains("\"pair\"") &&
                        Catch::Contains("Tuple") && Catch::Contains("not a tensor"));

  auto bad = options();
  bad.mean = {0.5};
  CHECK_THROWS_AS(TorchScriptExtractor(bad), std::invalid_argument);  // no std
  bad.std = {0.0};
  CHECK_THROWS_AS(TorchScriptExtractor(bad), std::invalid_argument);
  bad = options();
  bad.batch_size = 0;
  CHECK_THROWS_AS(TorchScriptExtractor(bad), std::invalid_argument);
}

TEST_CASE("torchscript: the cache key follows the file's bytes, not its path", "[torchscript]") {
  const fs::path dir = scratch("key");
  const fs::path copy = dir / "copy.pt";
  const fs::path moved = dir / "elsewhere" / "renamed.pt";
  fs::copy_file(model_file(), copy);
  fs::create_directories(moved.parent_path());
  fs::copy_file(model_file(), moved);
  auto at = [](const fs::path& file, std::string output = "") {
    auto o = options(std::move(output));
    o.file = file;
    return TorchScriptExtractor(o);
  };
  const auto original = at(model_file()).fingerprint();
  CHECK(original.at("extractor") == "torchscript");
  CHECK(original.at("version") == 1);
  CHECK(original.at("file_hash").get<std::string>().size() == 16);
  CHECK_FALSE(original.dump().find("tiny_backbone") != std::string::npos);
  CHECK(at(copy).fingerprint() == original);
  CHECK(at(moved).fingerprint() == original);
  CHECK(at(model_file(), "features").fingerprint() != original);
  CHECK(at(model_file()).provenance().find("tiny_backbone.pt") != std::string::npos);

  // Same size, one bit flipped inside the first stored weight tensor: another key. The
  // file is a zip whose records are stored uncompressed and 64-byte aligned (PyTorch's
  // writer); the first record, data/0, starts at the first multiple of 64 after its
  // local header (30 bytes, the name, and an extra field of at least 4 bytes).
  {
    std::fstream f(copy, std::ios::in | std::ios::out | std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    const std::size_t name_end = bytes.find("data/0") + 6;
    const std::size_t weights = (name_end + 4 + 63) / 64 * 64;
    REQUIRE(weights + 1 < bytes.size());
    f.seekp(static_cast<std::streamoff>(weights + 1));
    f.put(static_cast<char>(bytes[weights + 1] ^ 0x01));
  }
  REQUIRE(fs::file_size(copy) == fs::file_size(model_file()));
  TorchScriptExtractor changed = at(copy);
  CHECK(changed.fingerprint() != original);
  CHECK(changed.fingerprint().at("file_hash") != original.at("file_hash"));
}
