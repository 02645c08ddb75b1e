// The image-folder segmentation loader on the shipped Duke OCT set and on a
// hand-made folder: label mapping, nearest-neighbour masks (no label that was not
// in the source), sizes, normalisation, and errors that name the file.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include <catch2/catch.hpp>

#include "dpsgd/data/formats/image_file.hpp"
#include "dpsgd/data/segmentation_folder.hpp"
#include "dpsgd/util/error.hpp"

using namespace dpsgd;
namespace fs = std::filesystem;

namespace {

const fs::path kOct = fs::path(DPSGD_SOURCE_DIR) / "datasets" / "duke-oct";

std::set<std::int64_t> labels_of(const torch::Tensor& t) {
  const auto u = std::get<0>(torch::_unique(t.flatten()));
  std::set<std::int64_t> out;
  for (std::int64_t i = 0; i < u.numel(); ++i) out.insert(u[i].item<std::int64_t>());
  return out;
}

}  // namespace

TEST_CASE("map_labels: a lookup applied once per pixel (chains and swaps mean what they say)",
          "[data][segmentation]") {
  const auto labels = torch::tensor({0, 1, 2, 8, 9, 9, 3}, torch::kLong);
  const auto mapped = data::map_labels(labels, {{8, 0}, {9, 8}});
  REQUIRE(torch::equal(mapped, torch::tensor({0, 1, 2, 0, 8, 8, 3}, torch::kLong)));
  const auto swapped = data::map_labels(torch::tensor({1, 2, 1}, torch::kLong), {{1, 2}, {2, 1}});
  REQUIRE(torch::equal(swapped, torch::tensor({2, 1, 2}, torch::kLong)));
  REQUIRE(torch::equal(data::map_labels(labels, {}), labels));
}

TEST_CASE("Duke OCT: sizes, 9 classes after the study's mapping, nearest-neighbour masks",
          "[data][segmentation]") {
  REQUIRE(fs::is_directory(kOct));
  data::SegmentationFolderOptions o;
  o.image_size = {64, 48};
  o.mean = {46.3758};
  o.std = {53.9434};
  o.label_map = {{8, 0}, {9, 8}};
  const auto val = data::load_segmentation_folder(kOct, "val", o, "oct");
  REQUIRE(val.size() == 22);
  REQUIRE(val.inputs.sizes() == torch::IntArrayRef({22, 1, 64, 48}));
  REQUIRE(val.targets.sizes() == torch::IntArrayRef({22, 64, 48}));
  REQUIRE(val.inputs.scalar_type() == torch::kFloat32);
  REQUIRE(val.targets.scalar_type() == torch::kLong);

  // The source masks' labels, read raw: resizing may drop a label but never
  // invent one, and after mapping only 0..8 remain, with 9 gone.
  o.label_map.clear();
  const auto raw = data::load_segmentation_folder(kOct, "val", o, "oct");
  const auto source_labels =
      labels_of(data::read_mask_file(kOct / "val" / "masks" / "Subject_07_00.png"));
  const auto resized_labels = labels_of(raw.targets[0]);
  for (auto l : resized_labels) REQUIRE(source_labels.count(l) == 1);
  REQUIRE(labels_of(raw.targets).count(9) == 1);  // fluid exists in the val subjects
  const auto mapped = labels_of(val.targets);
  REQUIRE(mapped.count(9) == 0);
  REQUIRE(*mapped.rbegin() == 8);
  for (std::int64_t k = 0; k <= 7; ++k) REQUIRE(mapped.count(k) == 1);
  // Mapping commutes with nearest-neighbour resizing.
  REQUIRE(torch::equal(data::map_labels(raw.targets, {{8, 0}, {9, 8}}), val.targets));

  // Normalisation: (x - mean) / std on the resized intensities.
  data::SegmentationFolderOptions plain = o;
  plain.mean = {0.0};
  plain.std = {1.0};
  const auto unnormalised = data::load_segmentation_folder(kOct, "val", plain, "oct");
  REQUIRE(torch::allclose(val.inputs, (unnormalised.inputs - 46.3758) / 53.9434, 1e-5, 1e-5));
}

TEST_CASE("segmentation folder: hand-made images, exact values at full size, clear errors",
          "[data][segmentation]") {
  // A folder of its own, made of real files under new names.
  const auto root = fs::temp_directory_path() / "dpsgd_seg_folder_test";
  std::system(("rm -rf '" + root.string() + "'").c_str());
  fs::create_directories(root / "train" / "images");
  fs::create_directories(root / "train" / "masks");
  const auto src_img = kOct / "test" / "images" / "Subject_09_00.png";
  const auto src_mask = kOct / "test" / "masks" / "Subject_09_00.png";
  fs::copy_file(src_img, root / "train" / "images" / "a.png");
  fs::copy_file(src_mask, root / "train" / "masks" / "a.png");
  data::SegmentationFolderOptions o;
  o.image_size = {0, 0};  // keep the file's size: values must be exactly the file's
  const auto ds = data::load_segmentation_folder(root, "train", o, "t");
  const auto img = data::read_image_file(src_img).to(torch::kFloat32);
  const auto mask = data::read_mask_file(src_mask).to(torch::kLong);
  REQUIRE(torch::equal(ds.inputs[0], img));
  REQUIRE(torch::equal(ds.targets[0], mask[0]));

  // An image without its mask names both files.
  fs::copy_file(src_img, root / "train" / "images" / "b.png");
  try {
    (void)data::load_segmentation_folder(root, "train", o, "t");
    FAIL("expected an error");
  } catch (const util::UserError& e) {
    REQUIRE_THAT(e.what(), Catch::Contains("b.png") && Catch::Contains("no mask"));
  }
  // A missing split folder is named.
  try {
    (void)data::load_segmentation_folder(root, "val", o, "t");
    FAIL("expected an error");
  } catch (const util::UserError& e) {
    REQUIRE_THAT(e.what(), Catch::Contains("val") && Catch::Contains("not found"));
  }
  std::system(("rm -rf '" + root.string() + "'").c_str());
}
