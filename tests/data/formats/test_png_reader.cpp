// PNG decoding: small PNGs built here chunk by chunk (zlib compress for the
// image data, crc32 for the CRCs) with known pixels, one per filter type and
// per supported pixel format; damaged files must be rejected with the file's
// name; and the real OCT PNGs decode as the data set's README describes (and,
// when OpenCV is available, exactly as cv::imread reads them).
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "dpsgd/data/formats/png_reader.hpp"
#include "dpsgd/util/error.hpp"
#include "tests/helpers/png_writer.hpp"
#include "tests/helpers/skip.hpp"
#include <zlib.h>

#ifdef DPSGD_HAVE_OPENCV
#include <opencv2/imgcodecs.hpp>
#endif

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using dpsgd::data::decode_png;
using dpsgd::data::DecodedImage;
using dpsgd::data::read_png;
using dpsgd::test::Bytes;
using dpsgd::test::ihdr;
using dpsgd::test::make_png;
using dpsgd::test::PngSpec;
using dpsgd::test::put_be32;
using dpsgd::test::put_chunk;
using dpsgd::test::unfiltered;
using dpsgd::test::zlib_compress;
using dpsgd::util::UserError;

namespace {

constexpr const char* kName = "test.png";

DecodedImage decode(const Bytes& png) { return decode_png(png.data(), png.size(), kName); }

// The Paeth predictor exactly as the PNG spec words it.
int paeth(int a, int b, int c) {
  const int p = a + b - c;
  const int pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  if (pb <= pc) return b;
  return c;
}

// Filters one row with `type` (0-4) as an encoder would: each byte minus its
// predictor from the left byte a (one pixel back, `bpp` bytes), the byte above
// b and the byte above-left c, all taken from the unfiltered image. `above` is
// null for the first row. Returns the filter byte followed by the row.
Bytes filter_row(const Bytes* above, const Bytes& row, int type, std::size_t bpp) {
  Bytes out = {static_cast<std::uint8_t>(type)};
  for (std::size_t i = 0; i < row.size(); ++i) {
    const int a = i >= bpp ? row[i - bpp] : 0;
    const int b = above != nullptr ? (*above)[i] : 0;
    const int c = (above != nullptr && i >= bpp) ? (*above)[i - bpp] : 0;
    int predictor = 0;
    switch (type) {
      case 1:
        predictor = a;
        break;
      case 2:
        predictor = b;
        break;
      case 3:
        predictor = (a + b) / 2;
        break;
      case 4:
        predictor = paeth(a, b, c);
        break;
      default:
        break;
    }
    out.push_back(static_cast<std::uint8_t>(row[i] - predictor));
  }
  return out;
}

// Filters every row with the same type.
Bytes filter_rows(const std::vector<Bytes>& rows, int type, std::size_t bpp) {
  Bytes out;
  for (std::size_t y = 0; y < rows.size(); ++y) {
    const Bytes line = filter_row(y > 0 ? &rows[y - 1] : nullptr, rows[y], type, bpp);
    out.insert(out.end(), line.begin(), line.end());
  }
  return out;
}

std::vector<Bytes> random_rows(std::size_t height, std::size_t row_bytes, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> byte(0, 255);
  std::vector<Bytes> rows(height, Bytes(row_bytes));
  for (auto& row : rows) {
    for (auto& v : row) v = static_cast<std::uint8_t>(byte(gen));
  }
  return rows;
}

std::vector<std::uint16_t> flatten8(const std::vector<Bytes>& rows) {
  std::vector<std::uint16_t> out;
  for (const auto& row : rows) out.insert(out.end(), row.begin(), row.end());
  return out;
}

// An 8-bit RGB image (3 bytes per pixel, so Sub/Average/Paeth look 3 bytes
// back) with random pixels, filtered with `type`, must decode to those pixels.
void check_filter(int type) {
  const std::uint32_t width = 7, height = 5;
  const auto rows = random_rows(height, width * 3, 100 + type);
  PngSpec spec;
  spec.width = width;
  spec.height = height;
  spec.color_type = 2;
  const DecodedImage image = decode(make_png(spec, filter_rows(rows, type, 3)));
  CHECK(image.width == width);
  CHECK(image.height == height);
  CHECK(image.channels == 3);
  CHECK(image.bit_depth == 8);
  CHECK(image.samples == flatten8(rows));
}

// A valid 2x3 8-bit gray PNG used as the base for the corruption tests.
Bytes small_gray_png() {
  PngSpec spec;
  spec.width = 2;
  spec.height = 3;
  return make_png(spec, unfiltered({{1, 2}, {3, 4}, {5, 6}}));
}

fs::path duke_oct_root() {
#ifdef DPSGD_SOURCE_DIR
  const fs::path in_tree = fs::path(DPSGD_SOURCE_DIR "/datasets/duke-oct");
  std::error_code ec;
  if (fs::is_directory(in_tree / "train", ec)) return in_tree;
#endif
  return "/work/shared/datasets/duke-oct";
}

std::vector<fs::path> pngs_in(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".png") out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("png: filter type 0 (None)", "[png]") { check_filter(0); }
TEST_CASE("png: filter type 1 (Sub)", "[png]") { check_filter(1); }
TEST_CASE("png: filter type 2 (Up)", "[png]") { check_filter(2); }
TEST_CASE("png: filter type 3 (Average)", "[png]") { check_filter(3); }
TEST_CASE("png: filter type 4 (Paeth)", "[png]") { check_filter(4); }

TEST_CASE("png: Paeth ties are broken a, then b, then c", "[png]") {
  // Filtered by hand. Row 1, byte 1: a=10 b=25 c=20, p=15, pa=pc=5 < pb=10,
  // so the predictor is a (10): 4 is stored as 4-10 = 250. Row 2, byte 1:
  // a=13 b=4 c=10, p=7, pb=pc=3 < pa=6, so it is b (4): 9 is stored as 5.
  // Byte 0 of rows 1 and 2 predicts from b alone (a=c=0): 10-20 = 246, 13-10 = 3.
  const Bytes scanlines = {0, 20, 25, 4, 246, 250, 4, 3, 5};
  PngSpec spec;
  spec.width = 2;
  spec.height = 3;
  const DecodedImage image = decode(make_png(spec, scanlines));
  CHECK(image.samples == std::vector<std::uint16_t>{20, 25, 10, 4, 13, 9});
}

TEST_CASE("png: each row may use a different filter", "[png]") {
  const std::uint32_t width = 6, height = 10;
  const auto rows = random_rows(height, width, 7);
  Bytes scanlines;
  for (std::uint32_t y = 0; y < height; ++y) {
    const int type = static_cast<int>((y + 1) % 5);  // 1 2 3 4 0 1 ...: Sub, Up, ... on row 0 too
    const Bytes line = filter_row(y > 0 ? &rows[y - 1] : nullptr, rows[y], type, 1);
    scanlines.insert(scanlines.end(), line.begin(), line.end());
  }
  PngSpec spec;
  spec.width = width;
  spec.height = height;
  spec.idat_chunks = 3;  // and the image data is split over several IDATs
  const DecodedImage image = decode(make_png(spec, scanlines));
  CHECK(image.samples == flatten8(rows));
}

TEST_CASE("png: 8-bit grayscale", "[png]") {
  PngSpec spec;
  spec.width = 3;
  spec.height = 2;
  const DecodedImage image = decode(make_png(spec, unfiltered({{0, 128, 255}, {7, 8, 9}})));
  CHECK(image.width == 3);
  CHECK(image.height == 2);
  CHECK(image.channels == 1);
  CHECK(image.bit_depth == 8);
  CHECK(image.samples == std::vector<std::uint16_t>{0, 128, 255, 7, 8, 9});
}

TEST_CASE("png: 16-bit grayscale, big-endian samples, Paeth over 2-byte pixels", "[png]") {
  const std::vector<Bytes> rows = {{0x12, 0x34, 0xFF, 0xFE, 0x00, 0x01},
                                   {0xAB, 0xCD, 0x00, 0x00, 0x80, 0x00}};
  PngSpec spec;
  spec.width = 3;
  spec.height = 2;
  spec.bit_depth = 16;
  const DecodedImage image = decode(make_png(spec, filter_rows(rows, 4, 2)));
  CHECK(image.channels == 1);
  CHECK(image.bit_depth == 16);
  CHECK(image.samples ==
        std::vector<std::uint16_t>{0x1234, 0xFFFE, 0x0001, 0xABCD, 0x0000, 0x8000});
}

TEST_CASE("png: 8-bit RGB", "[png]") {
  PngSpec spec;
  spec.width = 2;
  spec.height = 2;
  spec.color_type = 2;
  const DecodedImage image =
      decode(make_png(spec, unfiltered({{255, 0, 0, 0, 255, 0}, {0, 0, 255, 10, 20, 30}})));
  CHECK(image.channels == 3);
  CHECK(image.bit_depth == 8);
  CHECK(image.samples == std::vector<std::uint16_t>{255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30});
}

TEST_CASE("png: 16-bit RGB", "[png]") {
  PngSpec spec;
  spec.width = 1;
  spec.height = 2;
  spec.color_type = 2;
  spec.bit_depth = 16;
  const std::vector<Bytes> rows = {{0x01, 0x02, 0x03, 0x04, 0x05, 0x06},
                                   {0xFF, 0xFF, 0x00, 0x00, 0x7F, 0x80}};
  const DecodedImage image = decode(make_png(spec, filter_rows(rows, 3, 6)));
  CHECK(image.channels == 3);
  CHECK(image.bit_depth == 16);
  CHECK(image.samples ==
        std::vector<std::uint16_t>{0x0102, 0x0304, 0x0506, 0xFFFF, 0x0000, 0x7F80});
}

TEST_CASE("png: 8-bit RGBA and 16-bit gray+alpha", "[png]") {
  PngSpec spec;
  spec.width = 2;
  spec.height = 2;
  spec.color_type = 6;
  const std::vector<Bytes> rgba = {{1, 2, 3, 4, 5, 6, 7, 8}, {9, 10, 11, 12, 250, 251, 252, 253}};
  DecodedImage image = decode(make_png(spec, filter_rows(rgba, 1, 4)));
  CHECK(image.channels == 4);
  CHECK(image.bit_depth == 8);
  CHECK(image.samples == flatten8(rgba));

  spec.color_type = 4;
  spec.bit_depth = 16;
  const std::vector<Bytes> gray_alpha = {{0, 1, 0, 2, 0, 3, 0, 4}, {1, 0, 2, 0, 3, 0, 4, 0}};
  image = decode(make_png(spec, filter_rows(gray_alpha, 2, 4)));
  CHECK(image.channels == 2);
  CHECK(image.bit_depth == 16);
  CHECK(image.samples == std::vector<std::uint16_t>{1, 2, 3, 4, 256, 512, 768, 1024});
}

TEST_CASE("png: palette images expand to RGB", "[png]") {
  PngSpec spec;
  spec.width = 3;
  spec.height = 2;
  spec.color_type = 3;
  spec.palette = {10, 20, 30, 40, 50, 60, 70, 80, 90};
  SECTION("8-bit indices") {
    const DecodedImage image = decode(make_png(spec, unfiltered({{0, 1, 2}, {2, 2, 0}})));
    CHECK(image.channels == 3);
    CHECK(image.bit_depth == 8);
    CHECK(image.samples == std::vector<std::uint16_t>{10, 20, 30, 40, 50, 60, 70, 80, 90, 70, 80,
                                                      90, 70, 80, 90, 10, 20, 30});
  }
  SECTION("2-bit indices, packed from the high bits") {
    spec.bit_depth = 2;
    // Row 0: indices 1, 2, 0 -> 01 10 00 00; row 1: 2, 1, 1 -> 10 01 01 00.
    const DecodedImage image = decode(make_png(spec, unfiltered({{0x60}, {0x94}})));
    CHECK(image.samples == std::vector<std::uint16_t>{40, 50, 60, 70, 80, 90, 10, 20, 30, 70, 80,
                                                      90, 40, 50, 60, 40, 50, 60});
  }
  SECTION("an index beyond the palette is an error") {
    REQUIRE_THROWS_WITH(decode(make_png(spec, unfiltered({{0, 1, 3}, {0, 0, 0}}))),
                        Contains(kName) && Contains("palette index 3"));
  }
  SECTION("a palette image without PLTE is an error") {
    spec.palette.clear();
    REQUIRE_THROWS_WITH(decode(make_png(spec, unfiltered({{0, 1, 2}, {0, 0, 0}}))),
                        Contains(kName) && Contains("PLTE"));
  }
}

TEST_CASE("png: 1-bit grayscale keeps 0/1 values", "[png]") {
  PngSpec spec;
  spec.width = 10;  // 2 bytes per row, the last 6 bits are padding
  spec.height = 3;
  spec.bit_depth = 1;
  const std::vector<Bytes> rows = {
      {0b10110001, 0b01111111}, {0b00000000, 0b11000000}, {0b11111111, 0b10000000}};
  // Paeth on sub-byte pixels looks one byte back.
  const DecodedImage image = decode(make_png(spec, filter_rows(rows, 4, 1)));
  CHECK(image.channels == 1);
  CHECK(image.bit_depth == 8);
  CHECK(image.samples == std::vector<std::uint16_t>{1, 0, 1, 1, 0, 0, 0, 1, 0, 1,  //
                                                    0, 0, 0, 0, 0, 0, 0, 0, 1, 1,  //
                                                    1, 1, 1, 1, 1, 1, 1, 1, 1, 0});
}

TEST_CASE("png: 4-bit grayscale", "[png]") {
  PngSpec spec;
  spec.width = 3;
  spec.height = 1;
  spec.bit_depth = 4;
  const DecodedImage image = decode(make_png(spec, unfiltered({{0x9F, 0x30}})));
  CHECK(image.samples == std::vector<std::uint16_t>{9, 15, 3});
}

TEST_CASE("png: a corrupt CRC throws, naming the file and the chunk", "[png]") {
  Bytes png = small_gray_png();
  SECTION("a flipped CRC byte") {
    // The IHDR CRC occupies bytes 29-32 (8 signature + 8 header + 13 data).
    png[30] ^= 0x01;
    REQUIRE_THROWS_WITH(decode(png), Contains(kName) && Contains("IHDR") && Contains("CRC"));
  }
  SECTION("a flipped data byte") {
    png[20] ^= 0x40;  // inside the IHDR width/height
    REQUIRE_THROWS_WITH(decode(png), Contains(kName) && Contains("CRC"));
  }
  SECTION("a flipped byte in the image data") {
    png[png.size() - 12 - 6] ^= 0x10;  // inside the IDAT, just before its CRC
    REQUIRE_THROWS_WITH(decode(png), Contains(kName) && Contains("IDAT") && Contains("CRC"));
  }
}

TEST_CASE("png: every truncation throws", "[png]") {
  const Bytes png = small_gray_png();
  REQUIRE_NOTHROW(decode(png));
  for (std::size_t size = 0; size < png.size(); ++size) {
    INFO("truncated to " << size << " of " << png.size() << " bytes");
    REQUIRE_THROWS_AS(decode_png(png.data(), size, kName), UserError);
    REQUIRE_THROWS_WITH(decode_png(png.data(), size, kName), Contains(kName));
  }
}

TEST_CASE("png: a wrong signature throws", "[png]") {
  Bytes png = small_gray_png();
  png[1] = 'J';
  REQUIRE_THROWS_WITH(decode(png), Contains(kName) && Contains("signature"));
  const Bytes jpeg = {0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F', 0, 1};
  REQUIRE_THROWS_WITH(decode(jpeg), Contains(kName) && Contains("signature"));
}

TEST_CASE("png: malformed headers and data throw", "[png]") {
  PngSpec spec;
  spec.width = 2;
  spec.height = 2;
  const Bytes rows = unfiltered({{1, 2}, {3, 4}});
  SECTION("zero width") {
    spec.width = 0;
    REQUIRE_THROWS_WITH(decode(make_png(spec, Bytes{})), Contains(kName) && Contains("zero"));
  }
  SECTION("absurd size") {
    spec.width = 1u << 20;
    spec.height = 1u << 20;
    REQUIRE_THROWS_WITH(decode(make_png(spec, rows)), Contains(kName) && Contains("maximum"));
  }
  SECTION("invalid bit depth for the colour type") {
    spec.color_type = 2;
    spec.bit_depth = 4;
    REQUIRE_THROWS_WITH(decode(make_png(spec, rows)), Contains(kName) && Contains("bit depth"));
  }
  SECTION("interlaced") {
    spec.interlace = 1;
    REQUIRE_THROWS_WITH(decode(make_png(spec, rows)),
                        Contains(kName) && Contains("Adam7-interlaced PNG not supported"));
  }
  SECTION("bad filter type") {
    REQUIRE_THROWS_WITH(decode(make_png(spec, Bytes{0, 1, 2, 5, 3, 4})),
                        Contains(kName) && Contains("filter type 5"));
  }
  SECTION("too little image data") {
    REQUIRE_THROWS_WITH(decode(make_png(spec, Bytes{0, 1, 2, 0, 3})),
                        Contains(kName) && Contains("inflates to 5 bytes"));
  }
  SECTION("too much image data") {
    REQUIRE_THROWS_WITH(decode(make_png(spec, Bytes{0, 1, 2, 0, 3, 4, 0, 5, 6})),
                        Contains(kName) && Contains("more than the 6 bytes"));
  }
  SECTION("image data that is not a zlib stream") {
    Bytes png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    put_chunk(png, "IHDR", ihdr(spec));
    put_chunk(png, "IDAT", Bytes{1, 2, 3, 4, 5, 6, 7, 8});
    put_chunk(png, "IEND", {});
    REQUIRE_THROWS_WITH(decode(png), Contains(kName) && Contains("does not inflate"));
  }
  SECTION("an unknown critical chunk; unknown ancillary chunks are skipped") {
    Bytes png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    put_chunk(png, "IHDR", ihdr(spec));
    put_chunk(png, "zzZz", Bytes{1, 2, 3});
    put_chunk(png, "IDAT", zlib_compress(rows));
    Bytes critical = png;
    put_chunk(png, "IEND", {});
    CHECK(decode(png).samples == std::vector<std::uint16_t>{1, 2, 3, 4});
    put_chunk(critical, "QQQQ", Bytes{1});
    put_chunk(critical, "IEND", {});
    REQUIRE_THROWS_WITH(decode(critical), Contains(kName) && Contains("critical chunk QQQQ"));
  }
  SECTION("no IDAT") {
    Bytes png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    put_chunk(png, "IHDR", ihdr(spec));
    put_chunk(png, "IEND", {});
    REQUIRE_THROWS_WITH(decode(png), Contains(kName) && Contains("no IDAT"));
  }
}

TEST_CASE("png: read_png reads a file and names it in errors", "[png]") {
  std::random_device rd;
  const fs::path path =
      fs::temp_directory_path() / ("dpsgd-png-test-" + std::to_string(rd()) + ".png");
  PngSpec spec;
  spec.width = 2;
  spec.height = 1;
  const Bytes png = make_png(spec, unfiltered({{42, 43}}));
  {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size()));
  }
  const DecodedImage image = read_png(path);
  std::error_code ec;
  fs::remove(path, ec);
  CHECK(image.samples == std::vector<std::uint16_t>{42, 43});
  REQUIRE_THROWS_WITH(read_png(path), Contains(path.string()));
  REQUIRE_THROWS_WITH(read_png(fs::temp_directory_path()), Contains("directory"));
}

