#include "tools/patchq/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "common/fd.h"
#include "tools/patchq/error.h"

extern char** environ;

namespace patchq {
namespace {

using common::UniqueFd;

void MakePipe(UniqueFd& r, UniqueFd& w) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) throw Error(std::string("pipe: ") + std::strerror(errno));
  r = UniqueFd(p[0]);
  w = UniqueFd(p[1]);
}

std::vector<std::string> BuildEnv(const RunOptions& opts) {
  std::set<std::string> drop(opts.unset_env.begin(), opts.unset_env.end());
  for (const auto& [k, v] : opts.env) drop.insert(k);
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string s(*e);
    std::string key = s.substr(0, s.find('='));
    if (!drop.count(key)) env.push_back(s);
  }
  for (const auto& [k, v] : opts.env) env.push_back(k + "=" + v);
  return env;
}

}  // namespace

std::string CommandLine(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) {
    if (!s.empty()) s += ' ';
    s += a;
  }
  return s;
}

RunResult Run(const std::vector<std::string>& argv, const RunOptions& opts) {
  if (argv.empty()) throw Error("internal: empty command");
  UniqueFd in_r, in_w, out_r, out_w, err_r, err_w, exec_r, exec_w;
  MakePipe(in_r, in_w);
  MakePipe(out_r, out_w);
  MakePipe(err_r, err_w);
  MakePipe(exec_r, exec_w);  // reports exec failure; closed by a successful exec

  // Everything the child needs is prepared before fork.
  std::vector<std::string> env = BuildEnv(opts);
  std::vector<char*> cargv, cenv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (const auto& e : env) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);

  pid_t pid = ::fork();
  if (pid < 0) throw Error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::dup2(in_r.get(), 0);
    ::dup2(out_w.get(), 1);
    if (opts.merge_stderr) {
      ::dup2(out_w.get(), 2);
    } else if (!opts.pass_through_stderr) {
      ::dup2(err_w.get(), 2);
    }
    int e = 0;
    if (!opts.cwd.empty() && ::chdir(opts.cwd.c_str()) != 0) {
      e = errno;
    } else {
      ::execvpe(cargv[0], cargv.data(), cenv.data());
      e = errno;
    }
    ssize_t n = ::write(exec_w.get(), &e, sizeof e);
    (void)n;
    ::_exit(127);
  }
  in_r.reset();
  out_w.reset();
  err_w.reset();
  exec_w.reset();

  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(exec_r.get(), &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  bool exec_failed = n == static_cast<ssize_t>(sizeof child_errno);

  RunResult res;
  size_t in_off = 0;
  if (opts.input.empty() || exec_failed) in_w.reset();
  // Writing stdin while reading both outputs avoids pipe deadlocks.
  struct sigaction ign {}, old {};
  ign.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ign, &old);
  while (out_r.get() >= 0 || err_r.get() >= 0 || in_w.get() >= 0) {
    pollfd fds[3];
    int nf = 0;
    int io = -1, ie = -1, ii = -1;
    if (out_r.get() >= 0) { io = nf; fds[nf++] = {out_r.get(), POLLIN, 0}; }
    if (err_r.get() >= 0) { ie = nf; fds[nf++] = {err_r.get(), POLLIN, 0}; }
    if (in_w.get() >= 0) { ii = nf; fds[nf++] = {in_w.get(), POLLOUT, 0}; }
    if (::poll(fds, nf, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    char buf[65536];
    auto drain = [&](int idx, UniqueFd& fd, std::string& dst) {
      if (idx < 0 || !(fds[idx].revents & (POLLIN | POLLHUP | POLLERR))) return;
      ssize_t r = ::read(fd.get(), buf, sizeof buf);
      if (r > 0) {
        dst.append(buf, static_cast<size_t>(r));
      } else if (r == 0 || errno != EINTR) {
        fd.reset();
      }
    };
    drain(io, out_r, res.out);
    drain(ie, err_r, res.err);
    if (ii >= 0 && (fds[ii].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t w = ::write(in_w.get(), opts.input.data() + in_off, opts.input.size() - in_off);
      if (w > 0) in_off += static_cast<size_t>(w);
      if (w < 0 && errno != EINTR) in_w.reset();
      if (in_off >= opts.input.size()) in_w.reset();
    }
  }
  ::sigaction(SIGPIPE, &old, nullptr);

  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (exec_failed) {
    throw Error("cannot run '" + argv[0] + "'" +
                (opts.cwd.empty() ? "" : " in " + opts.cwd) + ": " + std::strerror(child_errno));
  }
  res.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return res;
}

std::string RunChecked(const std::vector<std::string>& argv, const RunOptions& opts) {
  RunResult r = Run(argv, opts);
  if (!r.ok()) {
    std::string err = r.err.empty() ? r.out : r.err;
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
    throw Error("'" + CommandLine(argv) + "' failed (exit " + std::to_string(r.status) +
                ")" + (err.empty() ? "" : ":\n" + err));
  }
  return r.out;
}

}  // namespace patchq
