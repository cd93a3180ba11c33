"""Print the established TCP connections of a process, with the kernel's TCP_NODELAY for each.

Usage: python3 tcp-sockets.py PID. Output: a JSON list of {localPort, remotePort, noDelay}.
Each socket is borrowed with pidfd_getfd(2) (Linux 5.6+, needs ptrace rights over PID: same user
or root) and its option read with getsockopt(2): what the kernel does, not what Node.js reports.
"""
import ctypes
import json
import os
import socket
import sys

SYS_PIDFD_GETFD = 438  # the same number on x86-64 and arm64
pid = int(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)

established = {}
for table in ("tcp", "tcp6"):
    try:
        with open(f"/proc/{pid}/net/{table}") as f:
            rows = f.read().splitlines()[1:]
    except FileNotFoundError:
        continue
    for row in rows:
        col = row.split()
        if col[3] != "01":  # TCP_ESTABLISHED
            continue
        established[col[9]] = (int(col[1].rsplit(":", 1)[1], 16), int(col[2].rsplit(":", 1)[1], 16))

pidfd = os.pidfd_open(pid)
out = []
for fd in os.listdir(f"/proc/{pid}/fd"):
    try:
        link = os.readlink(f"/proc/{pid}/fd/{fd}")
    except OSError:
        continue  # closed meanwhile
    inode = link[len("socket:[") : -1] if link.startswith("socket:[") else None
    if inode not in established:
        continue
    dup = libc.syscall(SYS_PIDFD_GETFD, pidfd, int(fd), 0)
    if dup < 0:
        err = ctypes.get_errno()
        if err == 9:  # EBADF: closed meanwhile
            continue
        raise OSError(err, f"pidfd_getfd({pid}, {fd}): {os.strerror(err)}")
    s = socket.socket(fileno=dup)
    try:
        nodelay = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        s.close()
    local, remote = established[inode]
    out.append({"localPort": local, "remotePort": remote, "noDelay": nodelay})
print(json.dumps(out))
