#include "dpsgd/config/sections.hpp"
#include "dpsgd/data/dataset_registry.hpp"

namespace dpsgd::config {
namespace {

// data keys of segmentation_folder; an error for any other data set.
void read_segmentation_keys(Section& data, DataConfig& out) {
  auto& o = out.segmentation;
  const bool applies = out.name == "segmentation_folder";
  for (const char* k : {"image_size", "mean", "std", "label_map"}) {
    if (data.has(k) && !applies) {
      data.fail(data.key(k), render(data.get(k)),
                "no value: it applies only to data.name segmentation_folder (name is '" + out.name +
                    "')");
    }
  }
  if (!applies) return;
  auto numbers = [&](const char* k, const std::string& expected) {
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
  };
  if (data.has("image_size")) {
    // 16: the U-Nets pool four times; 0 (both): keep the files' size. The
    // upper bound keeps sizes (and their products) far from int64 overflow.
    constexpr double kMaxSide = 16384;
    const std::string expected =
        "[height, width] or one number (square), each an integer in [16, 16384], or [0, 0] to "
        "keep the files' size";
    const auto v = numbers("image_size", expected);
    if (v.size() > 2) data.fail(data.key("image_size"), render(data.get("image_size")), expected);
    const bool keep = v.front() == 0 && v.back() == 0;
    for (double x : v) {
      if ((!keep && x < 16) || x > kMaxSide || x != std::floor(x)) {
        data.fail(data.key("image_size"), render(data.get("image_size")), expected);
      }
    }
    o.image_size = {static_cast<std::int64_t>(v.front()), static_cast<std::int64_t>(v.back())};
  }
  if (data.has("mean")) o.mean = numbers("mean", "a number or a list, one per channel");
  if (data.has("std")) {
    const std::string expected = "a number > 0 or a list of them, one per channel";
    o.std = numbers("std", expected);
    for (double v : o.std) {
      if (v <= 0) data.fail(data.key("std"), render(data.get("std")), expected);
    }
  }
  if (data.has("label_map")) {
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
  read_segmentation_keys(data, c.data);
  Section augment(data.get("augment"), "data.augment", top.file());
  augment.read("hflip", c.train.augment_hflip, "true or false");
  augment.finish();
  data.finish();
}

}  // namespace dpsgd::config
