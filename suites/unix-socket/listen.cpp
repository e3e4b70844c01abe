// unix-socket.listen.*: listen(2) on unix sockets.
// Source: listen(2); POSIX.1-2017 listen().
#include "fx/fx.hpp"
#include "fx/socket.hpp"

#include <sys/socket.h>

using namespace fx;

BEHAVIOUR("unix-socket.listen.dgram-fails-eopnotsupp", "[posix]",
          "listen on a unix SOCK_DGRAM socket fails with EOPNOTSUPP",
          "listen(2) ERRORS (EOPNOTSUPP); POSIX.1-2017 listen() ERRORS") {
  TempDir dir;
  Fd s = unix_bound(UnixAddr::path(dir / "s"), SOCK_DGRAM);
  REQUIRE_THAT(sys(::listen(s.get(), 1)), FailsWith(EOPNOTSUPP));
}
