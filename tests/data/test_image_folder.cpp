// The image-folder classification loader on PNG folders written here: classes
// are train's sorted folder names and shared by every split, labels, resizing,
// normalisation, an optional val split, and errors that name the path.
#include <array>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "dpsgd/config/config_loader.hpp"
#include "dpsgd/data/dataset_registry.hpp"
#include "dpsgd/data/image_folder.hpp"
#include "dpsgd/util/error.hpp"
#include "tests/helpers/config_text.hpp"
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
  return "(no util::UserError)";
}

// A width x height 8-bit RGB PNG of one colour.
Bytes rgb_png(std::uint32_t width, std::uint32_t height, std::uint8_t r, std::uint8_t g,
              std::uint8_t b) {
  test::PngSpec spec;
  spec.width = width;
  spec.height = height;
  spec.color_type = 2;
  Bytes row;
  for (std::uint32_t x = 0; x < width; ++x) row.insert(row.end(), {r, g, b});
  return test::make_png(spec, test::unfiltered(std::vector<Bytes>(height, row)));
}

Bytes gray_png(std::uint32_t side, std::uint8_t value) {
  test::PngSpec spec;
  spec.width = side;
  spec.height = side;
  return test::make_png(spec, test::unfiltered(std::vector<Bytes>(side, Bytes(side, value))));
}

void write_png(const fs::path& path, const Bytes& png) {
  fs::create_directories(path.parent_path());
  test::write_bytes(path, png);
}

// train/{dog,ant,cat} (made in that order, read sorted) with two 4x4 images each,
// whose red value says class and file; test/{cat,dog} with one each; no val/.
fs::path make_folder(const std::string& name) {
  const auto root = test::fresh_dir(name);
  const std::vector<std::pair<std::string, std::uint8_t>> classes = {
      {"dog", 200}, {"ant", 0}, {"cat", 100}};
  for (const auto& [cls, red] : classes) {
    // "b" before "a" on disk: the loader must sort.
    write_png(root / "train" / cls / "b.png",
              rgb_png(4, 4, static_cast<std::uint8_t>(red + 10), 50, 60));
    write_png(root / "train" / cls / "a.png", rgb_png(4, 4, red, 50, 60));
  }
  write_png(root / "test" / "dog" / "x.jpg.png", rgb_png(4, 4, 7, 8, 9));
  write_png(root / "test" / "cat" / "y.PNG", rgb_png(4, 4, 1, 2, 3));
  return root;
}

std::vector<std::int64_t> labels_of(const data::TensorDataset& ds) {
  const auto t = ds.targets.contiguous();
  return {t.data_ptr<std::int64_t>(), t.data_ptr<std::int64_t>() + t.numel()};
}

data::SegmentationFolderOptions keep_size() {
  data::SegmentationFolderOptions o;
  o.image_size = {0, 0};
  return o;
}

}  // namespace

TEST_CASE("image folder: sorted classes, labels, values and the split's shared classes",
          "[data][image_folder]") {
  const auto root = make_folder("dpsgd_image_folder_basic");
  CHECK(data::image_folder_classes(root) == std::vector<std::string>{"ant", "cat", "dog"});
  const auto train = data::load_image_folder(root, "train", keep_size(), "f");
  REQUIRE(train.inputs.sizes() == torch::IntArrayRef({6, 3, 4, 4}));
  REQUIRE(train.inputs.scalar_type() == torch::kFloat32);
  REQUIRE(train.targets.scalar_type() == torch::kLong);
  CHECK(labels_of(train) == std::vector<std::int64_t>{0, 0, 1, 1, 2, 2});
  // Class by class, each in name order: ant/a, ant/b, cat/a, cat/b, dog/a, dog/b.
  const std::vector<float> reds = {0, 10, 100, 110, 200, 210};
  for (std::size_t i = 0; i < reds.size(); ++i) {
    const auto image = train.inputs[static_cast<std::int64_t>(i)];
    CHECK(image[0].min().item<float>() == reds[i]);
    CHECK(image[0].max().item<float>() == reds[i]);
    CHECK(image[1][3][3].item<float>() == 50.0F);
    CHECK(image[2][0][1].item<float>() == 60.0F);
  }
  // test/ has no ant folder: its labels are still train's indices. Extensions
  // are matched without case, on the last one only.
  const auto test = data::load_image_folder(root, "test", keep_size(), "f");
  CHECK(labels_of(test) == std::vector<std::int64_t>{1, 2});
  CHECK(test.inputs[0][0][0][0].item<float>() == 1.0F);
  // No val/: an empty data set (test is evaluated every epoch instead).
  CHECK(data::load_image_folder(root, "val", keep_size(), "f").size() == 0);
  fs::create_directories(root / "val" / "ant");
  write_png(root / "val" / "ant" / "v.png", rgb_png(4, 4, 0, 0, 0));
  CHECK(labels_of(data::load_image_folder(root, "val", keep_size(), "f")) ==
        std::vector<std::int64_t>{0});
}

