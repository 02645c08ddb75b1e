#pragma once
// Reads one image file into a tensor, with OpenCV when the build has it (any
// format OpenCV reads) and with the project's own PNG reader otherwise, so that
// PNG data sets load identically on machines built without OpenCV (the lent GPU
// machine has no OpenCV). Values are returned unscaled (0-255 or 0-65535), so a
// mask's labels are exactly the stored integers.
#include <filesystem>

#include <torch/torch.h>

namespace dpsgd::data {

/// The image as an int32 tensor C x H x W: C = 1 for grayscale, 3 for colour
/// (RGB order), 4 with alpha. Throws util::UserError naming the file when it is
/// missing or cannot be decoded.
torch::Tensor read_image_file(const std::filesystem::path& path);

}  // namespace dpsgd::data
