#pragma once
// The new mount API (fsopen, fsconfig, fsmount: linux/mount.h) under our own names, for the
// init helper and the addon alike: glibc declares some of these as enumerators, musl and older
// headers not at all.
#include <sys/syscall.h>

#ifndef SYS_fsopen
#define SYS_fsopen 430
#endif
#ifndef SYS_fsconfig
#define SYS_fsconfig 431
#endif
#ifndef SYS_fsmount
#define SYS_fsmount 432
#endif

namespace nlc {

constexpr unsigned kFsopenCloexec = 0x1;
constexpr unsigned kFsconfigSetFlag = 0;
constexpr unsigned kFsconfigSetString = 1;
constexpr unsigned kFsconfigCmdCreate = 6;
constexpr unsigned kFsconfigCmdReconfigure = 7;
constexpr unsigned kFsmountCloexec = 0x1;
constexpr unsigned kAttrRdonly = 0x1, kAttrNosuid = 0x2, kAttrNodev = 0x4, kAttrNoexec = 0x8;
constexpr unsigned kAttrNoatime = 0x10, kAttrStrictatime = 0x20, kAttrNodiratime = 0x80, kAttrNosymfollow = 0x200000;

}  // namespace nlc
