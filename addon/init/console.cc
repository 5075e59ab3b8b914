#include "console.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <string>

#include "error.h"
#include "log.h"
#include "paths.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

namespace nlc {

namespace {

// Port of runc's mountConsole: the pty bound on /dev/console (an empty file made for it if
// there is none), for programs that write to or open the console. Both ends by fd: the
// container cannot swap either name for a symlink meanwhile.
void mountConsole(int slave) {
  UniqueFd created(::open("/dev/console", O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!created.valid() && errno != EEXIST) fail("console", "open", "/dev/console", "creating /dev/console for the pty");
  created.reset();
  UniqueFd target(::open("/dev/console", O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!target.valid()) fail("console", "open", "/dev/console", "opening /dev/console");
  struct stat st;
  if (::fstat(target.get(), &st) < 0) fail("console", "fstat", "/dev/console", "inspecting /dev/console");
  if (S_ISLNK(st.st_mode) || S_ISDIR(st.st_mode)) failPlain("console", "/dev/console", "/dev/console is a symlink or a directory");
  if (::mount(procFdPath(slave).c_str(), procFdPath(target.get()).c_str(), nullptr, MS_BIND, nullptr) < 0)
    fail("console", "mount", "/dev/console", "bind-mounting the pty on /dev/console");
}

}  // namespace

void setupConsole(const ProcessPlan& process, SyncSocket& sync, bool onDevConsole) {
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

  if (onDevConsole) mountConsole(slave.get());

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
