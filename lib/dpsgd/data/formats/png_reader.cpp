#include "dpsgd/data/formats/png_reader.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "dpsgd/util/error.hpp"
#include "dpsgd/util/logging.hpp"
#include <zlib.h>

namespace dpsgd::data {
namespace {

using util::cat;
using util::UserError;

constexpr std::array<std::uint8_t, 8> kSignature = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
// The PNG spec caps chunk lengths and image dimensions at 2^31 - 1.
constexpr std::uint32_t kMaxPngInt = 0x7FFFFFFFu;
// No image of any data set this program trains on is near this many samples
// (256 Mi, i.e. 512 MiB as uint16); a larger header is corrupt or hostile.
constexpr std::uint64_t kMaxSamples = std::uint64_t{1} << 28;

std::uint32_t read_be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

// The chunk type as text for messages; bytes that are not letters are shown
// as \xNN so a corrupt type cannot garble the message.
std::string chunk_name(const std::uint8_t* type) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  for (int i = 0; i < 4; ++i) {
    const std::uint8_t c = type[i];
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) {
      out += static_cast<char>(c);
    } else {
      out += std::string("\\x") + digits[c >> 4] + digits[c & 0xF];
    }
  }
  return out;
}

bool is_type(const std::uint8_t* type, const char* name) { return std::memcmp(type, name, 4) == 0; }

// Everything IHDR says, plus the derived channel count of the stored pixels.
struct Header {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  int bit_depth = 0;
  int color_type = 0;
  int channels = 0;  // per stored pixel: a palette index counts as 1
};

// Bit depths the spec allows for each colour type; anything else is an error.
bool valid_depth(int color_type, int bit_depth) {
  switch (color_type) {
    case 0:
      return bit_depth == 1 || bit_depth == 2 || bit_depth == 4 || bit_depth == 8 ||
             bit_depth == 16;
    case 3:
      return bit_depth == 1 || bit_depth == 2 || bit_depth == 4 || bit_depth == 8;
    case 2:
    case 4:
    case 6:
      return bit_depth == 8 || bit_depth == 16;
    default:
      return false;
  }
}

int channels_of(int color_type) {
  switch (color_type) {
    case 0:
      return 1;
    case 2:
      return 3;
    case 3:
      return 1;
    case 4:
      return 2;
    default:
      return 4;  // 6, RGBA
  }
}

class Decoder {
 public:
  Decoder(const std::uint8_t* data, std::size_t size, const std::string& name,
          PaletteOutput palette_output)
      : data_(data), size_(size), name_(name), palette_output_(palette_output) {}

  DecodedImage decode() {
    if (data_ == nullptr || size_ == 0) fail("it is empty");
    const std::size_t head = std::min(size_, kSignature.size());
    if (!std::equal(data_, data_ + head, kSignature.begin())) {
      fail("it does not start with the PNG signature (not a PNG file)");
    }
    if (size_ < kSignature.size()) fail("it is truncated inside the 8-byte PNG signature");
    walk_chunks();
    const std::vector<std::uint8_t> raw = inflate_idat();
    const std::vector<std::uint8_t> pixels = unfilter(raw);
    return unpack(pixels);
  }

 private:
  [[noreturn]] void fail(const std::string& reason) const {
    throw UserError(cat("cannot read PNG file ", name_, ": ", reason));
  }

  // Bytes of one scanline without its filter byte.
  std::uint64_t row_bytes() const {
    const std::uint64_t bits = std::uint64_t{header_.width} *
                               static_cast<std::uint64_t>(header_.channels) *
                               static_cast<std::uint64_t>(header_.bit_depth);
    return (bits + 7) / 8;
  }

