#!/usr/bin/python3
"""Run a program as a CentOS 5 kernel (Linux 2.6.18, x86_64) would treat its
system calls, so that the first-boot helper can be tested for the nodes it
ships to on this much newer kernel.

A seccomp filter makes the running kernel answer like 2.6.18 where the two
differ in ways a static musl program can meet:
- every system call added after 2.6.18 (x86_64 numbers 280 and up: pipe2,
  dup3, accept4, epoll_create1, getrandom, statx, ...) fails with ENOSYS;
- socket()/socketpair() with SOCK_CLOEXEC or SOCK_NONBLOCK in the type
  (2.6.27) fail with EINVAL;
- fcntl(F_DUPFD_CLOEXEC) (2.6.24) fails with EINVAL;
- futex() with FUTEX_PRIVATE_FLAG (2.6.22) fails with ENOSYS.
open()'s O_CLOEXEC (2.6.23) needs nothing: old kernels ignore unknown open
flags.

Usage: el5-syscalls.py PROGRAM [ARG...]   (uses Debian's python3-seccomp)
"""
import errno
import os
import sys

import seccomp

LAST_2_6_18_SYSCALL = 279  # move_pages, new in 2.6.18
HIGHEST = 470
SOCK_NONBLOCK = 0o4000
SOCK_CLOEXEC = 0o2000000
F_DUPFD_CLOEXEC = 1030
FUTEX_PRIVATE_FLAG = 128


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for nr in range(LAST_2_6_18_SYSCALL + 1, HIGHEST):
        try:
            f.add_rule(seccomp.ERRNO(errno.ENOSYS), nr)
        except (RuntimeError, ValueError, OSError):
            pass  # a number this libseccomp does not know
    for call in ("socket", "socketpair"):
        for flag in (SOCK_CLOEXEC, SOCK_NONBLOCK):
            f.add_rule(seccomp.ERRNO(errno.EINVAL), call,
                       seccomp.Arg(1, seccomp.MASKED_EQ, flag, flag))
    f.add_rule(seccomp.ERRNO(errno.EINVAL), "fcntl",
               seccomp.Arg(1, seccomp.EQ, F_DUPFD_CLOEXEC))
    f.add_rule(seccomp.ERRNO(errno.ENOSYS), "futex",
               seccomp.Arg(1, seccomp.MASKED_EQ, FUTEX_PRIVATE_FLAG, FUTEX_PRIVATE_FLAG))
    f.load()
    os.execv(sys.argv[1], sys.argv[1:])


if __name__ == "__main__":
    main()
