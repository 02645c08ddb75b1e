#include "dpsgd/util/file_lock.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace dpsgd::util {
namespace {

int open_lock_file(const std::filesystem::path& path) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw std::runtime_error("cannot open lock file " + path.string() + ": " +
                             std::strerror(errno));
  }
  return fd;
}

// flock with EINTR retried (a signal that only sets a flag must not fail it).
int lock(int fd, int operation) {
  int rc = 0;
  do {
    rc = ::flock(fd, operation);
  } while (rc != 0 && errno == EINTR);
  return rc;
}

}  // namespace

FileLock FileLock::acquire(const std::filesystem::path& path) {
  const int fd = open_lock_file(path);
  if (lock(fd, LOCK_EX) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    throw std::runtime_error("cannot lock " + path.string() + ": " + why);
  }
  return FileLock(fd);
}

FileLock FileLock::try_acquire(const std::filesystem::path& path) {
  const int fd = open_lock_file(path);
  if (lock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return FileLock(-1);
  }
  return FileLock(fd);
}

FileLock::FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the descriptor releases the flock
}

}  // namespace dpsgd::util