  void walk_chunks() {
    std::size_t pos = kSignature.size();
    bool seen_header = false;
    bool seen_idat = false;
    while (true) {
      if (size_ - pos < 12) {
        fail(pos == size_ ? "it ends without an IEND chunk (the file is truncated)"
                          : cat("it is truncated inside a chunk header at byte ", pos));
      }
      const std::uint32_t length = read_be32(data_ + pos);
      const std::uint8_t* type = data_ + pos + 4;
      const std::string name = chunk_name(type);
      for (int i = 0; i < 4; ++i) {
        const std::uint8_t c = type[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) {
          fail(cat("the chunk at byte ", pos, " has an invalid type ", name, " (corrupt data)"));
        }
      }
      if (length > kMaxPngInt) {
        fail(cat("chunk ", name, " at byte ", pos, " declares an invalid length ", length));
      }
      if (size_ - pos - 12 < length) {
        fail(cat("it is truncated inside chunk ", name, " at byte ", pos, " (", length,
                 " data bytes declared, ", size_ - pos - 12, " left before its CRC)"));
      }
      const std::uint8_t* body = type + 4;
      // The CRC covers the type and the data, not the length.
      const std::uint32_t stored_crc = read_be32(body + length);
      const auto computed_crc =
          static_cast<std::uint32_t>(crc32(crc32(0L, Z_NULL, 0), type, length + 4));
      if (stored_crc != computed_crc) {
        fail(cat("chunk ", name, " at byte ", pos, " has a bad CRC (the file is corrupt)"));
      }
      pos += 12 + static_cast<std::size_t>(length);

      if (!seen_header && !is_type(type, "IHDR")) {
        fail(cat("the first chunk is ", name, ", not IHDR"));
      }
      if (is_type(type, "IHDR")) {
        if (seen_header) fail("it has more than one IHDR chunk");
        parse_header(body, length);
        seen_header = true;
      } else if (is_type(type, "PLTE")) {
        if (seen_idat) fail("its PLTE chunk comes after the image data");
        parse_palette(body, length);
      } else if (is_type(type, "IDAT")) {
        if (header_.color_type == 3 && palette_.empty()) {
          fail("it is a palette image but has no PLTE chunk before its image data");
        }
        compressed_.insert(compressed_.end(), body, body + length);
        seen_idat = true;
      } else if (is_type(type, "IEND")) {
        break;  // anything after IEND is not part of the image
      } else if ((type[0] & 0x20) == 0) {
        // Bit 5 of the first byte clear (upper case) marks a critical chunk:
        // the image cannot be decoded correctly without understanding it.
        fail(cat("it has an unknown critical chunk ", name));
      }
      // Other ancillary chunks (gAMA, pHYs, tEXt, tRNS, ...) are skipped.
    }
    if (!seen_idat) fail("it has no IDAT (image data) chunk");
  }

  void parse_header(const std::uint8_t* body, std::uint32_t length) {
    if (length != 13) fail(cat("its IHDR chunk is ", length, " bytes long, expected 13"));
    header_.width = read_be32(body);
    header_.height = read_be32(body + 4);
    header_.bit_depth = body[8];
    header_.color_type = body[9];
    const int compression = body[10];
    const int filter = body[11];
    const int interlace = body[12];
    if (header_.width == 0 || header_.height == 0) {
      fail(cat("its size is ", header_.width, "x", header_.height, " (zero width or height)"));
    }
    if (header_.width > kMaxPngInt || header_.height > kMaxPngInt) {
      fail(cat("its size ", header_.width, "x", header_.height, " exceeds the PNG limit of ",
               kMaxPngInt));
    }
    if (header_.color_type > 6 || header_.color_type == 1 || header_.color_type == 5) {
      fail(cat("it has an invalid colour type ", header_.color_type));
    }
    if (!valid_depth(header_.color_type, header_.bit_depth)) {
      fail(
          cat("bit depth ", header_.bit_depth, " is invalid for colour type ", header_.color_type));
    }
    if (compression != 0) fail(cat("it has an unknown compression method ", compression));
    if (filter != 0) fail(cat("it has an unknown filter method ", filter));
    if (interlace == 1) fail("Adam7-interlaced PNG not supported, re-save without interlacing");
    if (interlace != 0) fail(cat("it has an unknown interlace method ", interlace));
    header_.channels = channels_of(header_.color_type);

    const auto out_channels =
        static_cast<std::uint64_t>(header_.color_type == 3 ? 3 : header_.channels);
    // width and height are below 2^31 each, so this product fits in 64 bits.
    const std::uint64_t samples =
        std::uint64_t{header_.width} * std::uint64_t{header_.height} * out_channels;
    if (samples > kMaxSamples) {
      fail(cat("its size ", header_.width, "x", header_.height, "x", out_channels, " = ", samples,
               " samples is beyond the supported maximum of ", kMaxSamples));
    }
  }

