// CIFAR-10/100 binary files written here record by record, so every label and
// pixel is known: the RGB plane layout, the public normalisation, both root
// layouts (the files' folder or the folder the tarball was unpacked in), and
// every malformed file as a util::UserError naming the file.
#include <cstdio>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "dpsgd/data/cifar.hpp"
#include "dpsgd/data/dataset_registry.hpp"
#include "dpsgd/data/formats/cifar_binary.hpp"
#include "dpsgd/util/error.hpp"
#include "tests/helpers/png_writer.hpp"
#include "tests/helpers/run_binary.hpp"

using namespace dpsgd;
namespace fs = std::filesystem;
using data::CifarVariant;
using test::Bytes;

namespace {

constexpr std::size_t kPixelBytes = 3072;

// Record 0 of every file set is three constant planes (R 255, G 0, B 128), so
// its normalised values can be written down; the others a pattern that
// differs per byte and per record, so a misplaced plane or record shows.
std::uint8_t pixel(std::size_t record, std::size_t i) {
  if (record == 0) return i < 1024 ? 255 : (i < 2048 ? 0 : 128);
  return static_cast<std::uint8_t>((i * 7 + record * 13) % 256);
}

// The expected uint8 image of `record`, 3 x 32 x 32.
torch::Tensor expected_image(std::size_t record) {
  std::vector<std::int64_t> values(kPixelBytes);
  for (std::size_t i = 0; i < kPixelBytes; ++i) values[i] = pixel(record, i);
  return torch::tensor(values, torch::kLong).view({3, 32, 32});
}

// One record per entry of `labels` (each entry the record's label bytes),
// numbered from `first_record` for their pixels.
Bytes cifar_file(const std::vector<Bytes>& labels, std::size_t first_record) {
  Bytes out;
  for (std::size_t r = 0; r < labels.size(); ++r) {
    out.insert(out.end(), labels[r].begin(), labels[r].end());
    for (std::size_t i = 0; i < kPixelBytes; ++i) out.push_back(pixel(first_record + r, i));
  }
  return out;
}

// CIFAR-10 in <dir>: batch b holds records 2b (label b) and 2b+1 (label b+5);
// the test batch three records with labels 9, 0, 3.
void write_cifar10(const fs::path& dir) {
  fs::create_directories(dir);
  for (std::uint8_t b = 0; b < 5; ++b) {
    const auto name = "data_batch_" + std::to_string(b + 1) + ".bin";
    test::write_bytes(dir / name, cifar_file({{b}, {static_cast<std::uint8_t>(b + 5)}}, 2 * b));
  }
  test::write_bytes(dir / "test_batch.bin", cifar_file({{9}, {0}, {3}}, 0));
}

// CIFAR-100 in <dir>: (coarse, fine) label pairs.
void write_cifar100(const fs::path& dir) {
  fs::create_directories(dir);
  test::write_bytes(dir / "train.bin", cifar_file({{19, 99}, {0, 0}, {4, 42}}, 0));
  test::write_bytes(dir / "test.bin", cifar_file({{7, 17}}, 0));
}

std::vector<std::int64_t> labels_of(const data::TensorDataset& ds) {
  const auto t = ds.targets.contiguous();
  return {t.data_ptr<std::int64_t>(), t.data_ptr<std::int64_t>() + t.numel()};
}

// The images back in 0-255 from the normalised inputs.
torch::Tensor unnormalised(const data::TensorDataset& ds, const std::vector<float>& mean,
                           const std::vector<float>& std) {
  const auto m = torch::tensor(mean).view({1, 3, 1, 1});
  const auto s = torch::tensor(std).view({1, 3, 1, 1});
  return (ds.inputs * s + m) * 255.0;
}

// Catch2 2.x has no matcher on part of an exception's message: this one
// requires the exception type and every part.
class MessageContains : public Catch::MatcherBase<util::UserError> {
 public:
  explicit MessageContains(std::vector<std::string> parts) : parts_(std::move(parts)) {}
  bool match(const util::UserError& e) const override {
    const std::string what = e.what();
    for (const auto& part : parts_) {
      if (what.find(part) == std::string::npos) return false;
    }
    return true;
  }
  std::string describe() const override {
    std::string out = "has a message containing";
    for (const auto& part : parts_) out += " \"" + part + "\"";
    return out;
  }

 private:
  std::vector<std::string> parts_;
};

const std::vector<float> kMean10{0.4914F, 0.4822F, 0.4465F};
const std::vector<float> kStd10{0.2470F, 0.2435F, 0.2616F};
const std::vector<float> kMean100{0.5071F, 0.4865F, 0.4409F};
const std::vector<float> kStd100{0.2673F, 0.2564F, 0.2762F};

}  // namespace

