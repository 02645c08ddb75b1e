#include "dpsgd/data/formats/idx_reader.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "dpsgd/util/error.hpp"
#include "dpsgd/util/logging.hpp"
#include <zlib.h>

namespace dpsgd::data {
namespace {

using util::cat;
using util::UserError;

constexpr unsigned char kTypeUnsignedByte = 0x08;
// A generous bound: real IDX files have 1 (labels) to 4 dimensions. A larger
// count means the header is not an IDX header at all.
constexpr int kMaxDims = 16;

struct GzCloser {
  void operator()(gzFile_s* file) const { gzclose(file); }
};
using GzHandle = std::unique_ptr<gzFile_s, GzCloser>;

const char* type_name(unsigned char code) {
  switch (code) {
    case 0x08:
      return "unsigned byte";
    case 0x09:
      return "signed byte";
    case 0x0B:
      return "int16";
    case 0x0C:
      return "int32";
    case 0x0D:
      return "float32";
    case 0x0E:
      return "float64";
    default:
      return nullptr;
  }
}

std::string hex(unsigned value) {
  static const char* digits = "0123456789ABCDEF";
  return std::string("0x") + digits[(value >> 4) & 0xF] + digits[value & 0xF];
}

// Reads up to `length` bytes, looping because gzread takes an unsigned count
// and returns an int; returns how many bytes were read (fewer only at the end
// of the data). A zlib error (e.g. a gzip stream cut short) throws.
std::int64_t read_bytes(gzFile file, void* buffer, std::int64_t length,
                        const std::filesystem::path& path) {
  auto* out = static_cast<unsigned char*>(buffer);
  std::int64_t total = 0;
  constexpr std::int64_t kChunk = 1 << 30;  // well under INT_MAX
  while (total < length) {
    const auto want = static_cast<unsigned>(std::min(kChunk, length - total));
    const int got = gzread(file, out + total, want);
    if (got < 0) {
      int code = Z_OK;
      const char* message = gzerror(file, &code);
      throw UserError(cat("cannot read IDX file ", path.string(), ": ",
                          code == Z_ERRNO ? std::strerror(errno) : message,
                          " (the file is corrupt or truncated)"));
    }
    if (got == 0) break;
    total += got;
  }
  return total;
}

}  // namespace

torch::Tensor read_idx(const std::filesystem::path& path) {
  const std::string where = path.string();
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw UserError(cat("cannot read IDX file ", where, ": it is a directory"));
  }
  errno = 0;
  GzHandle file(gzopen(path.c_str(), "rb"));
  if (!file) {
    throw UserError(cat("cannot open IDX file ", where, ": ",
                        errno != 0 ? std::strerror(errno) : "zlib could not open it"));
  }
  gzbuffer(file.get(), 1 << 17);

  std::array<unsigned char, 4> magic{};
  if (read_bytes(file.get(), magic.data(), 4, path) != 4) {
    throw UserError(cat("IDX file ", where, " is too short to hold the 4-byte IDX header"));
  }
  if (magic[0] != 0 || magic[1] != 0) {
    throw UserError(cat("IDX file ", where, " has a bad magic number (first bytes ", hex(magic[0]),
                        " ", hex(magic[1]), ", expected 0x00 0x00): not an IDX file"));
  }
  if (magic[2] != kTypeUnsignedByte) {
    const char* known = type_name(magic[2]);
    if (known == nullptr) {
      throw UserError(
          cat("IDX file ", where, " has a bad magic number: unknown type code ", hex(magic[2])));
    }
    throw UserError(cat("IDX file ", where, " holds ", known, " elements (type code ",
                        hex(magic[2]), "); only unsigned byte (0x08) is supported"));
  }
  const int num_dims = magic[3];
  if (num_dims == 0 || num_dims > kMaxDims) {
    throw UserError(
        cat("IDX file ", where, " declares ", num_dims, " dimensions; expected 1 to ", kMaxDims));
  }

  std::vector<unsigned char> dim_bytes(static_cast<std::size_t>(num_dims) * 4);
  if (read_bytes(file.get(), dim_bytes.data(), num_dims * 4, path) != num_dims * 4) {
    throw UserError(cat("IDX file ", where, " is truncated inside its header (", num_dims,
                        " dimension sizes declared)"));
  }
  std::vector<std::int64_t> shape;
  std::int64_t num_elements = 1;
  for (int d = 0; d < num_dims; ++d) {
    const unsigned char* b = &dim_bytes[static_cast<std::size_t>(d) * 4];
    // Sizes are big-endian, independent of the host's byte order.
    const std::uint32_t size = (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) |
                               (std::uint32_t{b[2]} << 8) | std::uint32_t{b[3]};
    // Overflow guard: a corrupt header could declare sizes whose product does
    // not fit in 64 bits; no real file is anywhere near that.
    if (size != 0 && num_elements > std::numeric_limits<std::int64_t>::max() / size) {
      throw UserError(cat("IDX file ", where, " declares dimensions whose product overflows"));
    }
    num_elements *= size;
    shape.push_back(size);
  }

  auto tensor = torch::empty(shape, torch::TensorOptions().dtype(torch::kUInt8));
  const std::int64_t got =
      read_bytes(file.get(), tensor.data_ptr<std::uint8_t>(), num_elements, path);
  if (got != num_elements) {
    throw UserError(cat("IDX file ", where, " is truncated: its dims declare ", num_elements,
                        " data bytes but only ", got, " follow the header"));
  }
  // Trailing bytes mean the dims do not describe the file: wrong file, or a
  // header that was edited; either way the data cannot be trusted.
  unsigned char extra = 0;
  if (read_bytes(file.get(), &extra, 1, path) != 0) {
    throw UserError(cat("IDX file ", where, " is longer than its dims declare (", num_elements,
                        " data bytes expected, more follow)"));
  }
  return tensor;
}

}  // namespace dpsgd::data
