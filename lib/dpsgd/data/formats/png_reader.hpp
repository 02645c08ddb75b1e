#pragma once
// A small PNG decoder that needs only zlib. The OCT segmentation set (Duke DME,
// datasets/duke-oct) is stored as 8-bit grayscale PNGs, and some machines that
// run dpsgd are built without OpenCV (e.g. the GPU build machine), so the image
// data set must be readable without it. This decoder covers what lossless
// image data sets use in practice:
//   colour types 0 (gray, 1/2/4/8/16 bits), 2 (RGB 8/16), 3 (palette: expanded
//   to RGB 8-bit through PLTE, or kept as the indices; tRNS is ignored),
//   4 (gray+alpha 8/16) and 6 (RGBA 8/16); non-interlaced only.
// Every chunk's CRC is checked, the inflated size must match the header
// exactly, and any damage throws util::UserError naming the file, because a
// silently half-decoded image would train on garbage.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace dpsgd::data {

/// Pixels of a decoded PNG, as stored in the file (no gamma, no rescaling).
struct DecodedImage {
  // channels: 1 (gray), 2 (gray+alpha), 3 (RGB, also for palette images), 4 (RGBA)
  std::int64_t width = 0, height = 0, channels = 0;
  int bit_depth = 8;                   // 8 or 16 (sample values as read, not rescaled)
  int stored_bit_depth = 8;            // the file's depth: 1, 2, 4, 8 or 16
  bool palette = false;                // colour type 3 (colours or indices, as asked)
  std::vector<std::uint16_t> samples;  // row-major, height*width*channels, interleaved
};

/// What a palette image decodes to: its colours (an image) or its indices (a
/// label mask saved with a palette stores each class as an index; its colours
/// are only a display aid).
enum class PaletteOutput { kColours, kIndices };

/// Reads and decodes the PNG file at `path`. Sub-8-bit grayscale is returned
/// with bit_depth 8 and its values unchanged (a 1-bit image holds 0 and 1);
/// palette images come back as 8-bit RGB (or, with PaletteOutput::kIndices,
/// as one channel of 8-bit indices). Any problem (missing file, not a
/// PNG, damaged or truncated data, an unsupported variant) throws
/// util::UserError naming the file and the reason.
DecodedImage read_png(const std::filesystem::path& path,
                      PaletteOutput palette = PaletteOutput::kColours);

/// Decodes a PNG held in memory; `name_for_errors` is used in error messages
/// in place of a file name.
DecodedImage decode_png(const std::uint8_t* data, std::size_t size,
                        const std::string& name_for_errors,
                        PaletteOutput palette = PaletteOutput::kColours);

}  // namespace dpsgd::data