TEST_CASE("CIFAR-10 binary: shapes, labels, RGB planes and the public normalisation",
          "[data][cifar]") {
  const auto root = test::fresh_dir("dpsgd_cifar10_layout");
  write_cifar10(root / "cifar-10-batches-bin");  // as the tarball unpacks
  const auto train = data::load_cifar(root, CifarVariant::kCifar10, data::Split::kTrain, "c10");
  REQUIRE(train.inputs.sizes() == torch::IntArrayRef({10, 3, 32, 32}));
  REQUIRE(train.inputs.scalar_type() == torch::kFloat32);
  REQUIRE(train.targets.scalar_type() == torch::kLong);
  CHECK(labels_of(train) == std::vector<std::int64_t>{0, 5, 1, 6, 2, 7, 3, 8, 4, 9});
  CHECK(train.name == "c10");

  // Record 0: R 255, G 0, B 128 -> (x / 255 - mean) / std per channel.
  CHECK(train.inputs[0][0][5][7].item<float>() == Approx((1.0 - 0.4914) / 0.2470).epsilon(1e-5));
  CHECK(train.inputs[0][1][31][0].item<float>() == Approx((0.0 - 0.4822) / 0.2435).epsilon(1e-5));
  CHECK(train.inputs[0][2][0][31].item<float>() ==
        Approx((128.0 / 255.0 - 0.4465) / 0.2616).epsilon(1e-5));
  // Every record's planes, rows and columns where the format puts them.
  const auto back = unnormalised(train, kMean10, kStd10);
  for (std::size_t r = 0; r < 10; ++r) {
    INFO("record " << r);
    CHECK(torch::allclose(back[static_cast<std::int64_t>(r)], expected_image(r).to(torch::kFloat32),
                          0.0, 1e-3));
  }

  const auto test = data::load_cifar(root, CifarVariant::kCifar10, data::Split::kTest, "c10");
  CHECK(test.inputs.sizes() == torch::IntArrayRef({3, 3, 32, 32}));
  CHECK(labels_of(test) == std::vector<std::int64_t>{9, 0, 3});

  // The files' own folder as the root reads the same.
  const auto direct = data::load_cifar(root / "cifar-10-batches-bin", CifarVariant::kCifar10,
                                       data::Split::kTrain, "c10");
  CHECK(torch::equal(direct.inputs, train.inputs));
  CHECK(torch::equal(direct.targets, train.targets));

  // Through the registry, as a run loads it: no validation split.
  const auto& factory = data::dataset_registry().get("cifar10");
  const data::DatasetOptions options{root.string(), {}, 10};
  CHECK(factory(options, data::DatasetSplit::kTrain).size() == 10);
  CHECK(factory(options, data::DatasetSplit::kTest).size() == 3);
  CHECK(factory(options, data::DatasetSplit::kVal).size() == 0);
}

TEST_CASE("CIFAR-100 binary: fine labels, both root layouts, its own normalisation",
          "[data][cifar]") {
  const auto root = test::fresh_dir("dpsgd_cifar100_layout");
  write_cifar100(root / "cifar-100-binary");
  for (const auto& at : {root, root / "cifar-100-binary"}) {
    INFO("root " << at.string());
    const auto train = data::load_cifar(at, CifarVariant::kCifar100, data::Split::kTrain, "c100");
    REQUIRE(train.inputs.sizes() == torch::IntArrayRef({3, 3, 32, 32}));
    CHECK(labels_of(train) == std::vector<std::int64_t>{99, 0, 42});
    CHECK(train.inputs[0][0][0][0].item<float>() == Approx((1.0 - 0.5071) / 0.2673).epsilon(1e-5));
    CHECK(train.inputs[0][1][0][0].item<float>() == Approx((0.0 - 0.4865) / 0.2564).epsilon(1e-5));
    const auto back = unnormalised(train, kMean100, kStd100);
    for (std::size_t r = 0; r < 3; ++r) {
      CHECK(torch::allclose(back[static_cast<std::int64_t>(r)],
                            expected_image(r).to(torch::kFloat32), 0.0, 1e-3));
    }
    const auto test = data::load_cifar(at, CifarVariant::kCifar100, data::Split::kTest, "c100");
    CHECK(labels_of(test) == std::vector<std::int64_t>{17});
  }
  const auto& factory = data::dataset_registry().get("cifar100");
  CHECK(factory({root.string(), {}, 100}, data::DatasetSplit::kTrain).size() == 3);
  CHECK(factory({root.string(), {}, 100}, data::DatasetSplit::kVal).size() == 0);
}

