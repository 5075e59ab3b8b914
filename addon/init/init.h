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

[[noreturn]] void runInit(Bootstrap& plan, SyncSocket& sync);
[[noreturn]] void runExec(Bootstrap& plan, SyncSocket& sync);

}  // namespace nlc
