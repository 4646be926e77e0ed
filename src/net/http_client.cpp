#include "net/http_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace fg::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

HttpResult HttpRequest(const std::string& host, const std::string& port, http::verb verb, const std::string& target,
                       const std::string& body, const std::map<std::string, std::string>& headers,
                       std::chrono::milliseconds timeout) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  asio::ip::tcp::resolver resolver(io);
  beast::error_code ec;
  HttpResult result;
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, host);
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  http::response_parser<http::string_body> parser;
  parser.body_limit(16 * 1024 * 1024);
  beast::flat_buffer buf;
  stream.expires_after(timeout);
  resolver.async_resolve(host, port, [&](beast::error_code e, asio::ip::tcp::resolver::results_type results) {
    if (e) {
      ec = e;
      return;
    }
    stream.async_connect(results, [&](beast::error_code e2, const asio::ip::tcp::endpoint&) {
      if (e2) {
        ec = e2;
        return;
      }
      http::async_write(stream, req, [&](beast::error_code e3, std::size_t) {
        if (e3) {
          ec = e3;
          return;
        }
        http::async_read(stream, buf, parser, [&](beast::error_code e4, std::size_t) {
          ec = e4;
          if (!e4) {
            result.status = parser.get().result_int();
            result.body = std::move(parser.get().body());
          }
        });
      });
    });
  });
  io.run();
  if (ec) throw boost::system::system_error(ec);
  beast::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  return result;
}

}  // namespace fg::net
