// Temporary directories for a run's binaries, data and ready files. Each
// records the pid of the process that made it, so a later run removes those
// of runs that were killed before they could clean up (their processes died
// with them: see processes.ts).
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ownerFile = "owner.pid";

/** A new directory in the system's temporary directory, named prefix + something random. */
export async function makeWorkDir(prefix: string): Promise<string> {
  await removeStale(prefix);
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await writeFile(join(dir, ownerFile), String(process.pid));
  return dir;
}

async function removeStale(prefix: string): Promise<void> {
  for (const name of await readdir(tmpdir())) {
    if (!name.startsWith(prefix)) continue;
    const dir = join(tmpdir(), name);
    const owner = Number(await readFile(join(dir, ownerFile), "utf8").catch(() => "0"));
    if (!(owner > 0) || alive(owner)) continue; // no pid yet: a run that is just starting
    await rm(dir, { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
