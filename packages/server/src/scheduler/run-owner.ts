import { hostname } from 'node:os';
import { processAlive } from '../state/index.ts';

/** A run's owner: the process that claimed it, as host:pid. */
export const processOwner = (): string => `${hostname()}:${process.pid}`;

const startedAt = Date.now() - process.uptime() * 1000;

/**
 * Whether the process that claimed a run is known to be gone: it ran on this host and no process
 * has its pid now, or it had this process's pid before this process started (a container's process
 * has the same pid at each start). A process of another host is left to its heartbeats.
 */
export function ownerGone(owner: string, createdAt: string): boolean {
  const at = owner.lastIndexOf(':');
  const pid = Number(owner.slice(at + 1));
  if (at < 0 || owner.slice(0, at) !== hostname() || !Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return Date.parse(createdAt) < startedAt;
  return !processAlive(pid);
}
