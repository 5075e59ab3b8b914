// Module entry of nlc_addon: the NativeBinding of lib/native/types.ts.
#include "binding.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/resource.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace nlc {

Napi::Object MakeConstants(Napi::Env env) {
  Napi::Object c = Napi::Object::New(env);
  auto set = [&](const char* name, double value) { c.Set(name, Napi::Number::New(env, value)); };
#define NLC_CONST(name) set(#name, name)
  NLC_CONST(CLONE_NEWNS);
  NLC_CONST(CLONE_NEWUTS);
  NLC_CONST(CLONE_NEWIPC);
  NLC_CONST(CLONE_NEWNET);
  NLC_CONST(CLONE_NEWPID);
  NLC_CONST(CLONE_NEWUSER);
  NLC_CONST(CLONE_NEWCGROUP);
  NLC_CONST(CLONE_NEWTIME);

  NLC_CONST(O_PATH);
  NLC_CONST(O_RDONLY);
  NLC_CONST(O_WRONLY);
  NLC_CONST(O_RDWR);
  NLC_CONST(O_NONBLOCK);
  NLC_CONST(O_CLOEXEC);
  NLC_CONST(O_NOCTTY);
  NLC_CONST(O_CREAT);
  NLC_CONST(O_EXCL);
  NLC_CONST(O_TRUNC);
  NLC_CONST(O_APPEND);
  NLC_CONST(O_DIRECTORY);
  NLC_CONST(O_NOFOLLOW);

  NLC_CONST(RLIMIT_CPU);
  NLC_CONST(RLIMIT_FSIZE);
  NLC_CONST(RLIMIT_DATA);
  NLC_CONST(RLIMIT_STACK);
  NLC_CONST(RLIMIT_CORE);
  NLC_CONST(RLIMIT_RSS);
  NLC_CONST(RLIMIT_NPROC);
  NLC_CONST(RLIMIT_NOFILE);
  NLC_CONST(RLIMIT_MEMLOCK);
  NLC_CONST(RLIMIT_AS);
  NLC_CONST(RLIMIT_LOCKS);
  NLC_CONST(RLIMIT_SIGPENDING);
  NLC_CONST(RLIMIT_MSGQUEUE);
  NLC_CONST(RLIMIT_NICE);
  NLC_CONST(RLIMIT_RTPRIO);
  NLC_CONST(RLIMIT_RTTIME);

  NLC_CONST(MS_RDONLY);
  NLC_CONST(MS_NOSUID);
  NLC_CONST(MS_NODEV);
  NLC_CONST(MS_NOEXEC);
  NLC_CONST(MS_SYNCHRONOUS);
  NLC_CONST(MS_REMOUNT);
  NLC_CONST(MS_MANDLOCK);
  NLC_CONST(MS_DIRSYNC);
  NLC_CONST(MS_NOATIME);
  NLC_CONST(MS_NODIRATIME);
  NLC_CONST(MS_BIND);
  NLC_CONST(MS_MOVE);
  NLC_CONST(MS_REC);
  NLC_CONST(MS_SILENT);
  NLC_CONST(MS_UNBINDABLE);
  NLC_CONST(MS_PRIVATE);
  NLC_CONST(MS_SLAVE);
  NLC_CONST(MS_SHARED);
  NLC_CONST(MS_RELATIME);
  NLC_CONST(MS_STRICTATIME);
  NLC_CONST(MS_LAZYTIME);

  NLC_CONST(IN_ACCESS);
  NLC_CONST(IN_MODIFY);
  NLC_CONST(IN_ATTRIB);
  NLC_CONST(IN_CLOSE_WRITE);
  NLC_CONST(IN_OPEN);
  NLC_CONST(IN_CREATE);
  NLC_CONST(IN_DELETE);
  NLC_CONST(IN_DELETE_SELF);
  NLC_CONST(IN_MOVE_SELF);
  NLC_CONST(IN_IGNORED);
  NLC_CONST(IN_Q_OVERFLOW);
#undef NLC_CONST
  c.Freeze();
  return c;
}

Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  env.SetInstanceData(data);  // deleted by node-addon-api when the env goes away
  InitSpawn(env, exports);
  InitPidfd(env, exports, data);
  InitChannel(env, exports, data);
  InitSys(env, exports);
  InitMkdir(env, exports);
  InitSeccomp(env, exports);
  InitBpf(env, exports);
  InitNotify(env, exports, data);
  exports.Set("constants", MakeConstants(env));
  return exports;
}

}  // namespace nlc

static Napi::Object Init(Napi::Env env, Napi::Object exports) { return nlc::InitAddon(env, exports); }
NODE_API_MODULE(nlc_addon, Init)
