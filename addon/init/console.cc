#include "console.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <string>

#include "error.h"
#include "log.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

namespace nlc {

void setupConsole(const ProcessPlan& process, SyncSocket& sync) {
  UniqueFd master(::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master.valid()) fail("console", "open", "/dev/ptmx", "opening the container's pty multiplexer");
  int unlock = 0;
  if (::ioctl(master.get(), TIOCSPTLCK, &unlock) < 0) fail("console", "ioctl", "/dev/ptmx", "unlocking the pty (TIOCSPTLCK)");
  if (process.consoleSize) {
    winsize size{};
    size.ws_row = process.consoleSize->height;
    size.ws_col = process.consoleSize->width;
    if (::ioctl(master.get(), TIOCSWINSZ, &size) < 0) fail("console", "ioctl", "/dev/ptmx", "setting the terminal size (TIOCSWINSZ)");
  }
  // The slave through the master itself: a name in /dev/pts could be replaced by the container.
  UniqueFd slave(::ioctl(master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!slave.valid()) fail("console", "ioctl", "/dev/ptmx", "opening the pty's terminal end (TIOCGPTPEER)");

  sync.send("console", json::Value::object({{"type", "procConsole"}}), {master.get()});
  master.reset();

  // A new session whose controlling terminal is the pty, as a login would have.
  if (::setsid() < 0 && ::getsid(0) != ::getpid()) fail("console", "setsid", "", "starting a session for the terminal");
  if (::ioctl(slave.get(), TIOCSCTTY, 0) < 0) fail("console", "ioctl", "", "making the pty the controlling terminal (TIOCSCTTY)");
  for (int target = 0; target <= 2; target++) {
    if (::dup2(slave.get(), target) < 0) fail("console", "dup2", "", "putting the pty on fd " + std::to_string(target));
  }
  log::debug("console: the pty is the controlling terminal and stdio");
}

}  // namespace nlc
