// Image bit depth and palettes: an image's intensities come out in one range
// (0-255) whatever the file's depth, so a 16-bit PNG among 8-bit ones is not 257
// times larger; a mask's labels come out exactly as stored, and a palette mask
// gives its indices (its classes), not its display colours.
#include <filesystem>

#include <catch2/catch.hpp>

#include "dpsgd/data/formats/image_file.hpp"
#include "dpsgd/data/formats/png_reader.hpp"
#include "tests/helpers/png_writer.hpp"
#include "tests/helpers/run_binary.hpp"

namespace fs = std::filesystem;
using dpsgd::data::PaletteOutput;
using dpsgd::data::read_image_file;
using dpsgd::data::read_mask_file;
using dpsgd::test::Bytes;
using dpsgd::test::make_png;
using dpsgd::test::PngSpec;
using dpsgd::test::unfiltered;

namespace {

// A scratch folder per test (ctest runs test cases in parallel), emptied first
// (fresh_dir: fs::remove_all is unsafe with the torch wheel's libtorch).
struct Scratch {
  fs::path dir;
  explicit Scratch(const std::string& name) : dir(dpsgd::test::fresh_dir(name)) {
    fs::create_directories(dir);
  }
  fs::path write(const std::string& name, const Bytes& png) const {
    dpsgd::test::write_bytes(dir / name, png);
    return dir / name;
  }
};

std::vector<float> values_of(const torch::Tensor& t) {
  const auto f = t.to(torch::kFloat32).contiguous().flatten();
  return {f.data_ptr<float>(), f.data_ptr<float>() + f.numel()};
}

PngSpec gray(int depth) {
  PngSpec spec;
  spec.width = 3;
  spec.height = 1;
  spec.bit_depth = depth;
  return spec;
}

}  // namespace

TEST_CASE("image files: 16-bit gray is scaled to the 8-bit range", "[png][data]") {
  Scratch s("dpsgd_image_16bit");
  // The same three intensities at both depths: v and v * 257.
  const auto p8 = s.write("a8.png", make_png(gray(8), unfiltered({{0, 128, 255}})));
  const auto p16 =
      s.write("a16.png", make_png(gray(16), unfiltered({{0x00, 0x00, 0x80, 0x80, 0xFF, 0xFF}})));
  const auto image8 = read_image_file(p8);
  const auto image16 = read_image_file(p16);
  CHECK(image8.scalar_type() == torch::kFloat32);
  CHECK(image8.sizes() == torch::IntArrayRef({1, 1, 3}));
  CHECK(values_of(image8) == std::vector<float>{0, 128, 255});
  CHECK(torch::equal(image8, image16));
  // A mask keeps the stored integers at any depth.
  const auto mask16 = read_mask_file(p16);
  CHECK(mask16.scalar_type() == torch::kInt32);
  CHECK(values_of(mask16) == std::vector<float>{0, 0x8080, 0xFFFF});
}

TEST_CASE("image files: sub-8-bit gray images span 0-255, masks keep their values", "[png][data]") {
  Scratch s("dpsgd_image_2bit");
  // 2-bit samples 0, 1, 3 packed from the high bits: 00 01 11 00.
  const auto p = s.write("g2.png", make_png(gray(2), unfiltered({{0x1C}})));
  CHECK(values_of(read_image_file(p)) == std::vector<float>{0, 85, 255});
  CHECK(values_of(read_mask_file(p)) == std::vector<float>{0, 1, 3});
}

TEST_CASE("image files: palette images give colours, palette masks give indices", "[png][data]") {
  Scratch s("dpsgd_image_palette");
  PngSpec spec;
  spec.width = 3;
  spec.height = 1;
  spec.color_type = 3;
  spec.palette = {10, 20, 30, 40, 50, 60, 70, 80, 90};
  const auto p = s.write("p.png", make_png(spec, unfiltered({{2, 0, 1}})));
  const auto image = read_image_file(p);
  CHECK(image.sizes() == torch::IntArrayRef({3, 1, 3}));  // RGB
  CHECK(values_of(image) == std::vector<float>{70, 10, 40, 80, 20, 50, 90, 30, 60});
  const auto mask = read_mask_file(p);
  CHECK(mask.sizes() == torch::IntArrayRef({1, 1, 3}));
  CHECK(values_of(mask) == std::vector<float>{2, 0, 1});
  // The decoder itself, asked for indices, still refuses an index past the palette.
  const Bytes bad = make_png(spec, unfiltered({{0, 3, 1}}));
  CHECK_THROWS_WITH(
      dpsgd::data::decode_png(bad.data(), bad.size(), "bad.png", PaletteOutput::kIndices),
      Catch::Contains("palette index 3"));
}
