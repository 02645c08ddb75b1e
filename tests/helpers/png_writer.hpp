#pragma once
// Building small PNG files in tests, chunk by chunk (zlib compress for the image
// data, crc32 for the CRCs), so the pixels of every test image are known
// exactly and every pixel format can be made without an image library.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace dpsgd::test {

using Bytes = std::vector<std::uint8_t>;

void put_be32(Bytes& out, std::uint32_t value);

/// Appends one chunk: length, type, data, CRC over type and data.
void put_chunk(Bytes& out, const std::string& type, const Bytes& data);

Bytes zlib_compress(const Bytes& raw);

struct PngSpec {
  std::uint32_t width = 0, height = 0;
  int bit_depth = 8;
  int color_type = 0;
  int interlace = 0;
  Bytes palette;        // PLTE data, written when not empty
  int idat_chunks = 1;  // the compressed stream is split over this many IDATs
};

/// The IHDR chunk's data for `spec`.
Bytes ihdr(const PngSpec& spec);

/// A whole PNG file around `scanlines` (filter bytes included, not compressed).
Bytes make_png(const PngSpec& spec, const Bytes& scanlines);

/// Prepends filter byte 0 (None) to each row.
Bytes unfiltered(const std::vector<Bytes>& rows);

/// Writes `bytes` to `path` (a test failure when it cannot).
void write_bytes(const std::filesystem::path& path, const Bytes& bytes);

}  // namespace dpsgd::test
