#include "app/static_files.hpp"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <iterator>

namespace fg::app {

namespace fs = std::filesystem;
namespace http = net::http;

namespace {
std::string TypeOf(const std::string& path) {
  const auto ext = fs::path(path).extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json" || ext == ".map") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".woff2") return "font/woff2";
  if (ext == ".txt") return "text/plain; charset=utf-8";
  return "application/octet-stream";
}
}  // namespace

bool StaticFiles::Load(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_regular_file(fs::path(dir) / "index.html", ec)) return false;
  std::size_t total = 0;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    if (files_.size() >= 2000 || total > 64u * 1024 * 1024) {
      spdlog::warn("web dir {}: too many or too large files; the rest is not served", dir);
      break;
    }
    std::ifstream in(it->path(), std::ios::binary);
    std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    total += body.size();
    const std::string rel = "/" + fs::relative(it->path(), dir).generic_string();
    files_[rel] = File{std::move(body), TypeOf(rel)};
  }
  return files_.count("/index.html") == 1;
}

net::Response StaticFiles::Make(const net::Request& req, const std::string& path, const File& f) const {
  net::Response res{http::status::ok, req.version()};
  res.set(http::field::content_type, f.type);
  if (path.rfind("/assets/", 0) == 0) {
    res.set(http::field::cache_control, "public, max-age=31536000, immutable");  // content-hashed names
  } else if (path == "/index.html") {
    res.set(http::field::cache_control, "no-cache");
  } else {
    res.set(http::field::cache_control, "public, max-age=3600");
  }
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  if (f.type.rfind("text/html", 0) == 0) {
    res.set("Content-Security-Policy",
            "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "frame-ancestors 'self'");
  }
  if (req.method() == http::verb::head) {
    res.content_length(f.body.size());
  } else {
    res.body() = f.body;
  }
  return res;
}

std::optional<net::Response> StaticFiles::Serve(const net::Request& req) const {
  if (files_.empty() || (req.method() != http::verb::get && req.method() != http::verb::head)) return std::nullopt;
  const std::string target(req.target());
  const std::string path = target.substr(0, target.find('?'));
  if (path.find("..") != std::string::npos) return std::nullopt;
  if (auto it = files_.find(path); it != files_.end()) return Make(req, path, it->second);
  // client-side routes: no extension in the last segment, not an API or protocol path
  const auto last = path.substr(path.rfind('/') + 1);
  if (last.find('.') == std::string::npos && path.rfind("/api/", 0) != 0 && path.rfind("/socket.io", 0) != 0) {
    return Make(req, "/index.html", files_.at("/index.html"));
  }
  return std::nullopt;
}

}  // namespace fg::app