TEST_CASE("image folder: resize and per-channel normalisation in 0-255 units",
          "[data][image_folder]") {
  const auto root = make_folder("dpsgd_image_folder_resize");
  // A file of another size: an error naming it without image_size, resized with it.
  write_png(root / "train" / "cat" / "c.png", rgb_png(6, 5, 100, 50, 60));
  CHECK_THAT(error_of([&] { data::load_image_folder(root, "train", keep_size(), "f"); }),
             Catch::Contains((root / "train" / "cat" / "c.png").string()) &&
                 Catch::Contains("6x5") && Catch::Contains("data.image_size"));
  data::SegmentationFolderOptions o;
  o.image_size = {8, 6};
  o.mean = {10.0, 20.0, 30.0};
  o.std = {2.0};
  const auto ds = data::load_image_folder(root, "train", o, "f");
  REQUIRE(ds.inputs.sizes() == torch::IntArrayRef({7, 3, 8, 6}));
  // A one-colour image stays one colour when resized: (x - mean) / std exactly.
  const auto c = ds.inputs[4];  // ant a, ant b, cat a, cat b, cat c
  CHECK(torch::allclose(c[0], torch::full({8, 6}, (100.0F - 10.0F) / 2.0F), 0.0, 1e-4));
  CHECK(torch::allclose(c[1], torch::full({8, 6}, (50.0F - 20.0F) / 2.0F), 0.0, 1e-4));
  CHECK(torch::allclose(c[2], torch::full({8, 6}, (60.0F - 30.0F) / 2.0F), 0.0, 1e-4));
  CHECK(labels_of(ds) == std::vector<std::int64_t>{0, 0, 1, 1, 1, 2, 2});
  // A mean that fits neither one value nor the three channels.
  o.mean = {1.0, 2.0};
  CHECK_THAT(error_of([&] { data::load_image_folder(root, "train", o, "f"); }),
             Catch::Contains("data.mean") && Catch::Contains("3 channels"));
  // Through the registry, as a run loads it.
  const auto& factory = data::dataset_registry().get("image_folder");
  data::DatasetOptions options{root.string(), {}, 3};
  options.segmentation.image_size = {8, 8};
  CHECK(factory(options, data::DatasetSplit::kTrain).size() == 7);
  CHECK(factory(options, data::DatasetSplit::kVal).size() == 0);
  CHECK(factory(options, data::DatasetSplit::kTest).size() == 2);
  CHECK_THAT(error_of([&] {
               factory({"", {}, 3}, data::DatasetSplit::kTrain);
             }),
             Catch::Contains("data.root"));
}

