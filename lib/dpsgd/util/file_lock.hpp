#pragma once
// An exclusive advisory lock (flock(2)) on a lock file, held for the object's
// life. The kernel drops it when the process dies, even by SIGKILL, so a crashed
// process never leaves a stale lock behind. Used for index.json (several
// processes may share one experiment folder: each read-modify-write of the index
// happens under the lock) and to claim a run folder for one process.
#include <filesystem>

namespace dpsgd::util {

class FileLock {
 public:
  /// Blocks until the lock on `path` (created if absent) is held.
  static FileLock acquire(const std::filesystem::path& path);
  /// Holds the lock if no other process does; else returns an unheld lock.
  static FileLock try_acquire(const std::filesystem::path& path);

  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

  [[nodiscard]] bool held() const { return fd_ >= 0; }

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace dpsgd::util
