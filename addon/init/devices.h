// Device nodes and /dev symlinks inside the rootfs, made before pivot_root (stage "devices").
#pragma once
#include "rootfs.h"

namespace nlc {

// Port of runc's createDevices: the default nodes (null, zero, full, tty, random, urandom)
// when plan.defaultDevices, then plan.devices. Where mknod is refused (user namespace), the
// host's node is bind-mounted instead (runc's bindMountDeviceNode). rootFd is an fd of the
// rootfs (its own bind mount); every path is resolved inside it.
void createDevices(int rootFd, const RootfsPlan& plan);

// Port of runc's setupDevSymlinks and setupPtmx: /dev/fd, stdin, stdout, stderr, core
// (when the host has /proc/kcore) and /dev/ptmx -> pts/ptmx.
void setupDevSymlinks(int rootFd);

}  // namespace nlc