TEST_CASE("image folder: unknown, empty and missing classes are errors naming the path",
          "[data][image_folder]") {
  const auto root = make_folder("dpsgd_image_folder_errors");
  const auto o = keep_size();
  write_png(root / "test" / "emu" / "e.png", rgb_png(4, 4, 1, 1, 1));
  CHECK_THAT(error_of([&] { data::load_image_folder(root, "test", o, "f"); }),
             Catch::Contains((root / "test" / "emu").string()) && Catch::Contains("'emu'") &&
                 Catch::Contains("ant, cat, dog"));
  // More classes than the model has: named before any image is read.
  CHECK_THAT(error_of([&] { data::load_image_folder(root, "train", o, "f", 2); }),
             Catch::Contains((root / "train").string()) &&
                 Catch::Contains("model.num_classes = 2") && Catch::Contains("'dog'") &&
                 Catch::Contains("set model.num_classes to 3"));
  CHECK(data::load_image_folder(root, "train", o, "f", 3).size() == 6);
  // Channel counts must agree.
  write_png(root / "train" / "dog" / "c.png", gray_png(4, 9));
  CHECK_THAT(error_of([&] { data::load_image_folder(root, "train", o, "f"); }),
             Catch::Contains((root / "train" / "dog" / "c.png").string()) &&
                 Catch::Contains("1 channels"));
  std::remove((root / "train" / "dog" / "c.png").string().c_str());
  // A file that is no image is named, not skipped.
  test::write_bytes(root / "train" / "dog" / "notes.txt", Bytes{'h', 'i'});
  CHECK_THAT(error_of([&] { data::load_image_folder(root, "train", o, "f"); }),
             Catch::Contains((root / "train" / "dog" / "notes.txt").string()));
  std::remove((root / "train" / "dog" / "notes.txt").string().c_str());
  fs::create_directories(root / "train" / "eel");
  CHECK_THAT(
      error_of([&] { data::load_image_folder(root, "train", o, "f"); }),
      Catch::Contains((root / "train" / "eel").string()) && Catch::Contains("empty class folder"));
  // No classes at all, and no split folder at all.
  const auto bare = test::fresh_dir("dpsgd_image_folder_bare");
  fs::create_directories(bare / "train");
  CHECK_THAT(error_of([&] { data::image_folder_classes(bare); }),
             Catch::Contains((bare / "train").string()) && Catch::Contains("no class folders"));
  CHECK_THAT(error_of([&] { data::load_image_folder(root, "nothere", o, "f"); }),
             Catch::Contains((root / "nothere").string()) && Catch::Contains("not found"));
}

TEST_CASE("image folder: image_size, mean and std are config keys of image_folder too",
          "[data][image_folder][config]") {
  const std::string base = std::string("\n") + test::kMinimalConfig;
  const auto parse = [&](const std::vector<std::string>& sets) {
    return config::parse_experiment_config(base, "exp.yaml", sets);
  };
  const auto error = [&](const std::vector<std::string>& sets) {
    return test::user_error_of([&] { parse(sets); });
  };
  const std::vector<std::string> folder = {"data.name=image_folder", "data.root=/x"};
  // Without image_size a classification folder keeps its files' size.
  CHECK(parse(folder).data.segmentation.image_size == std::array<std::int64_t, 2>{0, 0});
  auto sets = folder;
  sets.insert(sets.end(), {"data.image_size=[8, 12]", "data.mean=[1, 2, 3]", "data.std=2"});
  const auto c = parse(sets);
  CHECK(c.data.segmentation.image_size == std::array<std::int64_t, 2>{8, 12});
  CHECK(c.data.segmentation.mean == std::vector<double>{1, 2, 3});
  CHECK(c.data.segmentation.std == std::vector<double>{2});
  // Sides below 16 are for image_folder (no U-Net to pool four times).
  sets = folder;
  sets.push_back("data.image_size=4");
  CHECK(parse(sets).data.segmentation.image_size == std::array<std::int64_t, 2>{4, 4});
  sets.back() = "data.image_size=[0, 5]";
  CHECK_THAT(error(sets), Catch::Contains("data.image_size"));
  sets.back() = "data.label_map={1: 0}";
  CHECK_THAT(error(sets), Catch::Contains("data.label_map") &&
                              Catch::Contains("only to data.name segmentation_folder ("));
  CHECK_THAT(error({"data.name=cifar10", "data.mean=0.5"}),
             Catch::Contains("data.mean") && Catch::Contains("image_folder"));
}
