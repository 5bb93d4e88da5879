// Helpers of the sync tests: a watch running in the background with the
// local copy it keeps, servers of a test's own (to stop, restart and
// configure), and a TCP proxy that can cut the network.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { createClient } from "@connectrpc/connect";
import { inject } from "vitest";
import { startTasksd, type Tasksd } from "../harness/tasksd.js";
import {
  LocalTasks,
  TaskService,
  watchTasks,
  type TaskChange,
  type TaskWatchEvent,
  type TokenSource,
  type WatchTasksOptions,
} from "../src/index.js";
import { mintToken, protocolsAt, type TasksClient } from "./support.js";

/**
 * Polls check until it holds; fails with what after timeoutMs, or at once
 * when failed() says why. The default is well inside vitest's 20 s, so
 * that a wait that never ends says which it was.
 */
export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  { timeoutMs = 12_000, failed }: { timeoutMs?: number; failed?: () => unknown } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const why = failed?.();
    if (why !== undefined) throw new Error(`while waiting for ${what}: ${String(why)}`, { cause: why });
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(20);
  }
}

/** How long a watch may take to end once aborted, before a test says so. */
const stopTimeoutMs = 5_000;

/** watchTasks running in the background: what it yielded, and the local copy it keeps. */
export class Watcher {
  readonly events: TaskWatchEvent[] = [];
  readonly done: Promise<void>;
  error: unknown;
  private readonly controller = new AbortController();

  constructor(
    client: TasksClient,
    options: WatchTasksOptions = {},
    readonly local = new LocalTasks(),
  ) {
    this.done = (async () => {
      try {
        const events = watchTasks(client, { cursor: local.cursor, ...options, signal: this.controller.signal });
        for await (const event of events) {
          this.events.push(event);
          this.local.apply(event);
        }
      } catch (err) {
        this.error = err;
      }
    })();
  }

  /** Waits until check holds, failing early if the watch ended with an error. */
  until(what: string, check: () => boolean, timeoutMs?: number): Promise<void> {
    return until(what, check, { timeoutMs, failed: () => this.error });
  }

  /** Waits for the nth "current" event (1: the first). */
  current(n = 1): Promise<void> {
    return this.until(`"current" #${n}`, () => this.count("current") >= n);
  }

  count(type: TaskWatchEvent["type"]): number {
    return this.events.filter((e) => e.type === type).length;
  }

  /** Every change yielded, in order, as "title" for a task and "-id" for a deletion. */
  changes(): string[] {
    return this.events.flatMap((e) => (e.type === "changes" ? e.changes.map(describe) : []));
  }

  disconnections(): Extract<TaskWatchEvent, { type: "disconnected" }>[] {
    return this.events.filter((e): e is Extract<TaskWatchEvent, { type: "disconnected" }> => e.type === "disconnected");
  }

  /** Ends the watch; rethrows the error it ended with, if any. */
  async stop(): Promise<void> {
    this.controller.abort();
    const ended = await Promise.race([this.done.then(() => true), delay(stopTimeoutMs, false)]);
    if (!ended) {
      throw new Error(`watchTasks did not end within ${stopTimeoutMs} ms of its abort; it had yielded ${this.events.map((e) => e.type).join(", ")}`);
    }
    if (this.error) throw this.error;
  }
}

export function describe(change: TaskChange): string {
  switch (change.change.case) {
    case "task":
      return change.change.value.title;
    case "deletedTaskId":
      return `-${change.change.value}`;
    default:
      return "?";
  }
}

/** Every task of the client's user, id → etag, through ListTasks. */
export async function serverTasks(client: TasksClient): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let pageToken = "";
  do {
    const page = await client.listTasks({ pageSize: 100, pageToken });
    for (const t of page.tasks) out.set(t.id, t.etag);
    pageToken = page.nextPageToken;
  } while (pageToken !== "");
  return out;
}

export function localTasks(local: LocalTasks): Map<string, string> {
  return new Map([...local.tasks.values()].map((t) => [t.id, t.etag]));
}

/**
 * A tasksd of one test's own, on an embedded SQLite database in a directory
 * of its own, with its own secret: it can be stopped and started again on
 * the same data (and port), or a second one started on that data.
 */
export class OwnServer {
  readonly secret = randomBytes(32).toString("hex");
  private server: Tasksd | undefined;
  private starts = 0;

  private constructor(
    readonly dir: string,
    private readonly settings: Record<string, string>,
  ) {}

  static async start(settings: Record<string, string> = {}): Promise<OwnServer> {
    const s = new OwnServer(await mkdtemp(join(tmpdir(), "tasks-sync-test-")), settings);
    await s.start();
    return s;
  }

  get url(): string {
    if (!this.server) throw new Error("the server is stopped");
    return this.server.url;
  }

  /** Starts it (again) on its data; on listenAddr, default a free port. */
  async start(listenAddr?: string): Promise<void> {
    if (this.server) throw new Error("already running");
    const n = ++this.starts;
    this.server = await startTasksd(inject("tasksd"), {
      settings: {
        DATA_DIR: this.dir,
        AUTH_JWT_SECRET: this.secret,
        LISTEN_ADDR: listenAddr,
        ...this.settings,
      },
      dir: this.dir,
      logFile: join(this.dir, `tasksd-${n}.log`),
      onLine: process.env.TASKSD_LOG ? (line) => console.error(`[tasksd ${n}] ${line}`) : undefined,
    });
  }

  async stop(): Promise<void> {
    await this.server?.child.stop();
    this.server = undefined;
  }

  /** A client for protocol at url (default this server's), with tokens for user from getToken or minted for an hour. */
  client(protocol: string, user: string, { url, getToken }: { url?: string; getToken?: TokenSource } = {}): TasksClient {
    const token = mintToken(user, { secret: this.secret });
    return createClient(TaskService, protocolsAt(url ?? this.url)[protocol]!(getToken ?? (() => token)));
  }

  async remove(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** A TCP proxy to a server, whose connections can be cut, and new ones refused, at will. */
export class Proxy {
  private readonly sockets = new Set<Socket>();
  private refusing = false;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async to(target: string): Promise<Proxy> {
    const { hostname, port } = new URL(target);
    let proxy: Proxy | undefined;
    const server = createServer((client) => proxy!.accept(client, hostname, Number(port)));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (typeof address !== "object" || !address) throw new Error("the proxy has no address");
    proxy = new Proxy(server, `http://127.0.0.1:${address.port}`);
    return proxy;
  }

  private accept(client: Socket, host: string, port: number): void {
    if (this.refusing) {
      client.destroy();
      return;
    }
    const upstream = connect(port, host);
    for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
      this.sockets.add(a);
      a.on("error", () => b.destroy());
      a.on("close", () => {
        this.sockets.delete(a);
        b.destroy();
      });
      a.pipe(b);
    }
  }

  /** Cuts every open connection, as a network failure would. */
  cut(): void {
    for (const s of this.sockets) s.destroy();
  }

  /** While set, new connections are dropped at once. */
  refuse(refusing: boolean): void {
    this.refusing = refusing;
  }

  get open(): number {
    return this.sockets.size;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
