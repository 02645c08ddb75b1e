#include <cmath>
#include <string>
#include <vector>

#include "dpsgd/config/sections.hpp"
#include "dpsgd/data/dataset_registry.hpp"

namespace dpsgd::config {
namespace {

// A number or a non-empty list of finite numbers.
std::vector<double> read_numbers(Section& data, const char* k, const std::string& expected) {
  std::vector<double> values;
  const auto node = data.get(k);
  auto one = [&](const YAML::Node& n) {
    double v = 0;
    try {
      v = n.as<double>();
    } catch (const YAML::Exception&) {
      data.fail(data.key(k), render(node), expected);
    }
    if (!std::isfinite(v)) data.fail(data.key(k), render(node), expected);
    values.push_back(v);
  };
  if (node.IsSequence()) {
    if (node.size() == 0) data.fail(data.key(k), "[]", expected);
    for (const auto& item : node) one(item);
  } else {
    one(node);
  }
  return values;
}

// min_side: 16 for segmentation_folder, whose U-Nets pool four times; 1 for
// image_folder, whose models are not fixed to a depth. 0 (both): keep the
// files' size. The upper bound keeps sizes (and their products) far from int64
// overflow.
void read_image_size(Section& data, data::SegmentationFolderOptions& o, int min_side) {
  constexpr double kMaxSide = 16384;
  const std::string expected = "[height, width] or one number (square), each an integer in [" +
                               std::to_string(min_side) +
                               ", 16384], or [0, 0] to keep the files' size";
  const auto v = read_numbers(data, "image_size", expected);
  if (v.size() > 2) data.fail(data.key("image_size"), render(data.get("image_size")), expected);
  const bool keep = v.front() == 0 && v.back() == 0;
  for (double x : v) {
    if ((!keep && x < min_side) || x > kMaxSide || x != std::floor(x)) {
      data.fail(data.key("image_size"), render(data.get("image_size")), expected);
    }
  }
  o.image_size = {static_cast<std::int64_t>(v.front()), static_cast<std::int64_t>(v.back())};
}

void read_label_map(Section& data, data::SegmentationFolderOptions& o) {
  const auto node = data.get("label_map");
  const std::string expected = "a mapping {source label: class}, labels >= 0, e.g. {8: 0, 9: 8}";
  if (!node.IsMap()) data.fail(data.key("label_map"), render(node), expected);
  for (const auto& kv : node) {
    std::int64_t from = -1;
    std::int64_t to = -1;
    try {
      from = kv.first.as<std::int64_t>();
      to = kv.second.as<std::int64_t>();
    } catch (const YAML::Exception&) {
      data.fail(data.key("label_map"), render(node), expected);
    }
    if (from < 0 || to < 0 || from > 65535) {
      data.fail(data.key("label_map"), render(node), expected);
    }
    o.label_map.emplace_back(from, to);
  }
}

// data keys of the image-folder data sets (image_size, mean, std: both;
// label_map: segmentation_folder only); an error for any other data set.
void read_image_keys(Section& data, DataConfig& out) {
  auto& o = out.segmentation;
  const bool segmentation = out.name == "segmentation_folder";
  const bool classification = out.name == "image_folder";
  for (const char* k : {"image_size", "mean", "std", "label_map"}) {
    const bool label_map = std::string(k) == "label_map";
    if (data.has(k) && !segmentation && (label_map || !classification)) {
      data.fail(data.key(k), render(data.get(k)),
                std::string("no value: it applies only to data.name segmentation_folder") +
                    (label_map ? "" : " or image_folder") + " (name is '" + out.name + "')");
    }
  }
  if (!segmentation && !classification) return;
  // A classification folder keeps its files' size unless told otherwise; the
  // 224 x 224 default is the segmentation U-Nets'.
  if (classification) o.image_size = {0, 0};
  if (data.has("image_size")) read_image_size(data, o, segmentation ? 16 : 1);
  if (data.has("mean")) o.mean = read_numbers(data, "mean", "a number or a list, one per channel");
  if (data.has("std")) {
    const std::string expected = "a number > 0 or a list of them, one per channel";
    o.std = read_numbers(data, "std", expected);
    for (double v : o.std) {
      if (v <= 0) data.fail(data.key("std"), render(data.get("std")), expected);
    }
  }
  if (data.has("label_map")) read_label_map(data, o);
}

}  // namespace

void read_data_section(Section& top, ExperimentConfig& c) {
  Section data(top.get("data"), "data", top.file());
  data.read_name("name", c.data.name, data::dataset_registry());
  data.read("root", c.data.root, "a path");
  data.read_int("train_size", c.data.train_size, 0, "an integer >= 0 (0 = all)");
  data.read_int("test_size", c.data.test_size, 0, "an integer >= 0 (0 = all)");
  data.read_int("val_size", c.data.val_size, 0, "an integer >= 0 (0 = all)");
  data.read_int("val_from_train", c.data.val_from_train, 0,
                "an integer >= 0: the last N training examples become the validation split");
  read_image_keys(data, c.data);
  Section augment(data.get("augment"), "data.augment", top.file());
  augment.read("hflip", c.train.augment_hflip, "true or false");
  // Upper bounds keep K x batch and the padded sides far from overflow; the
  // padding is checked against the images once they are loaded.
  augment.read_int("multiplicity", c.train.augment_multiplicity, 1, 1024,
                   "an integer in [1, 1024] (1: off)");
  augment.read_int("crop_padding", c.train.augment_crop_padding, 0, 4096,
                   "an integer in [0, 4096] (0: no crops)");
  augment.finish();
  data.finish();
}

}  // namespace dpsgd::config
