// One process owns an embedded data directory. PGlite has no lock of its own: a second process
// opening the same directory (a CLI next to the server, a second server) writes into files the
// first one holds in memory, and one of them silently loses its writes.
//
// The lock is a file next to the directory, created with O_EXCL, holding the owner's PID and
// process start time. Not a heartbeat (mtime) lock such as proper-lockfile: PGlite runs its
// queries synchronously on the main thread, so a long migration would stall the heartbeat and let
// a second process take a lock whose owner is alive. A PID lock is stale exactly when its owner
// is gone, which a takeover can check at once instead of waiting out a timeout.
import {
  closeSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { hostname } from "node:os";
import path from "node:path";

export type LockRole = "server" | "cli";

export interface LockHolder {
  pid: number;
  /** Kernel start time of the process (Linux), so a reused PID is not taken for the owner. */
  startTime?: string;
  startedAt: string;
  role: LockRole;
  host: string;
}

export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: LockHolder,
  ) {
    super(
      `the embedded database ${dataDir} is in use by a keygate ${holder.role} (PID ${holder.pid}, since ${holder.startedAt}); ` +
        (holder.role === "server"
          ? `only one process may open it: stop that server first (kill -TERM ${holder.pid}), give this one its own DATA_DIR, or use DATABASE_URL (PostgreSQL) to run several instances`
          : `wait until that command has finished`),
    );
    this.name = "DataDirLockedError";
  }
}

export interface DataDirLock {
  file: string;
  release(): void;
}

export function lockFileOf(dataDir: string): string {
  return `${path.resolve(dataDir)}.lock`;
}

function processStartTime(pid: number | "self"): string | undefined {
  try {
    // Field 22 of /proc/<pid>/stat; the command name (field 2) may hold spaces, so count after it.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

function isAlive(holder: LockHolder): boolean {
  if (holder.host !== hostname()) return true; // a shared volume: we cannot see that process, so respect it
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
  }
  if (!holder.startTime) return true;
  const now = processStartTime(holder.pid);
  return now === undefined || now === holder.startTime;
}

function readHolder(file: string): LockHolder | undefined {
  try {
    const holder = JSON.parse(readFileSync(file, "utf8")) as LockHolder;
    return typeof holder.pid === "number" ? holder : undefined;
  } catch {
    return undefined;
  }
}

/** The live holder of the directory's lock, if any. */
/**
 * Takes the lock or throws DataDirLockedError naming the live holder. A lock left by a dead
 * process is taken over. The parent directory must exist.
 */
export function lockDataDir(dataDir: string, role: LockRole): DataDirLock {
  const file = lockFileOf(dataDir);
  const me: LockHolder = {
    pid: process.pid,
    startTime: processStartTime("self"),
    startedAt: new Date().toISOString(),
    role,
    host: hostname(),
  };
  const content = `${JSON.stringify(me)}\n`;
  // Written whole under a private name, then linked into place: link() fails if the lock exists,
  // and a reader never sees a half-written lock.
  const draft = `${file}.${process.pid}.${Date.now()}`;
  const fd = openSync(draft, "wx", 0o600);
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(draft, file);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const holder = readHolder(file);
      if (holder && isAlive(holder)) throw new DataDirLockedError(path.resolve(dataDir), holder);
      if (attempt >= 5) throw new Error(`cannot take the lock ${file}: it keeps changing`);
      // Stale (or unreadable: its owner died between open and write). Moved aside rather than
      // deleted: if another process took the lock over a moment ago, what we moved is its live
      // lock, and it goes back.
      const aside = `${file}.stale.${process.pid}`;
      try {
        renameSync(file, aside);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") continue;
        throw error;
      }
      const moved = readHolder(aside);
      if (moved && isAlive(moved)) {
        try {
          linkSync(aside, file);
        } catch {
          // a third process took the free name meanwhile: its lock stands
        }
        unlinkSync(aside);
        throw new DataDirLockedError(path.resolve(dataDir), moved);
      }
      unlinkSync(aside);
    }
  } finally {
    unlinkSync(draft);
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off("exit", release);
    // Only our own lock: never delete one a later owner took after ours was judged stale.
    if (readHolder(file)?.pid === process.pid) {
      try {
        unlinkSync(file);
      } catch {
        // already gone
      }
    }
  };
  // A process that exits without closing the database (process.exit in a handler) still frees it.
  process.on("exit", release);
  return { file, release };
}
