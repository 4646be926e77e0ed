// A blocking HTTP/1.1 request with a deadline, for worker threads (supplier calls, the demo
// driver, tooling) — never call it on an event loop.
#pragma once

#include <boost/beast/http/verb.hpp>

#include <chrono>
#include <map>
#include <string>

namespace fg::net {

struct HttpResult {
  int status = 0;
  std::string body;
};

// Throws boost::system::system_error (beast::error::timeout on the deadline) on network failure.
HttpResult HttpRequest(const std::string& host, const std::string& port, boost::beast::http::verb verb,
                       const std::string& target, const std::string& body,
                       const std::map<std::string, std::string>& headers, std::chrono::milliseconds timeout);

}  // namespace fg::net
