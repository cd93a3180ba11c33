import { spawnSync } from "node:child_process";

/** One established TCP connection of a process, with the kernel's TCP_NODELAY flag for it. */
export interface TcpConnection {
  localPort: number;
  remotePort: number;
  noDelay: boolean;
}

/** The established TCP connections of `pid` (default: this process), read by tcp-sockets.py. */
export function tcpConnections(pid = process.pid): TcpConnection[] {
  const script = new URL("./tcp-sockets.py", import.meta.url).pathname;
  const r = spawnSync("python3", [script, String(pid)], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`tcp-sockets.py failed (${r.status}): ${r.stderr || r.error?.message}`);
  return JSON.parse(r.stdout) as TcpConnection[];
}
