// Errors shaped like Node's SystemError: `code` is the errno name, `errno` the number,
// `syscall` the failing call, and `path` when a path was involved. The message keeps the
// operation first so a log line reads on its own: "spawn: clone: EINVAL (Invalid argument)".
#pragma once

#include <napi.h>

#include <cstring>
#include <string>

namespace nlc {

inline std::string ErrnoName(int err) {
  const char* name = strerrorname_np(err);
  return name ? name : "errno " + std::to_string(err);
}

// `detail` (e.g. a BPF verifier log) goes on lines of its own after the errno.
inline Napi::Error MakeErrnoError(Napi::Env env, int err, const char* operation, const char* syscall,
                                  const char* path = nullptr, const std::string& detail = {}) {
  const char* desc = strerrordesc_np(err);
  std::string message = operation;
  if (syscall && std::strcmp(syscall, operation) != 0) message += std::string(": ") + syscall;
  if (path) message += std::string(" ") + path;
  message += ": " + ErrnoName(err);
  if (desc) message += std::string(" (") + desc + ")";
  if (!detail.empty()) message += "\n" + detail;
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, ErrnoName(err)));
  error.Set("errno", Napi::Number::New(env, err));
  error.Set("syscall", Napi::String::New(env, syscall ? syscall : operation));
  if (path) error.Set("path", Napi::String::New(env, path));
  return error;
}

// Throws and returns undefined, so a binding can `return ThrowErrno(...)`.
inline Napi::Value ThrowErrno(Napi::Env env, int err, const char* operation, const char* syscall = nullptr,
                              const char* path = nullptr) {
  MakeErrnoError(env, err, operation, syscall, path).ThrowAsJavaScriptException();
  return env.Undefined();
}

inline Napi::Value ThrowType(Napi::Env env, const std::string& message) {
  Napi::TypeError::New(env, message).ThrowAsJavaScriptException();
  return env.Undefined();
}

inline Napi::Value ThrowRange(Napi::Env env, const std::string& message) {
  Napi::RangeError::New(env, message).ThrowAsJavaScriptException();
  return env.Undefined();
}

}  // namespace nlc
