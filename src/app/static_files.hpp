// The built web app (web/dist), loaded into memory at start-up so serving a page never touches the
// disk on an event loop. Hashed assets (/assets/*) are cached for a year; index.html is revalidated;
// page routes without a file extension fall back to index.html (client-side routing).
#pragma once

#include "net/http_connection.hpp"

#include <map>
#include <optional>
#include <string>

namespace fg::app {

class StaticFiles {
 public:
  // Loads every file under `dir` (bounded: 2000 files, 64 MiB). Returns false when there is no index.html.
  bool Load(const std::string& dir);
  // A response for GET/HEAD `req`, or nullopt when this is not a static path.
  std::optional<net::Response> Serve(const net::Request& req) const;
  std::size_t Count() const { return files_.size(); }

 private:
  struct File {
    std::string body;
    std::string type;
  };
  net::Response Make(const net::Request& req, const std::string& path, const File& f) const;
  std::map<std::string, File> files_;
};

}  // namespace fg::app
