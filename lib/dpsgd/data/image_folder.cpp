#include "dpsgd/data/image_folder.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <vector>

#include "dpsgd/data/formats/image_file.hpp"
#include "dpsgd/data/label_check.hpp"
#include "dpsgd/util/error.hpp"
#include "dpsgd/util/logging.hpp"

namespace dpsgd::data {
namespace {

using util::cat;
using util::UserError;

struct Example {
  std::filesystem::path file;
  std::int64_t label;
};

// Editor and OS droppings (.DS_Store, .ipynb_checkpoints) are not data.
bool hidden(const std::filesystem::path& p) {
  const auto name = p.filename().string();
  return !name.empty() && name[0] == '.';
}

bool is_image_name(const std::filesystem::path& p) {
  auto ext = p.extension().string();
  for (auto& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

std::vector<std::string> class_folders(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    throw UserError(cat(dir.string(), ": folder not found (expected <root>/<split>/<class>/ ",
                        "folders of images, split train, val or test)"));
  }
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_directory() && !hidden(entry.path())) {
      names.push_back(entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  if (names.empty()) {
    throw UserError(cat(dir.string(), ": no class folders; put each class's images in a folder ",
                        "named after the class, e.g. ", (dir / "cat" / "0001.png").string()));
  }
  return names;
}

// Every entry must be an image: a file silently skipped would be data lost
// without notice (e.g. .bmp files in a folder of .png ones).
std::vector<std::filesystem::path> class_files(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (hidden(entry.path())) continue;
    if (!entry.is_regular_file() || !is_image_name(entry.path())) {
      throw UserError(cat(entry.path().string(), ": not a .png, .jpg or .jpeg file; a class ",
                          "folder may hold only images (move it elsewhere)"));
    }
    files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    throw UserError(cat(dir.string(), ": empty class folder (no .png, .jpg or .jpeg files); add ",
                        "its images or remove it"));
  }
  return files;
}

std::string preview(const std::vector<std::string>& names) {
  constexpr std::size_t kShown = 10;
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < kShown; ++i) {
    out += (i == 0 ? "" : ", ") + names[i];
  }
  if (names.size() > kShown) out += cat(", ... (", names.size(), " in all)");
  return out;
}

std::vector<Example> list_examples(const std::filesystem::path& root, const std::string& split_dir,
                                   const std::vector<std::string>& classes) {
  const auto dir = root / split_dir;
  std::vector<Example> examples;
  for (const auto& name : class_folders(dir)) {
    const auto it = std::lower_bound(classes.begin(), classes.end(), name);
    if (it == classes.end() || *it != name) {
      throw UserError(cat((dir / name).string(), ": class '", name, "' is not among the classes ",
                          "of ", (root / "train").string(), " (", preview(classes),
                          "), which define the labels; rename the folder or add ",
                          (root / "train" / name).string()));
    }
    const auto label = static_cast<std::int64_t>(it - classes.begin());
    for (auto& file : class_files(dir / name)) examples.push_back({std::move(file), label});
  }
  return examples;
}

torch::Tensor per_channel(const std::vector<double>& values, std::int64_t channels,
                          const char* what, const std::filesystem::path& dir) {
  if (values.size() != 1 && static_cast<std::int64_t>(values.size()) != channels) {
    throw UserError(cat(dir.string(), ": data.", what, " has ", values.size(),
                        " values but the images have ", channels, " channels"));
  }
  auto t = torch::tensor(values, torch::kFloat32);
  return (values.size() == 1 ? t.expand({channels}) : t).view({1, channels, 1, 1});
}

// 1 x C x H x W in 0-255, resized when a size is configured.
torch::Tensor read_resized(const std::filesystem::path& file,
                           const std::array<std::int64_t, 2>& size) {
  auto image = read_image_file(file).to(torch::kFloat32).unsqueeze(0);
  const auto [h, w] = size;
  if (h > 0 && w > 0 && (image.size(2) != h || image.size(3) != w)) {
    // ATen's op directly, as segmentation_folder does: the functional
    // interpolate() warns on every call about an align_corners default.
    image = at::_upsample_bilinear2d_aa(image, std::vector<std::int64_t>{h, w},
                                        /*align_corners=*/false);
  }
  return image;
}

// The images into one N x C x H x W tensor, allocated once the first image
// fixes C, H and W, so a large folder needs its memory once, not twice.
torch::Tensor read_images(const std::vector<Example>& examples,
                          const std::array<std::int64_t, 2>& size) {
  torch::Tensor inputs;
  const auto& first = examples.front().file;
  for (std::size_t i = 0; i < examples.size(); ++i) {
    const auto& file = examples[i].file;
    const auto image = read_resized(file, size);
    if (i == 0) {
      inputs = torch::empty(
          {static_cast<std::int64_t>(examples.size()), image.size(1), image.size(2), image.size(3)},
          torch::kFloat32);
    } else if (image.size(1) != inputs.size(1)) {
      throw UserError(cat(file.string(), ": has ", image.size(1), " channels but ", first.string(),
                          " has ", inputs.size(1),
                          "; save all images with one channel layout (e.g. RGB, no alpha)"));
    } else if (image.size(2) != inputs.size(2) || image.size(3) != inputs.size(3)) {
      throw UserError(cat(file.string(), ": is ", image.size(3), "x", image.size(2), " but ",
                          first.string(), " is ", inputs.size(3), "x", inputs.size(2),
                          "; set data.image_size to resize them all"));
    }
    inputs[static_cast<std::int64_t>(i)].copy_(image[0]);
  }
  return inputs;
}

}  // namespace

std::vector<std::string> image_folder_classes(const std::filesystem::path& root) {
  return class_folders(root / "train");
}

TensorDataset load_image_folder(const std::filesystem::path& root, const std::string& split_dir,
                                const SegmentationFolderOptions& options,
                                const std::string& dataset_name, std::int64_t num_classes) {
  std::error_code ec;
  if (split_dir == "val" && !std::filesystem::exists(root / "val", ec)) {
    return TensorDataset{};  // no val/: test is evaluated every epoch
  }
  const auto classes = image_folder_classes(root);
  const auto examples = list_examples(root, split_dir, classes);
  std::vector<std::int64_t> label_values;
  label_values.reserve(examples.size());
  for (const auto& e : examples) label_values.push_back(e.label);
  auto targets = torch::tensor(label_values, torch::kLong);
  // Checked on the file listing, before any image is decoded.
  if (num_classes > 0 && static_cast<std::int64_t>(classes.size()) > num_classes) {
    check_labels(targets, num_classes, (root / split_dir).string(),
                 cat("a label is the index of its class folder, and ", (root / "train").string(),
                     " holds ", classes.size(), " class folders (label ", num_classes, " is '",
                     classes[static_cast<std::size_t>(num_classes)],
                     "'): set model.num_classes to ", classes.size()));
  }
  auto inputs = read_images(examples, options.image_size);
  const auto dir = root / split_dir;
  inputs.sub_(per_channel(options.mean, inputs.size(1), "mean", dir))
      .div_(per_channel(options.std, inputs.size(1), "std", dir));
  return TensorDataset{inputs, targets, dataset_name};
}

}  // namespace dpsgd::data
