// Shared between the addon's translation units: per-env data and each module's Init.
#pragma once

#include <napi.h>

namespace nlc {

// Constructors of the classes JS never constructs itself (they are made by watchExit,
// openChannel and watchReadable), kept per env so worker threads each get their own.
struct AddonData {
  Napi::FunctionReference exitWatcher;
  Napi::FunctionReference channel;
  Napi::FunctionReference readableWatcher;
};

inline AddonData* GetAddonData(Napi::Env env) { return env.GetInstanceData<AddonData>(); }

void InitSpawn(Napi::Env env, Napi::Object exports);
void InitPidfd(Napi::Env env, Napi::Object exports, AddonData* data);
void InitChannel(Napi::Env env, Napi::Object exports, AddonData* data);
void InitSys(Napi::Env env, Napi::Object exports);
void InitMkdir(Napi::Env env, Napi::Object exports);
void InitBpf(Napi::Env env, Napi::Object exports);
void InitSeccomp(Napi::Env env, Napi::Object exports);
void InitNotify(Napi::Env env, Napi::Object exports, AddonData* data);
Napi::Object MakeConstants(Napi::Env env);
Napi::Object InitAddon(Napi::Env env, Napi::Object exports);

}  // namespace nlc
