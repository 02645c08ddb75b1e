// Labels are checked against the classes when the files are read, on the
// stored labels (before resizing): a mask label outside the classes, or an IDX
// label >= num_classes, is a util::UserError naming the file and the value.
// Also: a segmentation folder mixing 8- and 16-bit images gets one intensity
// scale.
#include <filesystem>
#include <fstream>
#include <functional>

#include <catch2/catch.hpp>

#include "dpsgd/data/dataset_registry.hpp"
#include "dpsgd/data/label_check.hpp"
#include "dpsgd/data/mnist_like.hpp"
#include "dpsgd/data/segmentation_folder.hpp"
#include "dpsgd/util/error.hpp"
#include "tests/helpers/png_writer.hpp"
#include "tests/helpers/run_binary.hpp"

using namespace dpsgd;
namespace fs = std::filesystem;
using test::Bytes;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const util::UserError& e) {
    return e.what();
  }
  return "";
}

// A side x side 8-bit gray PNG, every pixel `fill` except pixel (0, 0) = `corner`.
Bytes gray_png(std::uint32_t side, std::uint8_t fill, std::uint8_t corner) {
  test::PngSpec spec;
  spec.width = side;
  spec.height = side;
  std::vector<Bytes> rows(side, Bytes(side, fill));
  rows[0][0] = corner;
  return test::make_png(spec, test::unfiltered(rows));
}

// The same as 16-bit samples (value * 257, so the same intensity).
Bytes gray_png16(std::uint32_t side, std::uint8_t fill) {
  test::PngSpec spec;
  spec.width = side;
  spec.height = side;
  spec.bit_depth = 16;
  std::vector<Bytes> rows(side, Bytes(2 * side, fill));
  return test::make_png(spec, test::unfiltered(rows));
}

// <root>/train/{images,masks}/a.png: a 32x32 image; its mask all class 1 but
// one pixel of label `odd`, which a resize to 16x16 drops.
fs::path one_example_folder(const std::string& name, std::uint8_t odd) {
  const auto root = test::fresh_dir(name);
  fs::create_directories(root / "train" / "images");
  fs::create_directories(root / "train" / "masks");
  test::write_bytes(root / "train" / "images" / "a.png", gray_png(32, 100, 100));
  test::write_bytes(root / "train" / "masks" / "a.png", gray_png(32, 1, odd));
  return root;
}

}  // namespace

TEST_CASE("check_labels names the file, the value and where it is", "[data][labels]") {
  const auto labels = torch::tensor({{0, 1}, {2, 7}}, torch::kLong);
  CHECK_NOTHROW(data::check_labels(labels, 8, "f", "fix"));
  CHECK_NOTHROW(data::check_labels(labels, 0, "f", "fix"));  // classes unknown: no check
  const auto e = error_of([&] { data::check_labels(labels, 3, "masks/x.png", "do this"); });
  CHECK_THAT(e, Catch::Contains("masks/x.png") && Catch::Contains("label 7") &&
                    Catch::Contains("[1, 1]") && Catch::Contains("model.num_classes = 3") &&
                    Catch::Contains("do this"));
  CHECK_THAT(error_of([&] { data::check_labels(torch::tensor({-1}), 3, "f", ""); }),
             Catch::Contains("label -1"));
}

TEST_CASE("segmentation masks: a label outside the classes is found before resizing",
          "[data][labels][segmentation]") {
  const auto root = one_example_folder("dpsgd_labels_seg", 5);
  data::SegmentationFolderOptions o;
  o.image_size = {16, 16};
  // Without the classes the odd pixel silently vanishes in the resize: the
  // reason the check must come first.
  const auto unchecked = data::load_segmentation_folder(root, "train", o, "t");
  CHECK(unchecked.targets.max().item<std::int64_t>() == 1);
  const auto e = error_of([&] { data::load_segmentation_folder(root, "train", o, "t", 3); });
  CHECK_THAT(e, Catch::Contains((root / "train" / "masks" / "a.png").string()) &&
                    Catch::Contains("label 5") && Catch::Contains("data.label_map"));
  // Mapped into the classes, it loads; labels are checked after the mapping.
  o.label_map = {{5, 2}};
  CHECK(data::load_segmentation_folder(root, "train", o, "t", 3).size() == 1);
  // Through the registry, as the runner loads it.
  data::DatasetOptions options{root.string(), {}, 3};
  options.segmentation.image_size = {16, 16};
  const auto& factory = data::dataset_registry().get("segmentation_folder");
  CHECK_THAT(error_of([&] { factory(options, data::DatasetSplit::kTrain); }),
             Catch::Contains("label 5"));
}

TEST_CASE("segmentation images: 8- and 16-bit files get one intensity scale",
          "[data][segmentation][png]") {
  const auto root = one_example_folder("dpsgd_labels_depth", 1);
  test::write_bytes(root / "train" / "images" / "b.png", gray_png16(32, 100));
  fs::copy_file(root / "train" / "masks" / "a.png", root / "train" / "masks" / "b.png");
  data::SegmentationFolderOptions o;
  o.image_size = {0, 0};
  const auto ds = data::load_segmentation_folder(root, "train", o, "t", 2);
  REQUIRE(ds.size() == 2);
  // 100 * 257 stored in 16 bits reads as 100, the 8-bit file's value.
  CHECK(torch::equal(ds.inputs[0], ds.inputs[1]));
  CHECK(ds.inputs.max().item<float>() == 100.0f);
}

TEST_CASE("IDX labels: a label >= num_classes is an error naming the label file",
          "[data][labels]") {
  const auto root = test::fresh_dir("dpsgd_labels_idx");
  fs::create_directories(root);
  const std::uint8_t n = 3;
  Bytes images = {0, 0, 8, 3, 0, 0, 0, n, 0, 0, 0, 28, 0, 0, 0, 28};
  images.resize(images.size() + n * 28 * 28, 7);
  const Bytes labels = {0, 0, 8, 1, 0, 0, 0, n, 1, 12, 0};
  test::write_bytes(root / "train-images-idx3-ubyte", images);
  test::write_bytes(root / "train-labels-idx1-ubyte", labels);
  CHECK(data::load_mnist_like(root, data::Split::kTrain, "m").size() == n);  // no classes given
  CHECK(data::load_mnist_like(root, data::Split::kTrain, "m", 13).size() == n);
  const auto e = error_of([&] { data::load_mnist_like(root, data::Split::kTrain, "m", 10); });
  CHECK_THAT(e, Catch::Contains("train-labels-idx1-ubyte") && Catch::Contains("label 12") &&
                    Catch::Contains("[1]") && Catch::Contains("model.num_classes = 10"));
}
