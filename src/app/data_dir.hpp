// The data directory: created private to its owner (0700, files 0600), and the secrets the gateway
// keeps there when the environment does not give them.
#pragma once

#include <filesystem>
#include <string>

namespace fg::app {

// Creates `dir` if needed and restricts it to its owner; sets umask 077 so every file made under
// it (database, WAL, keys, secrets) is the owner's alone. Throws std::runtime_error with the cause.
void PrepareDataDir(const std::filesystem::path& dir);

// Restricts files an older version made with wider modes (no error if they do not exist).
void TightenFileModes(const std::filesystem::path& dir, std::initializer_list<const char*> names);

// Writes `text` to `file` so that a crash leaves either the old file or the whole new one: a
// temporary file (0600) is written and fsynced, renamed over `file`, then the directory is fsynced.
void WriteFileAtomically(const std::filesystem::path& file, const std::string& text);

// A secret kept in `file` (mode 0600), created with `bytes` random bytes (base64) on first use. An
// existing file shorter than `min_length` (empty, truncated) is an error, never a weak key.
std::string DataDirSecret(const std::filesystem::path& file, std::size_t bytes, std::size_t min_length);

}  // namespace fg::app
