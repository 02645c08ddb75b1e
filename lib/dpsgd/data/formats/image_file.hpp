#pragma once
// Reads one image file into a tensor. PNG files always go through the
// project's own PNG reader (zlib only), so a PNG data set gives the same tensors
// in every build, with or without OpenCV (the lent GPU machine has none), and
// OpenCV's conversions (sub-8-bit gray rescaled to 0-255, gray+alpha widened to
// 4 channels, palette transparency) never differ between machines. Other formats
// (TIFF, JPEG, BMP, ...) need a build with OpenCV.
//
// Images and masks are read differently, because their values mean different
// things:
//   - an image's values are intensities: every bit depth is brought to the
//     8-bit range 0-255 (16-bit: value / 257, so 65535 -> 255; 1/2/4-bit gray:
//     value * 255 / (2^depth - 1)), so a data set mixing depths gets one scale
//     and data.mean/std are always in 0-255 units; palette images give their
//     colours (RGB);
//   - a mask's values are class labels: they are returned exactly as stored
//     (any depth), and a palette mask gives its palette indices, which is how
//     label masks saved with a palette (e.g. PASCAL VOC) store classes.
#include <filesystem>

#include <torch/torch.h>

namespace dpsgd::data {

/// The image as a float32 tensor C x H x W in 8-bit units (0-255, see above):
/// C = 1 for grayscale, 2 gray+alpha, 3 colour (RGB order, also for palette
/// images), 4 with alpha. Throws util::UserError naming the file when it is
/// missing or cannot be decoded.
torch::Tensor read_image_file(const std::filesystem::path& path);

/// The mask as an int32 tensor C x H x W of the stored integers (palette
/// images: their indices). Throws util::UserError as read_image_file.
torch::Tensor read_mask_file(const std::filesystem::path& path);

}  // namespace dpsgd::data
