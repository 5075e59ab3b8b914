// The sync socket to the parent (docs/protocol.md): one JSON object per SOCK_SEQPACKET
// datagram, fds attached as SCM_RIGHTS.
#pragma once
#include <string>
#include <vector>

#include "fd.h"
#include "json.h"

namespace nlc {

struct SyncMessage {
  std::string type;
  json::Value body;
  std::vector<UniqueFd> fds;  // received O_CLOEXEC
};

// The parent sent procError: the helper must exit 1 at once, without answering.
struct ParentAbort {
  std::string message;
};

class SyncSocket {
 public:
  explicit SyncSocket(int fd) : fd_(fd) {}

  int fd() const { return fd_.get(); }
  bool open() const { return fd_.valid(); }
  // Closing is the "start succeeded" signal to the parent.
  void close() { fd_.reset(); }

  // Send one message; fds stay open in the caller. Failures throw InitError(stage).
  void send(const std::string& stage, const json::Value& message, const std::vector<int>& fds = {});
  // Receive one message. EOF, bad JSON or a missing "type" throw InitError(stage).
  SyncMessage recv(const std::string& stage, const std::string& waitingFor);
  // Receive and require the given type (e.g. "procRun"); procError throws ParentAbort, any
  // other type fails with "unexpected message X, expected Y".
  SyncMessage expect(const std::string& stage, const std::string& type);

 private:
  UniqueFd fd_;
};

}  // namespace nlc
