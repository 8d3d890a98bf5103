// The data directory holds every secret the gateway keeps (key hashes, encrypted secrets, the WAL
// with all of them): it is private to the service user, 0700 directories and 0600 files.
//
// A private umask is not enough for PGlite: Emscripten's FS.open chmods every file it creates to
// the mode PostgreSQL asked for, filtered by Emscripten's own umask (0), not the process's; the
// data files end up 0666. PrivateNodeFS strips the group and other bits from every mode PGlite's
// NODEFS sets, when a file is created and when it is chmodded, so nothing is ever private late.
import type { Stats } from "node:fs";
import { chmod, lstat, readdir } from "node:fs/promises";
import path from "node:path";
import { NodeFS } from "@electric-sql/pglite/nodefs";

const PRIVATE = ~0o077;

type Node = unknown;
type Attr = { mode?: number } & Record<string, unknown>;
interface NodefsOps {
  node_ops?: {
    mknod?: (parent: Node, name: string, mode: number, dev: number) => Node;
    setattr?: (node: Node, attr: Attr) => void;
  };
  stream_ops?: { setattr?: (stream: unknown, attr: Attr) => void };
}

const masked = (attr: Attr): Attr =>
  attr.mode === undefined || attr.mode === null ? attr : { ...attr, mode: attr.mode & PRIVATE };

/** NODEFS whose files and directories are created, and stay, private to the process's user. */
export class PrivateNodeFS extends NodeFS {
  /** False when this PGlite build's NODEFS has none of the hooks: the caller must sweep instead. */
  hooked = false;

  override async init(...args: Parameters<NodeFS["init"]>): ReturnType<NodeFS["init"]> {
    const result = await super.init(...args);
    const preRun = result.emscriptenOpts.preRun ?? [];
    preRun.push((mod) => {
      // Each PGlite instance has its own Emscripten module, so this patches only this database's NODEFS.
      const nodefs = mod.NODEFS as unknown as NodefsOps;
      const nodeOps = nodefs.node_ops;
      const streamOps = nodefs.stream_ops;
      const mknod = nodeOps?.mknod;
      const setattr = nodeOps?.setattr;
      const fsetattr = streamOps?.setattr;
      if (!nodeOps || !streamOps || !mknod || !setattr || !fsetattr) return;
      nodeOps.mknod = (parent, name, mode, dev) => mknod(parent, name, mode & PRIVATE, dev);
      nodeOps.setattr = (node, attr) => setattr(node, masked(attr));
      streamOps.setattr = (stream, attr) => fsetattr(stream, masked(attr));
      this.hooked = true;
    });
    return { emscriptenOpts: { ...result.emscriptenOpts, preRun } };
  }
}

/**
 * Takes the group and other bits off `root` and everything under it (0700 directories, 0600 files
 * as PostgreSQL makes them); symlinks are not followed. Returns how many entries were changed.
 */
export async function makePrivate(root: string): Promise<number> {
  let changed = 0;
  const visit = async (entry: string): Promise<void> => {
    let stat: Stats;
    try {
      stat = await lstat(entry);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return; // PostgreSQL removes temp files as we walk
      throw error;
    }
    if (stat.isSymbolicLink()) return;
    if (stat.mode & 0o077) {
      // Group and other bits go; the owner's stay (a directory always keeps its own rwx).
      await chmod(entry, stat.isDirectory() ? 0o700 : stat.mode & 0o700).catch(
        (error: NodeJS.ErrnoException) => {
          if (error.code !== "ENOENT") throw error;
        },
      );
      changed++;
    }
    if (stat.isDirectory()) {
      const names = await readdir(entry).catch((error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT") return [] as string[];
        throw error;
      });
      for (const name of names) await visit(path.join(entry, name));
    }
  };
  await visit(root);
  return changed;
}
