// popen.stream.*: the stream popen returns, its modes and the command behind it.
// Source: popen(3); POSIX.1-2017 popen(). Every scenario runs in a forked child with a
// deadline (a hung command fails the test instead of hanging it) and reports through
// fx::Shared memory.
#include "fx/fx.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

using namespace fx;

namespace {
struct PopenReport {
  bool opened = false;
  int err = 0;             // errno after a failed popen
  char out[128] = {};      // what was read from the stream
  int status = -2;         // pclose's result (a wait status)
  int fd_flags = -1;       // F_GETFD of the stream's descriptor
};

// Reads the whole stream into out (NUL-terminated, truncated to fit).
void read_stream(FILE* f, char (&out)[128]) {
  size_t n = std::fread(out, 1, sizeof out - 1, f);
  out[n] = '\0';
}
}  // namespace

BEHAVIOUR("popen.stream.read-mode-reads-command-stdout", "[posix]",
          "with mode \"r\", reading the stream returns what the command writes to its standard output",
          "popen(3) DESCRIPTION; POSIX.1-2017 popen() DESCRIPTION") {
  Shared<PopenReport> rep;
  auto st = run_in_child([&] {
    FILE* f = ::popen("printf 'line one\\nline two\\n'", "r");
    if (!f) { rep->err = errno; return; }
    rep->opened = true;
    read_stream(f, rep->out);
    rep->status = ::pclose(f);
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE(rep->opened);
  REQUIRE(std::string(rep->out) == "line one\nline two\n");
  REQUIRE(WIFEXITED(rep->status));
  REQUIRE(WEXITSTATUS(rep->status) == 0);
}

BEHAVIOUR("popen.stream.write-mode-feeds-command-stdin", "[posix]",
          "with mode \"w\", the bytes written to the stream are the command's standard input, exactly",
          "popen(3) DESCRIPTION; POSIX.1-2017 popen() DESCRIPTION") {
  TempDir dir;
  std::string const file = dir / "received";
  // Bytes a text-mode or line-buffered path could alter: NUL, CR, no final newline.
  static char const data[] = {'a', '\0', 'b', '\r', '\n', '\xff', 'z'};
  Shared<PopenReport> rep;
  auto st = run_in_child([&] {
    FILE* f = ::popen(("cat > " + file).c_str(), "w");
    if (!f) { rep->err = errno; return; }
    rep->opened = true;
    std::fwrite(data, 1, sizeof data, f);
    rep->status = ::pclose(f);
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE(rep->opened);
  REQUIRE(WIFEXITED(rep->status));
  REQUIRE(WEXITSTATUS(rep->status) == 0);
  REQUIRE(read_file(file) == std::string(data, sizeof data));
}

BEHAVIOUR("popen.stream.command-is-run-by-the-shell", "[posix]",
          "the command string is interpreted by sh -c: pipelines and expansions work in it",
          "popen(3) DESCRIPTION; POSIX.1-2017 popen() DESCRIPTION (as if execl(shell path, \"sh\", \"-c\", command))") {
  Shared<PopenReport> rep;
  auto st = run_in_child([&] {
    FILE* f = ::popen("x=abc; printf '%s' \"$x\" | tr a-c x-z", "r");
    if (!f) { rep->err = errno; return; }
    rep->opened = true;
    read_stream(f, rep->out);
    rep->status = ::pclose(f);
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE(rep->opened);
  REQUIRE(std::string(rep->out) == "xyz");
}

BEHAVIOUR("popen.stream.invalid-mode-fails-einval", "[linux-specific]",
          "a mode that is neither \"r\" nor \"w\" makes popen return NULL with errno EINVAL, running nothing",
          "popen(3) ERRORS (POSIX.1-2017 popen() leaves other modes undefined and EINVAL a 'may fail')") {
  TempDir dir;
  std::string const marker = dir / "ran";
  struct R { bool returned_null = false; int err = 0; } ;
  Shared<R> rep;
  auto st = run_in_child([&] {
    errno = 0;
    FILE* f = ::popen(("touch " + marker).c_str(), "x");
    rep->returned_null = f == nullptr;
    rep->err = errno;
    if (f) ::pclose(f);
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE(rep->returned_null);
  REQUIRE(errno_name(rep->err) == errno_name(EINVAL));
  REQUIRE(::access(marker.c_str(), F_OK) == -1);
}

BEHAVIOUR("popen.stream.read-write-mode-fails-einval", "[linux-specific]",
          "popen streams are one-way: mode \"rw\" makes popen return NULL with errno EINVAL",
          "popen(3) DESCRIPTION ('reading or writing, not both') and ERRORS") {
  struct R { bool returned_null = false; int err = 0; } ;
  Shared<R> rep;
  auto st = run_in_child([&] {
    errno = 0;
    FILE* f = ::popen("true", "rw");
    rep->returned_null = f == nullptr;
    rep->err = errno;
    if (f) ::pclose(f);
  });
  REQUIRE_THAT(st, ExitedWith(0));
  REQUIRE(rep->returned_null);
  REQUIRE(errno_name(rep->err) == errno_name(EINVAL));
}

BEHAVIOUR("popen.stream.e-mode-sets-close-on-exec", "[linux-specific]",
          "modes \"re\" and \"we\" set FD_CLOEXEC on the stream's descriptor; \"r\" and \"w\" do not",
          "popen(3) DESCRIPTION ('e' flag, since glibc 2.9)") {
  struct R { int flags[4] = {-1, -1, -1, -1}; bool opened[4] = {}; };
  Shared<R> rep;
  static char const* const modes[4] = {"re", "we", "r", "w"};
  auto st = run_in_child([&] {
    for (int i = 0; i < 4; ++i) {
      FILE* f = ::popen("true", modes[i]);
      if (!f) continue;
      rep->opened[i] = true;
      rep->flags[i] = ::fcntl(::fileno(f), F_GETFD);
      ::pclose(f);
    }
  });
  REQUIRE_THAT(st, ExitedWith(0));
  for (int i = 0; i < 4; ++i) {
    INFO("mode \"" << modes[i] << "\"");
    REQUIRE(rep->opened[i]);
    REQUIRE(rep->flags[i] != -1);
    bool const want_cloexec = modes[i][1] == 'e';
    REQUIRE(((rep->flags[i] & FD_CLOEXEC) != 0) == want_cloexec);
  }
}
