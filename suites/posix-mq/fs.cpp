// posix-mq.fs.*: the mqueue filesystem view of queues. Source: mq_overview(7) Mounting the
// message queue filesystem.
#include "fx/fx.hpp"
#include "fx/posix_ipc.hpp"

#include <fcntl.h>

#include <string>

using namespace fx;

BEHAVIOUR("posix-mq.fs.qsize-field-counts-queued-bytes", "[linux-specific]",
          "the QSIZE field of /dev/mqueue/<name> is the number of user bytes in all queued messages",
          "mq_overview(7) Mounting the message queue filesystem (QSIZE); BUGS (fixed in Linux 4.2)") {
  // This suite never mounts anything on the host.
  if (!is_mqueue_mount("/dev/mqueue")) skip("/dev/mqueue is not an mqueue filesystem here");
  auto m = make_posix_mq(O_RDWR, 4, 16);
  REQUIRE(::mq_send(m.get(), "abc", 3, 0) == 0);
  REQUIRE(::mq_send(m.get(), "defgh", 5, 1) == 0);
  std::string line = read_file("/dev/mqueue" + m.name.str());
  INFO(line);
  REQUIRE(line.rfind("QSIZE:", 0) == 0);
  REQUIRE(std::stol(line.substr(6)) == 8);
}
