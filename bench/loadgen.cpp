// fg-loadgen: a Socket.IO load generator for fulfillment-gateway and compatible gateways.
//
// Opens N websocket-transport Socket.IO connections to /fulfillment (spread over source addresses
// 127.0.0.2… to avoid ephemeral-port exhaustion), authenticates each with its own HS256 JWT,
// subscribes, answers pings; then publishes events over the HTTP API at a fixed rate (or as fast
// as accepted), each stamped with its send time, and records publish→receive latency.
// Reports JSON: connect figures, expected vs received (loss), latency percentiles, server RSS and
// CPU from /proc (when --server-pid is given), and its own CPU. Targets 127.0.0.0/8 only and stops
// by itself within --timeout seconds.
#include "auth/jwt.hpp"
#include "common/clock.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

std::int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

// Latency histogram: 1 µs buckets up to 100 ms, then 1 ms buckets up to 100 s.
class Histogram {
 public:
  Histogram() : fine_(100'000), coarse_(100'000) {}
  void Add(std::int64_t ns) {
    const std::int64_t us = std::max<std::int64_t>(0, ns / 1000);
    if (us < 100'000)
      ++fine_[static_cast<std::size_t>(us)];
    else
      ++coarse_[static_cast<std::size_t>(std::min<std::int64_t>(us / 1000, 99'999))];
    max_us_ = std::max(max_us_, us);
    ++count_;
  }
  void Merge(const Histogram& o) {
    for (std::size_t i = 0; i < fine_.size(); ++i) fine_[i] += o.fine_[i];
    for (std::size_t i = 0; i < coarse_.size(); ++i) coarse_[i] += o.coarse_[i];
    max_us_ = std::max(max_us_, o.max_us_);
    count_ += o.count_;
  }
  double PercentileMs(double p) const {
    if (count_ == 0) return 0;
    const auto target = static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < fine_.size(); ++i) {
      seen += fine_[i];
      if (seen >= target) return static_cast<double>(i) / 1000.0;
    }
    for (std::size_t i = 0; i < coarse_.size(); ++i) {
      seen += coarse_[i];
      if (seen >= target) return static_cast<double>(i);
    }
    return static_cast<double>(max_us_) / 1000.0;
  }
  double MaxMs() const { return static_cast<double>(max_us_) / 1000.0; }
  std::uint64_t Count() const { return count_; }

 private:
  std::vector<std::uint64_t> fine_, coarse_;
  std::int64_t max_us_ = 0;
  std::uint64_t count_ = 0;
};

struct Config {
  std::string host = "127.0.0.1";
  unsigned short port = 4000;
  unsigned short api_port = 0;  // where orders are registered and events published (0: --port): another cluster node
  std::string mode = "targeted";  // targeted | broadcast | connect | storm | cluster
  // cluster: connections spread over `ports`; a connection the server drops (node killed or
  // drained) reconnects after ~reconnect_delay_ms to the next port with {pid, offset}; publishing
  // moves on to the next of `api_ports` when one refuses (503) or is unreachable.
  std::vector<unsigned short> ports, api_ports;
  int reconnect_delay_ms = 500;
  double storm_at = -1;           // storm: seconds into publishing when every connection drops (default: a third)
  double storm_gap = 1;           // storm: seconds until they all reconnect
  std::size_t connections = 1000;
  std::size_t orders = 0;  // targeted: default connections/3
  double rate = 1000;      // events/s; 0 = as fast as accepted
  double duration = 10;    // seconds of publishing
  double timeout = 120;    // hard stop
  std::size_t threads = 1;
  std::size_t sources = 0;  // source addresses 127.0.0.2..; 0 = ceil(connections / 20000)
  std::size_t publishers = 1;
  std::size_t batch = 1;  // events per publish request (the array form of POST /api/v1/events)
  std::string jwt_secret, api_key;
  int server_pid = 0;
  std::string out;
  bool skip_register = false;
};

struct Shared {
  std::atomic<std::size_t> connected{0}, subscribed{0}, failed{0}, disconnected{0}, recovered{0}, fresh{0};
  std::atomic<std::size_t> drops{0};  // cluster mode: connections the server dropped
  std::mutex recovery_mutex;
  std::vector<double> recovery_ms;                   // cluster mode: drop → recovered CONNECT, each
  std::int64_t first_drop_ns = 0, last_back_ns = 0;  // under recovery_mutex
  std::atomic<std::uint64_t> received{0}, published{0}, publish_errors{0};
  std::atomic<bool> stopping{false};
};

// One Socket.IO client. In storm mode it also keeps what a stock client keeps for connection state
// recovery — the CONNECT answer's pid and the offset (last argument) of the latest event — and can
// be dropped (TCP closed, no Socket.IO goodbye) and reconnected with {token, pid, offset}; it
// records every event's per-order number and offset so loss, duplicates and order can be checked.
class Conn : public std::enable_shared_from_this<Conn> {
 public:
  Conn(asio::io_context& io, const Config& c, Shared& sh, Histogram& h, std::string token, std::string order,
       tcp::endpoint local, std::size_t port_index = 0)
      : io_(io),
        cfg_(c),
        sh_(sh),
        hist_(h),
        token_(std::move(token)),
        order_(std::move(order)),
        local_(local),
        port_index_(port_index) {}

  void Start() {
    ws_ = std::make_unique<websocket::stream<beast::tcp_stream>>(io_);
    buf_.clear();
    out_.clear();
    auto& sock = beast::get_lowest_layer(*ws_).socket();
    boost::system::error_code ec;
    sock.open(tcp::v4(), ec);
    sock.set_option(asio::socket_base::reuse_address(true), ec);
    sock.bind(local_, ec);
    if (ec) return Fail("bind " + ec.message());
    beast::get_lowest_layer(*ws_).expires_after(std::chrono::seconds(30));
    beast::get_lowest_layer(*ws_).async_connect(tcp::endpoint(asio::ip::make_address(cfg_.host), Port()),
                                                [self = shared_from_this(), g = gen_](beast::error_code e) {
                                                  if (g == self->gen_) self->OnConnect(e);
                                                });
  }
  void Close() {
    closing_ = true;
    beast::error_code ec;
    if (ws_) beast::get_lowest_layer(*ws_).socket().close(ec);
  }
  // Storm: the transport goes away without a word (what a lost network looks like to the server).
  void Drop() {
    ++gen_;  // what the old stream still reports is ignored
    dropped_at_ns_ = NowNs();
    old_sid_ = sid_;
    sid_.clear();
    beast::error_code ec;
    if (ws_) beast::get_lowest_layer(*ws_).socket().close(ec);
  }
  void Reconnect() {
    reconnecting_ = true;
    Start();
  }

  // Checks against what was published for this connection's order (numbers 0..published-1).
  struct Check {
    std::uint64_t lost = 0, duplicated = 0, out_of_order = 0, replayed = 0;
    bool recovered = false;
  };
  Check Verify(std::uint64_t published) const {
    Check r;
    std::vector<std::uint64_t> ns = seen_;
    std::sort(ns.begin(), ns.end());
    const auto unique = static_cast<std::uint64_t>(std::unique(ns.begin(), ns.end()) - ns.begin());
    r.duplicated = seen_.size() - unique;
    r.lost = published > unique ? published - unique : 0;
    r.out_of_order = out_of_order_;
    r.replayed = replayed_;
    r.recovered = recovered_;
    return r;
  }
  std::size_t ResubscribedFresh() const { return fresh_; }

 private:
  unsigned short Port() const { return cfg_.ports.empty() ? cfg_.port : cfg_.ports[port_index_ % cfg_.ports.size()]; }
  bool Tracking() const { return cfg_.mode == "storm" || cfg_.mode == "cluster"; }
  // Cluster mode: the server dropped us (or refused the connection): on to the next node, as the
  // stock client through a balancer would, after the reconnection delay (±50 %).
  void Failover() {
    if (!reconnecting_ || !sid_.empty()) {  // a live session went away (not a failed reconnect)
      sh_.drops++;
      dropped_at_ns_ = NowNs();
      old_sid_ = sid_;
      std::lock_guard lock(sh_.recovery_mutex);
      if (sh_.first_drop_ns == 0) sh_.first_drop_ns = dropped_at_ns_;
    }
    ++gen_;
    sid_.clear();
    reconnecting_ = true;
    ++port_index_;
    beast::error_code ec;
    if (ws_) beast::get_lowest_layer(*ws_).socket().close(ec);
    const int base = cfg_.reconnect_delay_ms;
    const int delay =
        base / 2 + static_cast<int>(static_cast<std::uint64_t>(NowNs()) % static_cast<std::uint64_t>(base + 1));
    timer_ = std::make_unique<asio::steady_timer>(io_, std::chrono::milliseconds(delay));
    timer_->async_wait([self = shared_from_this(), g = gen_](beast::error_code e) {
      if (!e && g == self->gen_ && !self->sh_.stopping) self->Start();
    });
  }
  void Fail(const std::string& why) {
    if (cfg_.mode == "cluster" && subscribed_once_ && !closing_ && !sh_.stopping) return Failover();
    if (!counted_fail_ && !closing_) {
      counted_fail_ = true;
      if (subscribed_)
        sh_.disconnected++;
      else
        sh_.failed++;
      if (sh_.failed + sh_.disconnected <= 5) std::fprintf(stderr, "loadgen: connection failed: %s\n", why.c_str());
    }
  }
  void OnConnect(beast::error_code ec) {
    if (ec) return Fail("connect " + ec.message());
    beast::get_lowest_layer(*ws_).expires_never();
    beast::get_lowest_layer(*ws_).socket().set_option(tcp::no_delay(true), ec);
    ws_->async_handshake(cfg_.host + ":" + std::to_string(Port()), "/socket.io/?EIO=4&transport=websocket",
                         [self = shared_from_this(), g = gen_](beast::error_code e) {
                           if (g == self->gen_) self->OnHandshake(e);
                         });
  }
  void OnHandshake(beast::error_code ec) {
    if (ec) return Fail("handshake " + ec.message());
    if (!reconnecting_) sh_.connected++;
    DoRead();
  }
  void DoRead() {
    ws_->async_read(buf_, [self = shared_from_this(), g = gen_](beast::error_code e, std::size_t) {
      if (g == self->gen_) self->OnRead(e);
    });
  }
  void Send(std::string s) {
    out_.push_back(std::move(s));
    if (out_.size() == 1) DoWrite();
  }
  void DoWrite() {
    ws_->async_write(asio::buffer(out_.front()),
                     [self = shared_from_this(), g = gen_](beast::error_code e, std::size_t) {
                       if (g != self->gen_) return;
                       if (e) return self->Fail("write " + e.message());
                       self->out_.pop_front();
                       if (!self->out_.empty()) self->DoWrite();
                     });
  }
  static std::string Field(std::string_view m, std::string_view key) {  // "key":"value"
    const auto p = m.find(key);
    if (p == std::string_view::npos) return {};
    const auto start = p + key.size();
    const auto end = m.find('"', start);
    return end == std::string_view::npos ? std::string() : std::string(m.substr(start, end - start));
  }
  void OnEvent(std::string_view m) {
    const auto p = m.find("\"sentNs\":");
    std::int64_t sent = 0;
    if (p != std::string_view::npos) {
      sent = std::strtoll(m.data() + p + 9, nullptr, 10);
      hist_.Add(NowNs() - sent);
    }
    sh_.received++;
    if (!Tracking()) return;
    if (const auto q = m.find("\"n\":"); q != std::string_view::npos)
      seen_.push_back(std::strtoull(m.data() + q + 4, nullptr, 10));
    // The offset: the last argument, a string — `…},"<offset>"]`.
    if (m.size() > 3 && m.substr(m.size() - 2) == "\"]") {
      const auto open = m.rfind('"', m.size() - 3);
      if (open != std::string_view::npos) {
        offset_ = std::string(m.substr(open + 1, m.size() - 3 - open));
        const std::uint64_t pos = std::strtoull(offset_.c_str(), nullptr, 10);
        if (pos <= last_pos_) ++out_of_order_;
        last_pos_ = pos;
      }
    }
    if (reconnecting_ && sent >= dropped_at_ns_ && sent < acked_at_ns_) ++replayed_;
  }
  void OnRead(beast::error_code ec) {
    if (ec) return Fail("read " + ec.message());
    const std::string_view m(static_cast<const char*>(buf_.data().data()), buf_.size());
    if (m == "2") {
      Send("3");
    } else if (m.rfind("42/fulfillment,", 0) == 0) {
      OnEvent(m);
    } else if (m.rfind("0{", 0) == 0) {
      std::string auth = "{\"token\":\"" + token_ + "\"";
      if (reconnecting_ && !pid_.empty()) {
        auth += ",\"pid\":\"" + pid_ + "\"";
        if (!offset_.empty()) auth += ",\"offset\":\"" + offset_ + "\"";
      }
      Send("40/fulfillment," + auth + "}");
    } else if (m.rfind("40/fulfillment,", 0) == 0) {
      sid_ = Field(m, "\"sid\":\"");
      const std::string pid = Field(m, "\"pid\":\"");
      if (reconnecting_) {
        acked_at_ns_ = NowNs();
        recovered_ = !old_sid_.empty() && sid_ == old_sid_ && pid == pid_;
        if (recovered_) {
          sh_.recovered++;
          if (cfg_.mode == "cluster") {
            std::lock_guard lock(sh_.recovery_mutex);
            sh_.recovery_ms.push_back(static_cast<double>(acked_at_ns_ - dropped_at_ns_) / 1e6);
            sh_.last_back_ns = std::max(sh_.last_back_ns, acked_at_ns_);
          }
        } else {
          ++fresh_;  // a fresh session: subscribe again (what a client does when not recovered)
          sh_.fresh++;
        }
      }
      pid_ = pid;
      if (cfg_.mode == "connect") {
        subscribed_ = true;
        sh_.subscribed++;
      } else if (!reconnecting_ || !recovered_) {
        Send("42/fulfillment,1[\"subscribe:order\",{\"orderId\":\"" + order_ + "\"}]");
      }
    } else if (m.rfind("43/fulfillment,1", 0) == 0) {
      if (m.find("\"ok\":true") != std::string_view::npos) {
        if (!subscribed_) {
          subscribed_ = true;
          subscribed_once_ = true;
          sh_.subscribed++;
        }
      } else {
        buf_.consume(buf_.size());
        return Fail("subscribe refused");
      }
    } else if (m.rfind("44/fulfillment,", 0) == 0) {
      std::string msg(m);
      buf_.consume(buf_.size());
      return Fail("connect_error " + msg);
    }
    buf_.consume(buf_.size());
    DoRead();
  }

  asio::io_context& io_;
  std::unique_ptr<websocket::stream<beast::tcp_stream>> ws_;
  const Config& cfg_;
  Shared& sh_;
  Histogram& hist_;
  std::string token_, order_;
  tcp::endpoint local_;
  beast::flat_buffer buf_;
  std::deque<std::string> out_;
  bool subscribed_ = false, counted_fail_ = false, closing_ = false, subscribed_once_ = false;
  std::size_t port_index_ = 0;
  std::unique_ptr<asio::steady_timer> timer_;
  // storm
  std::uint64_t gen_ = 0;
  bool reconnecting_ = false, recovered_ = false;
  std::string sid_, old_sid_, pid_, offset_;
  std::int64_t dropped_at_ns_ = 0, acked_at_ns_ = 0;
  std::vector<std::uint64_t> seen_;
  std::uint64_t last_pos_ = 0, out_of_order_ = 0, replayed_ = 0;
  std::size_t fresh_ = 0;
};

// Minimal keep-alive HTTP/1.1 client for the publish API (synchronous, one per publisher thread).
class HttpClient {
 public:
  explicit HttpClient(const Config& c, std::size_t first = 0) : cfg_(c), port_index_(first) { Reset(); }
  // Cluster mode: a node that refuses (503: draining) or cannot be reached is left for the next
  // of --api-ports, and the same request is sent there (never accepted by the first: safe).
  int Request(http::verb verb, const std::string& target, const std::string& body) {
    const std::size_t tries = cfg_.api_ports.size() > 1 ? 4 * cfg_.api_ports.size() : 1;
    int status = 0;
    for (std::size_t t = 0; t < tries; ++t) {
      status = Once(verb, target, body);
      if (status != 0 && status != 503) return status;
      ++port_index_;
      Reset();
      if (tries > 1) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return status;
  }

 private:
  unsigned short ApiPort() const {
    if (!cfg_.api_ports.empty()) return cfg_.api_ports[port_index_ % cfg_.api_ports.size()];
    return cfg_.api_port ? cfg_.api_port : cfg_.port;
  }
  int Once(http::verb verb, const std::string& target, const std::string& body) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      try {
        if (!open_) {
          stream_->connect(tcp::endpoint(asio::ip::make_address(cfg_.host), ApiPort()));
          stream_->socket().set_option(tcp::no_delay(true));
          open_ = true;
        }
        http::request<http::string_body> req{verb, target, 11};
        req.set(http::field::host, cfg_.host);
        req.set(http::field::authorization, "Bearer " + cfg_.api_key);
        req.set(http::field::content_type, "application/json");
        req.keep_alive(true);
        req.body() = body;
        req.prepare_payload();
        http::write(*stream_, req);
        http::response<http::string_body> res;
        http::read(*stream_, buf_, res);
        if (!res.keep_alive()) Reset();
        return res.result_int();
      } catch (const std::exception&) {
        Reset();
      }
    }
    return 0;
  }
  void Reset() {
    stream_ = std::make_unique<beast::tcp_stream>(io_);
    buf_.clear();
    open_ = false;
  }
  const Config& cfg_;
  std::size_t port_index_ = 0;
  asio::io_context io_;
  std::unique_ptr<beast::tcp_stream> stream_;
  beast::flat_buffer buf_;
  bool open_ = false;
};

struct ProcSample {
  double cpu_s = 0;
  long rss_kib = 0;
};
ProcSample SampleProc(int pid) {
  ProcSample s;
  if (pid <= 0) return s;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const auto rp = line.rfind(')');
  if (rp != std::string::npos) {
    std::istringstream rest(line.substr(rp + 2));
    std::vector<std::string> f;
    std::string x;
    while (rest >> x) f.push_back(x);
    if (f.size() > 13) s.cpu_s = (std::stod(f[11]) + std::stod(f[12])) / static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) s.rss_kib = std::stol(line.substr(6));
  }
  return s;
}
double SelfCpu() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

bool WaitFor(const std::function<bool()>& pred, Clock::time_point deadline) {
  while (Clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

}  // namespace

int main(int argc, char** argv) {
  Config c;
  CLI::App app{"fg-loadgen: Socket.IO load generator (loopback only)"};
  app.add_option("--host", c.host, "gateway address (must be in 127.0.0.0/8)")->capture_default_str();
  app.add_option("--port", c.port)->capture_default_str();
  app.add_option("--api-port", c.api_port, "publish and register through this port (another cluster node; default --port)");
  app.add_option("--mode", c.mode,
                 "targeted | broadcast | connect | storm (targeted, and every connection drops and recovers)")
      ->capture_default_str();
  app.add_option("--storm-at", c.storm_at, "storm: seconds into publishing when all connections drop");
  app.add_option("--storm-gap", c.storm_gap, "storm: seconds before they reconnect with pid/offset")
      ->capture_default_str();
  app.add_option("--connections", c.connections)->capture_default_str();
  app.add_option("--orders", c.orders, "targeted: orders the sockets are spread over (default connections/3)");
  app.add_option("--rate", c.rate, "events per second (0: as fast as accepted)")->capture_default_str();
  app.add_option("--duration", c.duration, "seconds of publishing")->capture_default_str();
  app.add_option("--timeout", c.timeout, "hard stop, seconds")->capture_default_str();
  app.add_option("--threads", c.threads, "generator threads")->capture_default_str();
  app.add_option("--sources", c.sources, "source addresses 127.0.0.2.. (0: one per 20000 connections)");
  app.add_option("--publishers", c.publishers, "parallel publishing connections")->capture_default_str();
  app.add_option("--batch", c.batch, "events per request (>1 uses the batch form)")->capture_default_str();
  app.add_option("--jwt-secret", c.jwt_secret)->envname("JWT_SECRET")->required();
  app.add_option("--api-key", c.api_key)->envname("API_KEY")->required();
  app.add_option("--server-pid", c.server_pid, "sample this process's RSS and CPU");
  app.add_option("--out", c.out, "write the JSON report here too");
  app.add_flag("--skip-register", c.skip_register, "orders are already registered");
  app.add_option("--ports", c.ports, "cluster: the nodes' ports, connections spread over them")->delimiter(',');
  app.add_option("--api-ports", c.api_ports, "cluster: publish through these (the next on 503 or no answer)")
      ->delimiter(',');
  app.add_option("--reconnect-delay-ms", c.reconnect_delay_ms, "cluster: reconnection delay (±50 %)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  const auto target = asio::ip::make_address_v4(c.host);
  if ((target.to_uint() >> 24) != 127) {
    std::fprintf(stderr, "loadgen: refusing %s: only 127.0.0.0/8 is allowed\n", c.host.c_str());
    return 2;
  }
  if (c.mode == "cluster" && c.ports.empty()) c.ports = {c.port};
  if (c.mode != "targeted" && c.mode != "broadcast" && c.mode != "connect" && c.mode != "storm" &&
      c.mode != "cluster") {
    std::fprintf(stderr, "loadgen: unknown mode %s\n", c.mode.c_str());
    return 2;
  }
  const auto hard_deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(c.timeout));
  if (c.orders == 0) c.orders = c.mode == "broadcast" ? 1 : std::max<std::size_t>(1, c.connections / 3);
  if (c.sources == 0) c.sources = (c.connections + 19999) / 20000;
  const std::string run = std::to_string(::getpid()) + "-" + std::to_string(NowNs() % 1000000);
  auto order_of = [&](std::size_t i) { return "lg-" + run + "-o" + std::to_string(i % c.orders); };
  auto user_of = [&](std::size_t i) { return "lg-" + run + "-u" + std::to_string(i % c.orders); };

  Shared sh;
  // 1. register orders
  const auto t_register = Clock::now();
  if (c.mode != "connect" && !c.skip_register) {
    HttpClient hc(c);
    for (std::size_t o = 0; o < c.orders; ++o) {
      const int st =
          hc.Request(http::verb::put, "/api/v1/orders/" + order_of(o), "{\"userId\":\"" + user_of(o) + "\"}");
      if (st != 200 && st != 201) {
        std::fprintf(stderr, "loadgen: registering %s failed with %d\n", order_of(o).c_str(), st);
        return 1;
      }
    }
  }
  const double register_s = std::chrono::duration<double>(Clock::now() - t_register).count();

  // 2. connect + subscribe
  std::vector<std::unique_ptr<asio::io_context>> ios;
  std::vector<std::unique_ptr<Histogram>> hists;
  for (std::size_t t = 0; t < c.threads; ++t) {
    ios.push_back(std::make_unique<asio::io_context>(1));
    hists.push_back(std::make_unique<Histogram>());
  }
  std::vector<std::shared_ptr<Conn>> conns;
  conns.reserve(c.connections);
  std::vector<std::string> tokens(c.orders);
  for (std::size_t o = 0; o < c.orders; ++o)
    tokens[o] = fg::auth::SignHs256(boost::json::object{{"sub", user_of(o)}}, c.jwt_secret);
  const auto before_connect = SampleProc(c.server_pid);
  const double self_cpu0 = SelfCpu();
  const auto t_connect = Clock::now();
  for (std::size_t i = 0; i < c.connections; ++i) {
    const std::size_t t = i % c.threads;
    const auto src = asio::ip::address_v4(
        asio::ip::address_v4::bytes_type{127, 0, 0, static_cast<unsigned char>(2 + (i % c.sources))});
    conns.push_back(
        std::make_shared<Conn>(*ios[t], c, sh, *hists[t], tokens[i % c.orders], order_of(i), tcp::endpoint(src, 0), i));
  }
  std::vector<std::thread> threads;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  for (auto& io : ios) guards.emplace_back(io->get_executor());
  for (std::size_t t = 0; t < c.threads; ++t) threads.emplace_back([&, t] { ios[t]->run(); });
  // start in batches so the accept queue is not flooded
  for (std::size_t i = 0; i < conns.size(); ++i) {
    asio::post(*ios[i % c.threads], [conn = conns[i]] { conn->Start(); });
    if (i % 500 == 499) {
      while (sh.subscribed + sh.failed + 2000 < i && Clock::now() < hard_deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  WaitFor([&] { return sh.subscribed + sh.failed >= c.connections; }, hard_deadline);
  const double connect_s = std::chrono::duration<double>(Clock::now() - t_connect).count();
  const auto after_connect = SampleProc(c.server_pid);
  const double self_cpu_connect = SelfCpu() - self_cpu0;

  // 3. publish
  const std::size_t per_event = sh.subscribed.load();  // broadcast: every subscriber gets every event
  std::atomic<std::uint64_t> expected{0};
  std::vector<std::size_t> subs_per_order(c.orders, 0);
  for (std::size_t i = 0; i < c.connections; ++i) subs_per_order[i % c.orders]++;
  // Storm: each order's events are numbered 0, 1, … so every connection can be checked exactly.
  auto order_n = std::make_unique<std::atomic<std::uint64_t>[]>(c.orders);
  const auto t_publish = Clock::now();
  const bool storm = c.mode == "storm";
  const bool tracking = storm || c.mode == "cluster";  // events numbered per order, checked per connection
  std::thread storm_thread;
  double storm_reconnect_s = 0;
  long storm_rss_before = 0, storm_rss_max = 0;
  std::size_t storm_dropped = 0;
  if (storm) {
    storm_thread = std::thread([&] {
      const double at = c.storm_at >= 0 ? c.storm_at : c.duration / 3;
      std::this_thread::sleep_until(t_publish +
                                    std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(at)));
      storm_rss_before = SampleProc(c.server_pid).rss_kib;
      storm_dropped = sh.subscribed.load();
      for (std::size_t i = 0; i < conns.size(); ++i)
        asio::post(*ios[i % c.threads], [conn = conns[i]] { conn->Drop(); });
      const auto gap_end =
          Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(c.storm_gap));
      while (Clock::now() < gap_end) {
        storm_rss_max = std::max(storm_rss_max, SampleProc(c.server_pid).rss_kib);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      const auto t_reconnect = Clock::now();
      auto back = [&] { return sh.recovered + sh.fresh + sh.disconnected; };
      for (std::size_t i = 0; i < conns.size(); ++i) {
        asio::post(*ios[i % c.threads], [conn = conns[i]] { conn->Reconnect(); });
        if (i % 500 == 499) {
          while (back() + 2000 < i && Clock::now() < hard_deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
          }
          storm_rss_max = std::max(storm_rss_max, SampleProc(c.server_pid).rss_kib);
        }
      }
      while (back() < storm_dropped && Clock::now() < hard_deadline) {
        storm_rss_max = std::max(storm_rss_max, SampleProc(c.server_pid).rss_kib);
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      storm_reconnect_s = std::chrono::duration<double>(Clock::now() - t_reconnect).count();
    });
  }
  if (c.mode != "connect") {
    const auto publish_end =
        t_publish + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(c.duration));
    std::vector<std::thread> pubs;
    for (std::size_t p = 0; p < c.publishers; ++p) {
      pubs.emplace_back([&, p] {
        HttpClient hc(c, p);
        std::uint64_t n = 0;
        const double rate = c.rate / static_cast<double>(c.publishers);
        while (Clock::now() < publish_end && Clock::now() < hard_deadline) {
          if (rate > 0) {
            const auto due = t_publish + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(static_cast<double>(n) / rate));
            if (due > Clock::now()) std::this_thread::sleep_until(due);
          }
          std::string body;
          std::uint64_t want = 0;
          const std::size_t count = std::max<std::size_t>(1, c.batch);
          for (std::size_t k = 0; k < count; ++k) {
            const std::size_t o = ((n + k) * c.publishers + p) % c.orders;
            std::string one = "{\"event\":\"fulfillment:status-change\",\"data\":{\"orderId\":\"" + order_of(o) +
                              "\",\"status\":\"processing\",";
            if (tracking) one += "\"n\":" + std::to_string(order_n[o]++) + ",";
            one += "\"sentNs\":" + std::to_string(NowNs()) + "}}";
            body += (k ? "," : "") + one;
            want += c.mode == "broadcast" ? per_event : subs_per_order[o];
          }
          if (count > 1) body = "[" + body + "]";
          if (hc.Request(http::verb::post, "/api/v1/events", body) == 202) {
            sh.published += count;
            expected += want;
          } else {
            sh.publish_errors++;
          }
          n += count;
        }
      });
    }
    for (auto& t : pubs) t.join();
  }
  if (storm_thread.joinable()) storm_thread.join();
  const double publish_s = std::chrono::duration<double>(Clock::now() - t_publish).count();
  // 4. drain: wait until everything expected arrived (or 10 s more)
  // Cluster mode: a connection may still be reconnecting (its node drained last): give it time.
  const auto drain_deadline =
      std::min(hard_deadline, Clock::now() + std::chrono::seconds(c.mode == "cluster" ? 30 : 10));
  WaitFor([&] { return sh.received >= expected; }, drain_deadline);
  const double deliver_s = std::chrono::duration<double>(Clock::now() - t_publish).count();
  const auto after_publish = SampleProc(c.server_pid);
  const double self_cpu_total = SelfCpu() - self_cpu0;

  sh.stopping = true;
  for (std::size_t i = 0; i < conns.size(); ++i) asio::post(*ios[i % c.threads], [conn = conns[i]] { conn->Close(); });
  guards.clear();
  for (auto& io : ios) io->stop();
  for (auto& t : threads) t.join();
  Histogram all;
  for (auto& h : hists) all.Merge(*h);
  Conn::Check storm_total;
  std::size_t storm_recovered = 0;
  if (tracking) {
    for (std::size_t i = 0; i < conns.size(); ++i) {
      const auto r = conns[i]->Verify(order_n[i % c.orders].load());
      storm_total.lost += r.lost;
      storm_total.duplicated += r.duplicated;
      storm_total.out_of_order += r.out_of_order;
      storm_total.replayed += r.replayed;
      storm_recovered += r.recovered ? 1 : 0;
    }
  }

  namespace json = boost::json;
  const double delivered = static_cast<double>(sh.received.load());
  json::object r{
      {"mode", c.mode},
      {"connections", c.connections},
      {"orders", c.orders},
      {"subscribed", sh.subscribed.load()},
      {"failed", sh.failed.load()},
      {"unexpected_disconnects", sh.disconnected.load()},
      {"register_s", register_s},
      {"connect_s", connect_s},
      {"connects_per_s", static_cast<double>(sh.subscribed.load()) / std::max(connect_s, 1e-9)},
      {"published", sh.published.load()},
      {"publish_errors", sh.publish_errors.load()},
      {"publish_s", publish_s},
      {"events_per_s", static_cast<double>(sh.published.load()) / std::max(publish_s, 1e-9)},
      {"expected", expected.load()},
      {"received", sh.received.load()},
      {"lost", expected.load() > sh.received.load() ? expected.load() - sh.received.load() : 0},
      {"delivered_per_s", delivered / std::max(deliver_s, 1e-9)},
      {"latency_ms", json::object{{"p50", all.PercentileMs(50)},
                                  {"p90", all.PercentileMs(90)},
                                  {"p99", all.PercentileMs(99)},
                                  {"p999", all.PercentileMs(99.9)},
                                  {"max", all.MaxMs()},
                                  {"samples", all.Count()}}},
      {"generator_cpu_s", self_cpu_total},
      {"generator_cpu_connect_s", self_cpu_connect},
  };
  if (storm) {
    r["storm"] = json::object{
        {"dropped", storm_dropped},
        {"recovered", storm_recovered},
        {"fresh_sessions", sh.fresh.load()},
        {"reconnect_s", storm_reconnect_s},
        {"replayed", storm_total.replayed},
        {"lost", storm_total.lost},
        {"duplicated", storm_total.duplicated},
        {"out_of_order", storm_total.out_of_order},
        {"server_rss_before_kib", storm_rss_before},
        {"server_rss_max_kib", storm_rss_max},
    };
  }
  if (c.mode == "cluster") {
    auto ms = sh.recovery_ms;
    std::sort(ms.begin(), ms.end());
    const auto pct = [&](double q) {
      return ms.empty()
                 ? 0.0
                 : ms[std::min(ms.size() - 1, static_cast<std::size_t>(q / 100 * static_cast<double>(ms.size())))];
    };
    r["cluster"] = json::object{
        {"drops", sh.drops.load()},
        {"recovered", sh.recovered.load()},
        {"fresh_sessions", sh.fresh.load()},
        {"recovery_ms", json::object{{"p50", pct(50)}, {"p99", pct(99)}, {"max", ms.empty() ? 0.0 : ms.back()}}},
        {"first_drop_to_last_recovered_s",
         sh.first_drop_ns && sh.last_back_ns ? static_cast<double>(sh.last_back_ns - sh.first_drop_ns) / 1e9 : 0.0},
        {"replayed", storm_total.replayed},
        {"lost", storm_total.lost},
        {"duplicated", storm_total.duplicated},
        {"out_of_order", storm_total.out_of_order},
        {"connected_at_end", sh.subscribed.load()},
    };
  }
  if (c.server_pid > 0) {
    const double conn_cpu = after_connect.cpu_s - before_connect.cpu_s;
    const double pub_cpu = after_publish.cpu_s - after_connect.cpu_s;
    r["server"] = json::object{
        {"rss_before_kib", before_connect.rss_kib},
        {"rss_after_connect_kib", after_connect.rss_kib},
        {"rss_after_publish_kib", after_publish.rss_kib},
        {"rss_per_connection_kib", sh.subscribed ? static_cast<double>(after_connect.rss_kib - before_connect.rss_kib) /
                                                       static_cast<double>(sh.subscribed.load())
                                                 : 0.0},
        {"cpu_connect_s", conn_cpu},
        {"cpu_us_per_connection", sh.subscribed ? conn_cpu * 1e6 / static_cast<double>(sh.subscribed.load()) : 0.0},
        {"cpu_publish_s", pub_cpu},
        {"cpu_us_per_delivery", delivered > 0 ? pub_cpu * 1e6 / delivered : 0.0},
        {"cpu_us_per_event", sh.published ? pub_cpu * 1e6 / static_cast<double>(sh.published.load()) : 0.0},
    };
  }
  const std::string text = json::serialize(r);
  std::cout << text << std::endl;
  if (!c.out.empty()) std::ofstream(c.out) << text << "\n";
  const bool cluster_ok = c.mode != "cluster" || (sh.fresh == 0 && storm_total.lost == 0 &&
                                                  storm_total.duplicated == 0 && storm_total.out_of_order == 0);
  const bool ok = sh.failed == 0 && sh.disconnected == 0 && cluster_ok &&
                  (c.mode == "cluster" || expected.load() == sh.received.load()) && sh.publish_errors == 0 &&
                  (!storm || (storm_recovered == storm_dropped && storm_total.lost == 0 &&
                              storm_total.duplicated == 0 && storm_total.out_of_order == 0));
  return ok ? 0 : 1;
}