TEST_CASE("png: the Duke OCT images and masks decode as 8-bit gray 496 rows high", "[png]") {
  const fs::path root = duke_oct_root();
  std::error_code ec;
  if (!fs::is_directory(root / "train", ec)) {
    DPSGD_SKIP("Duke OCT data set not found at " << root.string());
  }
  for (const char* kind : {"images", "masks"}) {
    const auto files = pngs_in(root / "train" / kind);
    INFO(kind);
    REQUIRE(!files.empty());
    for (const auto& path : files) {
      INFO(path.string());
      const DecodedImage image = read_png(path);
      CHECK(image.channels == 1);
      CHECK(image.bit_depth == 8);
      CHECK(image.height == 496);
      CHECK(image.width >= 500);
      CHECK(image.width <= 548);
      REQUIRE(image.samples.size() ==
              static_cast<std::size_t>(image.width * image.height * image.channels));
      const auto max = *std::max_element(image.samples.begin(), image.samples.end());
      if (std::string(kind) == "masks") {
        CHECK(max <= 9);  // labels 0-9 (README)
      } else {
        CHECK(max > 9);  // real intensities, not labels
      }
    }
  }
}

#ifdef DPSGD_HAVE_OPENCV
TEST_CASE("png: the first Duke OCT images and masks equal cv::imread", "[png]") {
  const fs::path root = duke_oct_root();
  std::error_code ec;
  if (!fs::is_directory(root / "train", ec)) {
    DPSGD_SKIP("Duke OCT data set not found at " << root.string());
  }
  for (const char* kind : {"images", "masks"}) {
    auto files = pngs_in(root / "train" / kind);
    REQUIRE(files.size() >= 5);
    files.resize(5);
    for (const auto& path : files) {
      INFO(path.string());
      const DecodedImage image = read_png(path);
      const cv::Mat reference = cv::imread(path.string(), cv::IMREAD_UNCHANGED);
      REQUIRE(!reference.empty());
      REQUIRE(reference.type() == CV_8UC1);
      REQUIRE(reference.rows == image.height);
      REQUIRE(reference.cols == image.width);
      std::int64_t mismatches = 0;
      for (int y = 0; y < reference.rows; ++y) {
        const auto* row = reference.ptr<std::uint8_t>(y);
        for (int x = 0; x < reference.cols; ++x) {
          if (image.samples[static_cast<std::size_t>(y) * reference.cols + x] != row[x]) {
            ++mismatches;
          }
        }
      }
      CHECK(mismatches == 0);
    }
  }
}
#endif