  void parse_palette(const std::uint8_t* body, std::uint32_t length) {
    if (!palette_.empty()) fail("it has more than one PLTE chunk");
    if (length == 0 || length % 3 != 0 || length / 3 > 256) {
      fail(cat("its PLTE chunk is ", length, " bytes long (must be 3 to 768, a multiple of 3)"));
    }
    // PLTE is optional in RGB images (a suggested palette) and not allowed in
    // gray ones; either way the pixels do not use it, so it is only kept for
    // palette images.
    if (header_.color_type == 3) palette_.assign(body, body + length);
  }

  std::vector<std::uint8_t> inflate_idat() const {
    const std::uint64_t expected = std::uint64_t{header_.height} * (1 + row_bytes());
    // One spare byte: a stream that fills it inflates to more than the header
    // allows, which uncompress would otherwise report only as a full buffer.
    std::vector<std::uint8_t> raw(static_cast<std::size_t>(expected) + 1);
    uLongf raw_size = static_cast<uLongf>(raw.size());
    const int status = uncompress(raw.data(), &raw_size, compressed_.data(),
                                  static_cast<uLong>(compressed_.size()));
    if (status == Z_BUF_ERROR && raw_size == raw.size()) {
      fail(cat("its image data inflates to more than the ", expected, " bytes that a ",
               header_.width, "x", header_.height, " image needs"));
    }
    if (status != Z_OK) {
      fail(cat("its image data does not inflate (zlib: ",
               status == Z_DATA_ERROR  ? "corrupt or truncated stream"
               : status == Z_MEM_ERROR ? "out of memory"
                                       : zError(status),
               ")"));
    }
    if (raw_size != expected) {
      fail(cat("its image data inflates to ", raw_size, " bytes; a ", header_.width, "x",
               header_.height, " image needs ", expected));
    }
    raw.resize(static_cast<std::size_t>(expected));
    return raw;
  }

  // Undoes the per-row filters; returns the rows without their filter bytes.
  std::vector<std::uint8_t> unfilter(const std::vector<std::uint8_t>& raw) const {
    const auto stride = static_cast<std::size_t>(row_bytes());
    // Filters work on bytes, looking back one whole pixel (one byte when a
    // pixel is smaller than a byte).
    const std::size_t bpp = std::max<std::size_t>(
        1, static_cast<std::size_t>(header_.channels * header_.bit_depth) / 8);
    std::vector<std::uint8_t> out(stride * header_.height);
    const std::vector<std::uint8_t> zero_row(stride, 0);
    for (std::size_t y = 0; y < header_.height; ++y) {
      const std::uint8_t filter = raw[y * (stride + 1)];
      const std::uint8_t* in = raw.data() + y * (stride + 1) + 1;
      std::uint8_t* row = out.data() + y * stride;
      const std::uint8_t* up = y == 0 ? zero_row.data() : row - stride;
      switch (filter) {
        case 0:  // None
          std::copy(in, in + stride, row);
          break;
        case 1:  // Sub
          for (std::size_t i = 0; i < stride; ++i) {
            row[i] = static_cast<std::uint8_t>(in[i] + (i >= bpp ? row[i - bpp] : 0));
          }
          break;
        case 2:  // Up
          for (std::size_t i = 0; i < stride; ++i) {
            row[i] = static_cast<std::uint8_t>(in[i] + up[i]);
          }
          break;
        case 3:  // Average
          for (std::size_t i = 0; i < stride; ++i) {
            const unsigned left = i >= bpp ? row[i - bpp] : 0;
            row[i] = static_cast<std::uint8_t>(in[i] + ((left + up[i]) >> 1));
          }
          break;
        case 4:  // Paeth
          for (std::size_t i = 0; i < stride; ++i) {
            const int a = i >= bpp ? row[i - bpp] : 0;
            const int b = up[i];
            const int c = i >= bpp ? up[i - bpp] : 0;
            const int p = a + b - c;
            const int pa = std::abs(p - a);
            const int pb = std::abs(p - b);
            const int pc = std::abs(p - c);
            const int predictor = (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c);
            row[i] = static_cast<std::uint8_t>(in[i] + predictor);
          }
          break;
        default:
          fail(cat("row ", y, " has an invalid filter type ", static_cast<int>(filter),
                   " (valid: 0 to 4; the file is corrupt)"));
      }
    }
    return out;
  }

