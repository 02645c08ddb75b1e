#include "dpsgd/data/segmentation_folder.hpp"

#include <algorithm>

#include "dpsgd/data/formats/image_file.hpp"
#include "dpsgd/data/label_check.hpp"
#include "dpsgd/util/error.hpp"
#include "dpsgd/util/logging.hpp"

namespace dpsgd::data {
namespace {

using util::cat;
using util::UserError;

std::vector<std::filesystem::path> image_files(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    throw UserError(cat(dir.string(), ": folder not found (expected <root>/<split>/images with ",
                        "<root>/<split>/masks beside it)"));
  }
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const auto name = entry.path().filename().string();
    if (!name.empty() && name[0] == '.') continue;  // editor and OS droppings
    files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) throw UserError(cat(dir.string(), ": no image files"));
  return files;
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

}  // namespace

torch::Tensor map_labels(const torch::Tensor& labels,
                         const std::vector<std::pair<std::int64_t, std::int64_t>>& label_map) {
  auto out = labels.to(torch::kLong);
  if (label_map.empty() || out.numel() == 0) return out;
  std::int64_t top = out.max().item<std::int64_t>();
  for (const auto& [from, to] : label_map) top = std::max(top, from);
  // A lookup table indexed by source label: each pixel is mapped exactly once, so
  // swaps (a -> b, b -> a) and chains (a -> b, b -> c) mean what they say.
  auto table = torch::arange(top + 1, torch::kLong);
  for (const auto& [from, to] : label_map) table[from] = to;
  if (out.min().item<std::int64_t>() < 0) throw std::invalid_argument("negative label in a mask");
  return table.index({out});
}

TensorDataset load_segmentation_folder(const std::filesystem::path& root,
                                       const std::string& split_dir,
                                       const SegmentationFolderOptions& options,
                                       const std::string& dataset_name, std::int64_t num_classes) {
  const auto image_dir = root / split_dir / "images";
  const auto mask_dir = root / split_dir / "masks";
  const auto files = image_files(image_dir);
  const auto [out_h, out_w] = options.image_size;
  std::vector<torch::Tensor> images;
  std::vector<torch::Tensor> masks;
  std::int64_t channels = -1;
  for (const auto& file : files) {
    const auto mask_path = mask_dir / file.filename();
    std::error_code ec;
    if (!std::filesystem::is_regular_file(mask_path, ec)) {
      throw UserError(cat(file.string(), ": no mask ", mask_path.string()));
    }
    auto image = read_image_file(file);     // float C x H x W, 0-255
    auto mask = read_mask_file(mask_path);  // 1 x H x W expected
    if (mask.size(0) != 1) {
      throw UserError(
          cat(mask_path.string(), ": a mask must have one channel, this has ", mask.size(0)));
    }
    if (image.size(1) != mask.size(1) || image.size(2) != mask.size(2)) {
      throw UserError(cat(mask_path.string(), ": mask is ", mask.size(2), "x", mask.size(1),
                          " but its image is ", image.size(2), "x", image.size(1)));
    }
    if (channels < 0) channels = image.size(0);
    if (image.size(0) != channels) {
      throw UserError(
          cat(file.string(), ": has ", image.size(0), " channels, earlier images ", channels));
    }
    mask = map_labels(mask, options.label_map);
    check_labels(mask, num_classes, "mask " + mask_path.string(),
                 "set model.num_classes above it, or map it to a class with data.label_map "
                 "(e.g. {" +
                     std::to_string(mask.max().item<std::int64_t>()) + ": 0})");
    image = image.unsqueeze(0);
    mask = mask.unsqueeze(0).to(torch::kFloat32);
    if (out_h > 0 && out_w > 0 && (image.size(2) != out_h || image.size(3) != out_w)) {
      // ATen's ops directly: the functional interpolate() warns on every call
      // about align_corners defaults that do not apply to these modes.
      const std::vector<std::int64_t> size{out_h, out_w};
      image = at::_upsample_bilinear2d_aa(image, size, /*align_corners=*/false);
      // Nearest neighbour (pixel-centre convention): every output label is a
      // source label, never a blend of two classes.
      mask = at::_upsample_nearest_exact2d(mask, size);
    }
    if (!images.empty() &&
        (image.size(2) != images.front().size(2) || image.size(3) != images.front().size(3))) {
      throw UserError(cat(file.string(), ": is ", image.size(3), "x", image.size(2),
                          ", earlier images ", images.front().size(3), "x", images.front().size(2),
                          "; set data.image_size to resize them all"));
    }
    images.push_back(image);
    masks.push_back(mask.round().to(torch::kLong).squeeze(1));
  }
  auto inputs = torch::cat(images, 0);
  const auto mean = per_channel(options.mean, channels, "mean", image_dir);
  const auto std = per_channel(options.std, channels, "std", image_dir);
  inputs = (inputs - mean) / std;
  auto targets = torch::cat(masks, 0);
  return TensorDataset{inputs.contiguous(), targets.contiguous(), dataset_name};
}

}  // namespace dpsgd::data
