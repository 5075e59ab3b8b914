// Argument conversion for the bindings. The TS layer validates options with precise messages
// first; these checks only keep bad values from reaching a syscall. Each helper throws a
// TypeError/RangeError and returns nullopt on bad input.
#pragma once

#include <napi.h>

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "errno_error.h"

namespace nlc {

inline std::optional<int64_t> ToInteger(Napi::Value value, const char* what, int64_t min, int64_t max) {
  Napi::Env env = value.Env();
  if (!value.IsNumber()) {
    ThrowType(env, std::string(what) + " must be a number");
    return std::nullopt;
  }
  double d = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::trunc(d) != d || d < static_cast<double>(min) || d > static_cast<double>(max)) {
    ThrowRange(env, std::string(what) + " must be an integer in [" + std::to_string(min) + ", " +
                        std::to_string(max) + "]");
    return std::nullopt;
  }
  return static_cast<int64_t>(d);
}

inline std::optional<int> ToInt(Napi::Value value, const char* what, int min = INT32_MIN, int max = INT32_MAX) {
  auto v = ToInteger(value, what, min, max);
  if (!v) return std::nullopt;
  return static_cast<int>(*v);
}

inline std::optional<int> ToFd(Napi::Value value, const char* what) { return ToInt(value, what, 0); }

inline std::optional<std::string> ToString(Napi::Value value, const char* what) {
  if (!value.IsString()) {
    ThrowType(value.Env(), std::string(what) + " must be a string");
    return std::nullopt;
  }
  return value.As<Napi::String>().Utf8Value();
}

inline std::optional<std::vector<std::string>> ToStringArray(Napi::Value value, const char* what) {
  Napi::Env env = value.Env();
  if (!value.IsArray()) {
    ThrowType(env, std::string(what) + " must be an array of strings");
    return std::nullopt;
  }
  auto array = value.As<Napi::Array>();
  std::vector<std::string> out;
  out.reserve(array.Length());
  for (uint32_t i = 0; i < array.Length(); i++) {
    Napi::Value item = array.Get(i);
    if (!item.IsString()) {
      ThrowType(env, std::string(what) + "[" + std::to_string(i) + "] must be a string");
      return std::nullopt;
    }
    std::string s = item.As<Napi::String>().Utf8Value();
    if (s.find('\0') != std::string::npos) {
      ThrowType(env, std::string(what) + "[" + std::to_string(i) + "] must not contain NUL bytes");
      return std::nullopt;
    }
    out.push_back(std::move(s));
  }
  return out;
}

inline std::optional<std::vector<int>> ToIntArray(Napi::Value value, const char* what, int min, int max) {
  Napi::Env env = value.Env();
  if (!value.IsArray()) {
    ThrowType(env, std::string(what) + " must be an array of integers");
    return std::nullopt;
  }
  auto array = value.As<Napi::Array>();
  std::vector<int> out;
  out.reserve(array.Length());
  for (uint32_t i = 0; i < array.Length(); i++) {
    std::string name = std::string(what) + "[" + std::to_string(i) + "]";
    auto v = ToInt(array.Get(i), name.c_str(), min, max);
    if (!v) return std::nullopt;
    out.push_back(*v);
  }
  return out;
}

inline Napi::Array ToJsArray(Napi::Env env, const std::vector<int>& values) {
  Napi::Array array = Napi::Array::New(env, values.size());
  for (size_t i = 0; i < values.size(); i++) array.Set(static_cast<uint32_t>(i), Napi::Number::New(env, values[i]));
  return array;
}

}  // namespace nlc