TEST_CASE("CIFAR binary: a missing file names every path tried and where to get the files",
          "[data][cifar]") {
  const auto root = test::fresh_dir("dpsgd_cifar_missing");
  write_cifar10(root);
  std::remove((root / "data_batch_3.bin").string().c_str());
  REQUIRE_THROWS_MATCHES(
      data::load_cifar(root, CifarVariant::kCifar10, data::Split::kTrain, "c10"), util::UserError,
      MessageContains({(root / "data_batch_3.bin").string(),
                       (root / "cifar-10-batches-bin" / "data_batch_3.bin").string(),
                       "https://www.cs.toronto.edu/~kriz/cifar.html",
                       "binary version (suitable for C programs)"}));
  // The test split's file is still there: only what a split needs is required.
  CHECK(data::load_cifar(root, CifarVariant::kCifar10, data::Split::kTest, "c10").size() == 3);
  REQUIRE_THROWS_MATCHES(
      data::load_cifar(root, CifarVariant::kCifar100, data::Split::kTest, "c100"), util::UserError,
      MessageContains({(root / "test.bin").string(),
                       (root / "cifar-100-binary" / "test.bin").string(), "cifar-100-binary"}));
  // An empty data.root means datasets/cifar10 under the working directory.
  if (!fs::exists(data::kDefaultCifar10Root)) {
    const auto& factory = data::dataset_registry().get("cifar10");
    REQUIRE_THROWS_MATCHES(factory({"", {}, 10}, data::DatasetSplit::kTest), util::UserError,
                           MessageContains({"datasets/cifar10", "working directory"}));
  }
}

TEST_CASE("CIFAR binary: malformed files are errors naming the file, record and value",
          "[data][cifar]") {
  const auto dir = test::fresh_dir("dpsgd_cifar_malformed");
  fs::create_directories(dir);
  const auto write = [&](const std::string& name, const Bytes& bytes) {
    test::write_bytes(dir / name, bytes);
    return dir / name;
  };
  const auto read10 = [](const fs::path& p, std::int64_t num_classes = 0) {
    return data::read_cifar_binary(p, CifarVariant::kCifar10, num_classes);
  };
  const auto read100 = [](const fs::path& p) {
    return data::read_cifar_binary(p, CifarVariant::kCifar100);
  };

  const auto good = write("good.bin", cifar_file({{1}, {2}}, 0));
  const auto records = read10(good);
  CHECK(records.images.sizes() == torch::IntArrayRef({2, 3, 32, 32}));
  CHECK(records.images.scalar_type() == torch::kUInt8);
  CHECK(torch::equal(records.images[1].to(torch::kLong), expected_image(1)));

  REQUIRE_THROWS_MATCHES(read10(dir / "absent.bin"), util::UserError,
                         MessageContains({(dir / "absent.bin").string(), "not found"}));
  auto truncated = cifar_file({{1}, {2}}, 0);
  truncated.pop_back();
  const auto cut = write("cut.bin", truncated);
  REQUIRE_THROWS_MATCHES(read10(cut), util::UserError,
                         MessageContains({cut.string(), "6145 bytes", "not a multiple", "3073"}));
  const auto empty = write("empty.bin", {});
  REQUIRE_THROWS_MATCHES(read10(empty), util::UserError,
                         MessageContains({empty.string(), "empty"}));
  const auto label10 = write("label10.bin", cifar_file({{3}, {10}}, 0));
  REQUIRE_THROWS_MATCHES(read10(label10), util::UserError,
                         MessageContains({label10.string(), "record 1", "label 10", "0..9"}));
  REQUIRE_THROWS_MATCHES(read10(good, 2), util::UserError,
                         MessageContains({good.string(), "label 2", "model.num_classes = 2"}));
  CHECK_NOTHROW(read10(good, 3));

  const auto fine100 = write("fine100.bin", cifar_file({{0, 5}, {1, 100}}, 0));
  REQUIRE_THROWS_MATCHES(read100(fine100), util::UserError,
                         MessageContains({fine100.string(), "record 1", "fine label 100"}));
  const auto coarse20 = write("coarse20.bin", cifar_file({{20, 5}}, 0));
  REQUIRE_THROWS_MATCHES(read100(coarse20), util::UserError,
                         MessageContains({coarse20.string(), "record 0", "coarse label 20"}));
  // A CIFAR-100 file read as CIFAR-10 (one label byte fewer) is named as such.
  const auto c100 = write("c100.bin", cifar_file({{1, 5}, {2, 6}}, 0));
  REQUIRE_THROWS_MATCHES(read10(c100), util::UserError,
                         MessageContains({c100.string(), "data.name cifar100"}));

  // The loader passes the file's errors on and checks model.num_classes.
  const auto root = dir / "set";
  write_cifar10(root);
  REQUIRE_THROWS_MATCHES(
      data::load_cifar(root, CifarVariant::kCifar10, data::Split::kTest, "c10", 5), util::UserError,
      MessageContains({(root / "test_batch.bin").string(), "label 9", "model.num_classes = 5"}));
  test::write_bytes(root / "data_batch_4.bin", truncated);
  REQUIRE_THROWS_MATCHES(data::load_cifar(root, CifarVariant::kCifar10, data::Split::kTrain, "c10"),
                         util::UserError,
                         MessageContains({(root / "data_batch_4.bin").string(), "not a multiple"}));
}