  DecodedImage unpack(const std::vector<std::uint8_t>& pixels) const {
    const auto stride = static_cast<std::size_t>(row_bytes());
    const std::size_t width = header_.width;
    const std::size_t height = header_.height;
    const std::size_t channels = static_cast<std::size_t>(header_.channels);
    const int depth = header_.bit_depth;
    const bool palette = header_.color_type == 3;
    const bool colours = palette && palette_output_ == PaletteOutput::kColours;

    DecodedImage image;
    image.width = header_.width;
    image.height = header_.height;
    image.channels = colours ? 3 : header_.channels;
    image.bit_depth = depth == 16 ? 16 : 8;
    image.stored_bit_depth = depth;
    image.palette = palette;
    image.samples.resize(width * height * static_cast<std::size_t>(image.channels));
    std::uint16_t* out = image.samples.data();
    const std::size_t palette_entries = palette_.size() / 3;

    for (std::size_t y = 0; y < height; ++y) {
      const std::uint8_t* row = pixels.data() + y * stride;
      if (depth == 16) {
        for (std::size_t i = 0; i < width * channels; ++i) {
          *out++ = static_cast<std::uint16_t>((row[2 * i] << 8) | row[2 * i + 1]);
        }
        continue;
      }
      for (std::size_t x = 0; x < width; ++x) {
        for (std::size_t c = 0; c < channels; ++c) {
          const std::size_t index = x * channels + c;  // sample index within the row
          unsigned value;
          if (depth == 8) {
            value = row[index];
          } else {
            // Sub-byte samples are packed from the most significant bit.
            const std::size_t bit = index * static_cast<std::size_t>(depth);
            const unsigned shift = 8 - static_cast<unsigned>(depth) - (bit % 8);
            value = (row[bit / 8] >> shift) & ((1u << depth) - 1);
          }
          if (palette) {
            if (value >= palette_entries) {
              fail(cat("pixel (", x, ", ", y, ") uses palette index ", value, " but PLTE has only ",
                       palette_entries, " entries"));
            }
          }
          if (colours) {
            for (unsigned k = 0; k < 3; ++k) *out++ = palette_[value * 3 + k];
          } else {
            *out++ = static_cast<std::uint16_t>(value);
          }
        }
      }
    }
    return image;
  }

  const std::uint8_t* data_;
  std::size_t size_;
  const std::string& name_;
  PaletteOutput palette_output_;
  Header header_;
  std::vector<std::uint8_t> palette_;
  std::vector<std::uint8_t> compressed_;
};

}  // namespace

DecodedImage decode_png(const std::uint8_t* data, std::size_t size,
                        const std::string& name_for_errors, PaletteOutput palette) {
  return Decoder(data, size, name_for_errors, palette).decode();
}

DecodedImage read_png(const std::filesystem::path& path, PaletteOutput palette) {
  const std::string where = path.string();
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw UserError(cat("cannot read PNG file ", where, ": it is a directory"));
  }
  errno = 0;
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    throw UserError(cat("cannot open PNG file ", where, ": ",
                        errno != 0 ? std::strerror(errno) : "unknown error"));
  }
  file.seekg(0, std::ios::end);
  const std::streamoff length = file.tellg();
  file.seekg(0, std::ios::beg);
  if (!file || length < 0) throw UserError(cat("cannot read PNG file ", where, ": cannot seek"));
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(length));
  file.read(reinterpret_cast<char*>(bytes.data()), length);
  if (file.gcount() != length) {
    throw UserError(cat("cannot read PNG file ", where, ": read error after ", file.gcount(),
                        " of ", length, " bytes"));
  }
  return decode_png(bytes.data(), bytes.size(), where, palette);
}

}  // namespace dpsgd::data
