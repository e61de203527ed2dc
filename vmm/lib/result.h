// Result<T>: a value or an Error that says what failed, the errno, and what
// the user can do about it.  Context is prepended on the way up, so the one
// line printed at the top reads outermost-first:
//   "launching guest: creating guest_memfd (64 MiB): KVM_CREATE_GUEST_MEMFD:
//    Invalid argument (errno 22); hint: ..."
#pragma once

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace gmem {

// Process exit codes (kselftest convention for 4).
enum ExitCode : int {
  kExitPass = 0,
  kExitGuestFailed = 1,
  kExitUsage = 2,        // bad option, bad size, corrupt payload
  kExitHostError = 3,    // an ioctl/syscall failed unexpectedly
  kExitUnsupported = 4,  // SKIP: the running kernel lacks what the mode needs
};

class Error {
 public:
  static Error Sys(std::string op, int err, std::string hint = {},
                   ExitCode code = kExitHostError) {
    Error e;
    e.message_ = std::move(op) + ": " + std::strerror(err) + " (errno " +
                 std::to_string(err) + ")";
    e.errno_ = err;
    e.hint_ = std::move(hint);
    e.code_ = code;
    return e;
  }
  static Error Msg(std::string msg, ExitCode code = kExitHostError,
                   std::string hint = {}) {
    Error e;
    e.message_ = std::move(msg);
    e.hint_ = std::move(hint);
    e.code_ = code;
    return e;
  }
  Error&& Context(const std::string& what) && {
    message_ = what + ": " + message_;
    return std::move(*this);
  }
  Error&& Code(ExitCode c) && {
    code_ = c;
    return std::move(*this);
  }
  Error&& Hint(std::string h) && {
    if (hint_.empty()) hint_ = std::move(h);
    return std::move(*this);
  }

  const std::string& message() const { return message_; }
  const std::string& hint() const { return hint_; }
  int err() const { return errno_; }
  ExitCode code() const { return code_; }
  // The single line printed for the user.
  std::string What() const {
    return hint_.empty() ? message_ : message_ + "; hint: " + hint_;
  }

 private:
  std::string message_;
  std::string hint_;
  int errno_ = 0;
  ExitCode code_ = kExitHostError;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T v) : v_(std::move(v)) {}  // NOLINT: implicit by design
  Result(Error e) : v_(std::move(e)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const T& value() const& { return std::get<0>(v_); }
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

struct Ok {};
using Status = Result<Ok>;

}  // namespace gmem

// GMEM_TRY(expr): evaluates to the value, or returns the error (GNU
// statement expression, as Cuttlefish's CF_EXPECT).
#define GMEM_TRY(expr)                                       \
  ({                                                         \
    auto gmem_try_r_ = (expr);                               \
    if (!gmem_try_r_.ok()) return std::move(gmem_try_r_).error(); \
    std::move(gmem_try_r_).value();                          \
  })
// GMEM_TRY_CTX(expr, "what we were doing"): same, adding context.
#define GMEM_TRY_CTX(expr, ctx)                                         \
  ({                                                                    \
    auto gmem_try_r_ = (expr);                                          \
    if (!gmem_try_r_.ok())                                              \
      return std::move(gmem_try_r_).error().Context(ctx);               \
    std::move(gmem_try_r_).value();                                     \
  })
