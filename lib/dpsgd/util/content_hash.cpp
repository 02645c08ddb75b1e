#include "dpsgd/util/content_hash.hpp"

#include <array>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "dpsgd/util/seeds.hpp"

namespace dpsgd::util {

ContentHash& ContentHash::add(const void* data, std::size_t size) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, bytes + i, 8);
    state_ = splitmix64(state_ ^ word);
  }
  std::uint64_t tail = 0;
  if (size > i) std::memcpy(&tail, bytes + i, size - i);
  // The tail's length goes in with it, so "ab" + "" and "a" + "b" differ.
  state_ = splitmix64(state_ ^ tail ^ (static_cast<std::uint64_t>(size - i) << 56U));
  length_ += size;
  return *this;
}

ContentHash& ContentHash::add(std::string_view text) {
  const std::uint64_t n = text.size();
  add(&n, sizeof n);
  return add(text.data(), text.size());
}

ContentHash& ContentHash::add(const torch::Tensor& tensor) {
  add(std::string(c10::toString(tensor.scalar_type())));
  for (const auto d : tensor.sizes()) add(&d, sizeof d);
  const auto cpu = tensor.to(torch::kCPU).contiguous();
  return add(cpu.data_ptr(), cpu.nbytes());
}

ContentHash& ContentHash::add_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::array<char, 1 << 16> block{};
  while (in) {
    in.read(block.data(), block.size());
    add(block.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) throw std::runtime_error("error reading " + path.string());
  return *this;
}

std::string ContentHash::hex() const {
  std::array<char, 17> out{};
  std::snprintf(out.data(), out.size(), "%016llx", static_cast<unsigned long long>(state_));
  return {out.data(), 16};
}

}  // namespace dpsgd::util
