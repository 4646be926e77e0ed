#include "app/data_dir.hpp"

#include "common/encoding.hpp"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace fg::app {

namespace fs = std::filesystem;

void PrepareDataDir(const fs::path& dir) {
  ::umask(077);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw std::runtime_error("cannot create data directory '" + dir.string() + "': " + ec.message());
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (ec) {
    throw std::runtime_error("cannot restrict data directory '" + dir.string() + "' to its owner: " + ec.message());
  }
}

void TightenFileModes(const fs::path& dir, std::initializer_list<const char*> names) {
  std::error_code ec;
  for (const char* name : names) {
    if (fs::exists(dir / name))
      fs::permissions(dir / name, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace, ec);
  }
}

void WriteFileAtomically(const fs::path& file, const std::string& text) {
  const fs::path tmp = file.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot create " + tmp.string() + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < text.size()) {
    const auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      throw std::runtime_error("cannot write " + tmp.string() + ": " + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0)
    throw std::runtime_error("cannot sync " + tmp.string() + ": " + std::strerror(errno));
  if (::rename(tmp.c_str(), file.c_str()) != 0)
    throw std::runtime_error("cannot rename " + tmp.string() + ": " + std::strerror(errno));
  const int dir =
      ::open(file.parent_path().empty() ? "." : file.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

// A secret kept in the data dir (mode 0600), created with `bytes` random bytes on first use. An
// existing file shorter than `min_length` (empty, truncated) is an error, never a weak key.
std::string DataDirSecret(const fs::path& file, std::size_t bytes, std::size_t min_length) {
  if (fs::exists(file)) {
    std::ifstream in(file);
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    if (s.size() < min_length) {
      throw std::runtime_error(file.string() + " holds " +
                               (s.empty() ? std::string("an empty secret")
                                          : "a secret of only " + std::to_string(s.size()) + " characters") +
                               " (at least " + std::to_string(min_length) +
                               " needed); delete it to generate a new one, or set the secret in the environment");
    }
    return s;
  }
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(raw.size())) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  const std::string text = Base64Encode(raw);
  WriteFileAtomically(file, text + "\n");
  return text;
}

}  // namespace fg::app
