/**
 * One writer per store directory. The lock file holds the owner's pid and host; a lock whose process
 * is gone (killed, crashed) is stale and taken over, so a crash never blocks the next open.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TapedeckError } from '../../../domain/core/errors.js';

export const LOCK_FILE = 'LOCK';

export interface LockInfo {
  pid: number;
  host: string;
  acquiredAt: string;
}

/** Whether a process with this pid exists on this host (EPERM: it exists, owned by someone else). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function acquireLock(dir: string): () => void {
  const file = path.join(dir, LOCK_FILE);
  const mine: LockInfo = { pid: process.pid, host: os.hostname(), acquiredAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx');
      fs.writeSync(fd, JSON.stringify(mine));
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      return () => {
        try {
          const cur = JSON.parse(fs.readFileSync(file, 'utf8')) as LockInfo;
          if (cur.pid === process.pid) fs.unlinkSync(file);
        } catch {
          /* already gone */
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let holder: LockInfo | null = null;
    try {
      holder = JSON.parse(fs.readFileSync(file, 'utf8')) as LockInfo;
    } catch {
      holder = null; // half-written lock from a killed process: stale
    }
    if (holder && holder.host === os.hostname() && holder.pid !== process.pid && isProcessAlive(holder.pid)) {
      throw new TapedeckError('STORE_LOCKED', `store ${dir} is held by live process ${holder.pid} (since ${holder.acquiredAt}); stop it or use another store`, { file });
    }
    if (holder && holder.host !== os.hostname()) {
      throw new TapedeckError('STORE_LOCKED', `store ${dir} is locked by host ${holder.host} pid ${holder.pid}; remove ${file} only if that host is down`, { file });
    }
    if (holder && holder.pid === process.pid) {
      throw new TapedeckError('STORE_LOCKED', `store ${dir} is already open in this process`, { file });
    }
    fs.rmSync(file, { force: true }); // stale: its process is gone
  }
  throw new TapedeckError('STORE_LOCKED', `could not take the lock on ${dir}`, { file });
}
