// Two operations released at the same moment, one on a new thread and one
// on the caller's, for races that need both sides to overlap.
#pragma once

#include <atomic>
#include <thread>

namespace gmt {

template <typename A, typename B>
void RunTogether(A&& on_thread, B&& here) {
  std::atomic<int> ready{0};
  std::thread t([&] {
    ready++;
    while (ready.load() < 2) {
    }
    on_thread();
  });
  ready++;
  while (ready.load() < 2) {
  }
  here();
  t.join();
}

}  // namespace gmt
