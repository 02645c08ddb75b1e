#pragma once
// Writes a whole file so that readers see either the old or the new content:
// write to a temporary file beside it, flush and fsync, then rename over the
// target (rename is atomic on POSIX file systems). A killed run therefore leaves
// the last good metrics.json / summary.json readable.
#include <filesystem>
#include <string_view>

namespace dpsgd::util {

void write_file_atomically(const std::filesystem::path& path, std::string_view content);

}  // namespace dpsgd::util
