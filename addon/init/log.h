// Log lines to the parent: newline-terminated JSON {"level","msg"} on the log pipe, which
// the parent forwards to debug('node-libcontainer:init'). Logging never fails the init.
#pragma once
#include <string>

namespace nlc::log {

// Start writing to fd (the log pipe's write end); -1 disables logging.
void setFd(int fd);
// Whether debug lines are written (the parent says so in the bootstrap plan).
void setDebug(bool on);
void debug(const std::string& msg);
void info(const std::string& msg);
void warn(const std::string& msg);
void error(const std::string& msg);

}  // namespace nlc::log
