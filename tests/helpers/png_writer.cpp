#include "tests/helpers/png_writer.hpp"

#include <algorithm>
#include <fstream>

#include <catch2/catch.hpp>

#include <zlib.h>

namespace dpsgd::test {

void put_be32(Bytes& out, std::uint32_t value) {
  out.push_back(static_cast<std::uint8_t>(value >> 24));
  out.push_back(static_cast<std::uint8_t>(value >> 16));
  out.push_back(static_cast<std::uint8_t>(value >> 8));
  out.push_back(static_cast<std::uint8_t>(value));
}

void put_chunk(Bytes& out, const std::string& type, const Bytes& data) {
  put_be32(out, static_cast<std::uint32_t>(data.size()));
  Bytes typed(type.begin(), type.end());
  typed.insert(typed.end(), data.begin(), data.end());
  out.insert(out.end(), typed.begin(), typed.end());
  put_be32(out, static_cast<std::uint32_t>(crc32(0L, typed.data(), typed.size())));
}

Bytes zlib_compress(const Bytes& raw) {
  uLongf size = compressBound(raw.size());
  Bytes out(size);
  REQUIRE(compress(out.data(), &size, raw.data(), raw.size()) == Z_OK);
  out.resize(size);
  return out;
}

Bytes ihdr(const PngSpec& spec) {
  Bytes data;
  put_be32(data, spec.width);
  put_be32(data, spec.height);
  data.push_back(static_cast<std::uint8_t>(spec.bit_depth));
  data.push_back(static_cast<std::uint8_t>(spec.color_type));
  data.push_back(0);  // compression
  data.push_back(0);  // filter method
  data.push_back(static_cast<std::uint8_t>(spec.interlace));
  return data;
}

Bytes make_png(const PngSpec& spec, const Bytes& scanlines) {
  Bytes out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  put_chunk(out, "IHDR", ihdr(spec));
  put_chunk(out, "tEXt", Bytes{'C', 'o', 'm', 'm', 'e', 'n', 't', 0, 'h', 'i'});  // ancillary
  if (!spec.palette.empty()) put_chunk(out, "PLTE", spec.palette);
  const Bytes compressed = zlib_compress(scanlines);
  const std::size_t part = (compressed.size() + spec.idat_chunks - 1) / spec.idat_chunks;
  for (std::size_t start = 0; start < compressed.size(); start += part) {
    const std::size_t end = std::min(compressed.size(), start + part);
    put_chunk(out, "IDAT", Bytes(compressed.begin() + start, compressed.begin() + end));
  }
  put_chunk(out, "IEND", {});
  return out;
}

Bytes unfiltered(const std::vector<Bytes>& rows) {
  Bytes out;
  for (const auto& row : rows) {
    out.push_back(0);
    out.insert(out.end(), row.begin(), row.end());
  }
  return out;
}

void write_bytes(const std::filesystem::path& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

}  // namespace dpsgd::test
