// fg-sendfloor: what one loopback TCP send costs this machine's kernel, with no gateway at all.
//
// The broadcast figure of issue 5 is server CPU per delivered message. Every delivery to a
// different socket is at least one send(2), and on loopback the sender's CPU also runs the
// receiver's TCP input (softirq) and the wake-up of the reading process. This tool measures that
// floor the plain way: a parent accepts N connections from a child process (which only reads, with
// epoll), then writes `--size`-byte messages to all N sockets, `--rounds` times, with
// `--per-send` messages gathered into each send (1 = one send per delivery, like a broadcast of a
// single event; k > 1 = k queued events coalesced into one write). It reports the parent's CPU per
// delivered message (getrusage), the same unit as fg-loadgen's cpu_us_per_delivery.
// Loopback only (127.0.0.0/8); stops by itself.
#include <CLI/CLI.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "sendfloor: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

// The child: connect n sockets (spread over source addresses 127.0.0.2..), read until `total`
// bytes arrived or the parent hangs up.
int Reader(std::uint16_t port, std::size_t n, std::size_t sources, std::size_t total) {
  const int ep = epoll_create1(0);
  for (std::size_t i = 0; i < n; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) Die("socket");
    sockaddr_in src{};
    src.sin_family = AF_INET;
    src.sin_addr.s_addr = htonl(0x7F000002u + static_cast<std::uint32_t>(i % sources));
    if (bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) Die("bind");
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(port);
    dst.sin_addr.s_addr = htonl(0x7F000001u);
    if (connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0) Die("connect");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  }
  std::vector<epoll_event> events(1024);
  std::vector<char> buf(64 * 1024);
  std::size_t got = 0;
  while (got < total) {
    const int k = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 10'000);
    if (k <= 0) return 1;  // the parent stopped sending
    for (int i = 0; i < k; ++i) {
      const ssize_t r = read(events[static_cast<std::size_t>(i)].data.fd, buf.data(), buf.size());
      if (r <= 0) return 1;
      got += static_cast<std::size_t>(r);
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t connections = 15000, rounds = 20, size = 150, per_send = 1, sources = 8;
  double pause_ms = 100;
  CLI::App app{"fg-sendfloor: kernel CPU per loopback TCP send (no gateway)"};
  app.add_option("--connections", connections)->capture_default_str();
  app.add_option("--rounds", rounds, "sends to every connection")->capture_default_str();
  app.add_option("--size", size, "bytes per message")->capture_default_str();
  app.add_option("--per-send", per_send, "messages gathered into one send")->capture_default_str();
  app.add_option("--sources", sources, "source addresses 127.0.0.2..")->capture_default_str();
  app.add_option("--pause-ms", pause_ms, "pause between rounds (lets the reader drain)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (connections == 0 || rounds == 0 || size == 0 || per_send == 0 || per_send > 64 || sources == 0 || sources > 250) {
    std::fprintf(stderr, "sendfloor: bad arguments\n");
    return 2;
  }

  const int lfd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(0x7F000001u);
  if (bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(lfd, 4096) != 0) Die("listen");
  socklen_t len = sizeof addr;
  getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len);
  const std::uint16_t port = ntohs(addr.sin_port);
  const std::size_t total = connections * rounds * per_send * size;

  const pid_t child = fork();
  if (child < 0) Die("fork");
  if (child == 0) _exit(Reader(port, connections, sources, total));

  std::vector<int> fds;
  fds.reserve(connections);
  while (fds.size() < connections) {
    const int fd = accept(lfd, nullptr, nullptr);
    if (fd < 0) Die("accept");
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fds.push_back(fd);
  }
  const std::string message(size, 'x');
  std::vector<iovec> iov(per_send, iovec{const_cast<char*>(message.data()), message.size()});
  std::uint64_t sends = 0, partial = 0;
  double cpu = 0, wall = 0;
  for (std::size_t r = 0; r < rounds; ++r) {
    std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(pause_ms));
    const double c0 = CpuSeconds();
    const auto t0 = std::chrono::steady_clock::now();
    for (int fd : fds) {
      msghdr msg{};
      msg.msg_iov = iov.data();
      msg.msg_iovlen = iov.size();
      const ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);  // blocking: the reader keeps up
      if (n < 0) Die("sendmsg");
      if (static_cast<std::size_t>(n) != size * per_send) ++partial;
      ++sends;
    }
    wall += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    cpu += CpuSeconds() - c0;
  }
  int status = 0;
  waitpid(child, &status, 0);
  const double deliveries = static_cast<double>(sends * per_send);
  std::printf(
      "{\"connections\":%zu,\"rounds\":%zu,\"size\":%zu,\"per_send\":%zu,\"sends\":%llu,\"partial_sends\":%llu,"
      "\"cpu_us_per_send\":%.3f,\"cpu_us_per_delivery\":%.3f,\"wall_ms_per_round\":%.2f,\"reader_ok\":%s}\n",
      connections, rounds, size, per_send, static_cast<unsigned long long>(sends),
      static_cast<unsigned long long>(partial), cpu * 1e6 / static_cast<double>(sends), cpu * 1e6 / deliveries,
      wall * 1e3 / static_cast<double>(rounds), WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "true" : "false");
  for (int fd : fds) close(fd);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
