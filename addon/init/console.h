// process.terminal: the container process's pseudo-terminal (port of runc's setupConsole and
// system.Setctty).
#pragma once

#include "bootstrap.h"
#include "sync.h"

namespace nlc {

// Inside the container (after pivot_root, or after joining its mount namespace): a pty from
// the container's own /dev/ptmx, sized to consoleSize; its master goes to the parent as
// procConsole (SCM_RIGHTS) and is closed here; the slave, opened through the master
// (TIOCGPTPEER, no path lookup in /dev/pts), becomes the controlling terminal of a new
// session and fds 0, 1 and 2.
// onDevConsole: the init's pty is also bound on /dev/console (runc mounts it for the init only,
// not for an exec'd process).
void setupConsole(const ProcessPlan& process, SyncSocket& sync, bool onDevConsole);

}  // namespace nlc
