#include "net/loops.hpp"

#include <spdlog/spdlog.h>

namespace fg::net {
namespace {
thread_local std::size_t t_loop_index = static_cast<std::size_t>(-1);
}

Loops::Loops(std::size_t count) {
  if (count == 0) count = 1;
  for (std::size_t i = 0; i < count; ++i) {
    contexts_.push_back(std::make_unique<boost::asio::io_context>(1));
    guards_.emplace_back(contexts_.back()->get_executor());
  }
}

Loops::~Loops() {
  Stop();
  Join();
}

boost::asio::io_context& Loops::Next() {
  return *contexts_[next_.fetch_add(1) % contexts_.size()];
}

std::size_t Loops::CurrentIndex() const {
  return t_loop_index < contexts_.size() ? t_loop_index : contexts_.size();
}

void Loops::Start() {
  for (std::size_t i = 0; i < contexts_.size(); ++i) {
    threads_.emplace_back([this, i] {
      t_loop_index = i;
      for (;;) {
        try {
          contexts_[i]->run();
          return;
        } catch (const std::exception& e) {
          spdlog::error("loop {}: unhandled exception: {}", i, e.what());
        }
      }
    });
  }
}

void Loops::Stop() {
  for (auto& g : guards_) g.reset();
  for (auto& c : contexts_) c->stop();
}

void Loops::Join() {
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

}  // namespace fg::net
