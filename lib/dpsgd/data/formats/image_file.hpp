#pragma once
// Reads one image file into a tensor. PNG files always go through the
// project's own PNG reader (zlib only), so a PNG data set gives the same tensors
// in every build, with or without OpenCV (the lent GPU machine has none), and
// OpenCV's conversions (sub-8-bit gray rescaled to 0-255, gray+alpha widened to
// 4 channels, palette transparency) never differ between machines. Other formats
// (TIFF, JPEG, BMP, ...) need a build with OpenCV. Values are returned unscaled
// (0-255 or 0-65535), so a mask's labels are exactly the stored integers.
#include <filesystem>

#include <torch/torch.h>

namespace dpsgd::data {

/// The image as an int32 tensor C x H x W: C = 1 for grayscale, 3 for colour
/// (RGB order), 4 with alpha. Throws util::UserError naming the file when it is
/// missing or cannot be decoded.
torch::Tensor read_image_file(const std::filesystem::path& path);

}  // namespace dpsgd::data
