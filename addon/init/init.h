// The two runs of the helper: init (a new container, port of runc's nsexec +
// linuxStandardInit.Init) and exec (a process in a running container, port of nsexec +
// linuxSetnsInit.Init). Both only return by throwing.
#pragma once
#include "bootstrap.h"
#include "sync.h"

namespace nlc {

// The stage a non-InitError exception (bad_alloc, ...) is reported under.
extern const char* currentStage;

// First thing in main: non-dumpable, and killed with its parent until set-up is done.
void hardenHelper();

// Once the exec fifo has released the init, the sync socket is closed: a failure before the
// program's execve goes to the parent through the fifo instead ("E" and the procError JSON).
// No-op before that, or when the parent no longer reads.
void reportOnExecFifo(const std::string& procErrorJson);

[[noreturn]] void runInit(Bootstrap& plan, SyncSocket& sync);
[[noreturn]] void runExec(Bootstrap& plan, SyncSocket& sync);

}  // namespace nlc
