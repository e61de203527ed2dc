// Result<T>: a value or an Error that says what kind of failure it is, what
// failed, the errno, and what the user can do about it.  Context is prepended on the way up, so the one
// line printed at the top reads outermost-first:
//   "launching guest: creating guest_memfd (64 MiB): KVM_CREATE_GUEST_MEMFD:
//    Invalid argument (errno 22); hint: ..."
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <variant>

namespace gmem {

// What kind of failure an error is.  Only main() turns a kind into a
// process exit status; the library never decides how the program exits.
enum class ErrorKind {
  kUnsupported,        // the running kernel lacks what was asked for
  kInvalidArgument,    // bad option, bad size, corrupt payload
  kResourceExhausted,  // the host cannot give that much (memory)
  kGuestFault,         // the guest did something wrong
  kHostFailure,        // an ioctl/syscall failed unexpectedly
};

const char* ErrorKindName(ErrorKind k);

class Error {
 public:
  static Error Sys(std::string op, int err, std::string hint = {},
                   ErrorKind kind = ErrorKind::kHostFailure) {
    Error e;
    e.message_ = std::move(op) + ": " + std::strerror(err) + " (errno " +
                 std::to_string(err) + ")";
    e.errno_ = err;
    e.hint_ = std::move(hint);
    e.kind_ = kind;
    return e;
  }
  static Error Msg(std::string msg, ErrorKind kind = ErrorKind::kHostFailure,
                   std::string hint = {}) {
    Error e;
    e.message_ = std::move(msg);
    e.hint_ = std::move(hint);
    e.kind_ = kind;
    return e;
  }
  Error&& Context(const std::string& what) && {
    message_ = what + ": " + message_;
    return std::move(*this);
  }

  const std::string& message() const { return message_; }
  const std::string& hint() const { return hint_; }
  int err() const { return errno_; }  // 0: not from a system call
  ErrorKind kind() const { return kind_; }
  // The single line printed for the user.
  std::string What() const {
    return hint_.empty() ? message_ : message_ + "; hint: " + hint_;
  }

 private:
  std::string message_;
  std::string hint_;
  int errno_ = 0;
  ErrorKind kind_ = ErrorKind::kHostFailure;
};

inline const char* ErrorKindName(ErrorKind k) {
  switch (k) {
    case ErrorKind::kUnsupported: return "unsupported";
    case ErrorKind::kInvalidArgument: return "invalid_argument";
    case ErrorKind::kResourceExhausted: return "resource_exhausted";
    case ErrorKind::kGuestFault: return "guest_fault";
    case ErrorKind::kHostFailure: return "host_failure";
  }
  return "host_failure";
}

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
