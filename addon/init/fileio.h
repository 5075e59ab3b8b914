// Small whole-file reads and writes (procfs knobs, /etc/passwd).
#pragma once
#include <string>

namespace nlc {

// Read a file of at most maxBytes; false with errno set on failure.
bool readFile(const char* path, std::string& out, size_t maxBytes = 16u << 20);
// Write text to an existing file with one write(2); false with errno set on failure.
bool writeFile(const char* path, const std::string& text);
// Write all of text to fd, retrying short writes and EINTR; false with errno set on failure.
bool writeAll(int fd, const std::string& text);

}  // namespace nlc
