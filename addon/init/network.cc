#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstring>

#include "error.h"
#include "fd.h"
#include "namespaces.h"

namespace nlc {

// Port of runc's loopback strategy (setupNetwork): only `lo` is ours to configure.
void bringUpLoopback() {
  UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock.valid()) fail("namespaces", "socket", "", "opening a socket to bring up the loopback interface");
  ifreq req{};
  std::strncpy(req.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(sock.get(), SIOCGIFFLAGS, &req) < 0) fail("namespaces", "ioctl", "lo", "reading the loopback interface's flags");
  if (req.ifr_flags & IFF_UP) return;
  req.ifr_flags |= IFF_UP;
  if (::ioctl(sock.get(), SIOCSIFFLAGS, &req) < 0) fail("namespaces", "ioctl", "lo", "bringing up the loopback interface");
}

}  // namespace nlc
