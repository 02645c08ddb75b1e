#pragma once
// Image-folder segmentation data sets, e.g. the Duke DME OCT B-scans
// (datasets/duke-oct):
//   <root>/<split>/images/<name>.png   the image (any size; 8- or 16-bit)
//   <root>/<split>/masks/<name>.png    per-pixel integer labels, same name and size
// with split one of train, val, test. Images of any bit depth are brought to
// 0-255 and palette images to their colours; masks keep their stored integers
// (palette masks: their indices), see formats/image_file.hpp. Each mask's labels
// are remapped with a lookup table (e.g. the OCT study's 0 and 8 -> background
// 0, fluid 9 -> 8) and checked against the classes as stored, before any resize
// (which could drop a small region's pixels). Every example is then resized to
// one size (images: bilinear with antialiasing; masks: nearest neighbour only,
// so no label appears that was not in the source) and normalised with the
// configured per-channel mean and std (in 0-255 units).
//
// Privacy note: each example (one image with its mask) is one record of the
// add/remove-one neighbouring relation; the resize, normalisation and mapping
// are fixed functions of that example alone, so they cost no privacy.
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "dpsgd/data/tensor_dataset.hpp"

namespace dpsgd::data {

struct SegmentationFolderOptions {
  /// Output size (height, width); {0, 0} keeps the files' size (which must then agree).
  std::array<std::int64_t, 2> image_size{224, 224};
  /// Per-channel mean and std in the file's units; one value applies to every channel.
  std::vector<double> mean{0.0};
  std::vector<double> std{1.0};
  /// (source label, class) pairs; labels not listed keep their value.
  std::vector<std::pair<std::int64_t, std::int64_t>> label_map;
};

/// Loads `<root>/<split_dir>`: inputs float32 N x C x H x W, targets int64 N x H x W.
/// Files are taken in name order, so a data set is a function of its folder alone.
/// Throws util::UserError naming the path for a missing folder, an image without
/// its mask, sizes that differ, images whose channel counts differ, or
/// (num_classes > 0) a mapped mask label outside [0, num_classes).
TensorDataset load_segmentation_folder(const std::filesystem::path& root,
                                       const std::string& split_dir,
                                       const SegmentationFolderOptions& options,
                                       const std::string& dataset_name,
                                       std::int64_t num_classes = 0);

/// The label lookup: applies `label_map` to `labels` (any integer tensor), leaving
/// unlisted labels unchanged. Exposed for tests.
torch::Tensor map_labels(const torch::Tensor& labels,
                         const std::vector<std::pair<std::int64_t, std::int64_t>>& label_map);

}  // namespace dpsgd::data
