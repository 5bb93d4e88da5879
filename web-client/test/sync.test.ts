// watchTasks and LocalTasks against the real server: live changes, resuming
// without losing or repeating anything, token expiry, a restarted server,
// WATCH_MAX_DURATION and TOO_MANY_WATCHES, an expired cursor and a garbage
// one. Tests that need a server configured, stopped or restarted start one
// of their own (OwnServer); the others use the run's shared server.
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, describe, expect, it } from "vitest";
import { errorReason, fieldViolations, LocalTasks, watchTasks } from "../src/index.js";
import { clientFor, mintToken, mustFail, newUser } from "./support.js";
import { localTasks, OwnServer, Proxy, serverTasks, until, Watcher } from "./sync-support.js";

// What the helper is for: browsers (Connect, gRPC-Web) and Node.
const streaming = ["Connect JSON", "Connect binary", "gRPC-Web", "gRPC-Web JSON", "gRPC"];
const browserProtocols = ["Connect JSON", "gRPC-Web"];

// Reconnect quickly: these tests wait for it.
const fast = { initialDelayMs: 100, maxDelayMs: 1_000 };

const servers: OwnServer[] = [];
async function ownServer(settings: Record<string, string> = {}): Promise<OwnServer> {
  const s = await OwnServer.start(settings);
  servers.push(s);
  return s;
}
afterAll(async () => {
  await Promise.all(servers.map((s) => s.remove()));
});

describe.each(streaming)("watchTasks over %s", (protocol) => {
  it("delivers creates, updates and deletes as they are made, each once", async () => {
    const client = clientFor(protocol, newUser("live"));
    const { task: before } = await client.createTask({ title: "before" });
    const w = new Watcher(client);
    await w.current();
    expect(w.changes()).toEqual(["before"]); // the full sync

    const { task } = await client.createTask({ title: "created" });
    await w.until("the create", () => w.local.tasks.get(task!.id)?.title === "created");
    await client.updateTask({ id: task!.id, title: "updated", completed: true });
    await w.until("the update", () => w.local.tasks.get(task!.id)?.completed === true);
    await client.deleteTask({ id: before!.id });
    await w.until("the delete", () => !w.local.tasks.has(before!.id));
    await w.stop();

    expect(w.changes()).toEqual(["before", "created", "updated", `-${before!.id}`]);
    expect(w.count("disconnected")).toBe(0);
    expect(localTasks(w.local)).toEqual(await serverTasks(client));
    expect(w.local.current).toBe(true);
  });

  it("resumes from the cursor after a stop, with what changed meanwhile, nothing lost or repeated", async () => {
    const client = clientFor(protocol, newUser("resume"));
    const { task: a } = await client.createTask({ title: "a" });
    const { task: b } = await client.createTask({ title: "b" });
    const first = new Watcher(client);
    await first.current();
    await client.createTask({ title: "c" });
    await first.until("c", () => first.changes().includes("c"));
    await first.stop();

    // Meanwhile: a changed twice, b deleted, d created and changed.
    await client.updateTask({ id: a!.id, title: "a2" });
    await client.updateTask({ id: a!.id, title: "a3" });
    await client.deleteTask({ id: b!.id });
    const { task: d } = await client.createTask({ title: "d" });
    await client.updateTask({ id: d!.id, title: "d2" });

    const local = first.local; // the same copy, continued from its cursor
    const second = new Watcher(client, {}, local);
    await second.current();
    await client.createTask({ title: "e" });
    await second.until("e", () => second.changes().includes("e"));
    await second.stop();

    // Each task once, in the order of its last change.
    expect(second.changes()).toEqual(["a3", `-${b!.id}`, "d2", "e"]);
    expect(localTasks(local)).toEqual(await serverTasks(client));
  });
});

describe.each(browserProtocols)("watchTasks over %s, when the network fails", (protocol) => {
  it("reconnects through a cut connection and catches up with what changed while it was cut off", async () => {
    const s = await ownServer();
    const proxy = await Proxy.to(s.url);
    try {
      const user = newUser("cut");
      const direct = s.client(protocol, user);
      const w = new Watcher(s.client(protocol, user, { url: proxy.url }), fast);
      await w.current();
      await direct.createTask({ title: "one" });
      await w.until("one", () => w.changes().includes("one"));

      proxy.refuse(true);
      proxy.cut();
      await w.until("a disconnection", () => w.count("disconnected") > 0);
      await direct.createTask({ title: "two" });
      await w.until("a second failed attempt", () => w.count("disconnected") > 1);
      expect(w.local.current).toBe(false);
      proxy.refuse(false);

      await w.current(2);
      await direct.createTask({ title: "three" });
      await w.until("three", () => w.changes().includes("three"));
      await w.stop();
      expect(w.changes()).toEqual(["one", "two", "three"]);
      expect(localTasks(w.local)).toEqual(await serverTasks(direct));
    } finally {
      await proxy.close();
    }
  }, 60_000);
});

describe("watchTasks when the token expires mid-watch", () => {
  it.each(browserProtocols)("reconnects over %s with a fresh token from getToken, losing and repeating nothing", async (protocol) => {
    // A watch ends when its token's exp (plus the skew) passes. (0s would
    // mean the default 30 s: auth.Config reads a zero skew as "unset".)
    const s = await ownServer({ AUTH_CLOCK_SKEW: "1s" });
    const user = newUser("expiry");
    const writer = s.client(protocol, user);
    // Tokens that live two to three seconds (exp is in whole seconds); a new
    // one is minted when the last has less than a second left.
    let token = "";
    let exp = 0;
    let minted = 0;
    const getToken = () => {
      if (Date.now() > exp - 1_000) {
        token = mintToken(user, { secret: s.secret, ttlSeconds: 3 });
        exp = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()).exp * 1000;
        minted++;
      }
      return token;
    };
    const w = new Watcher(s.client(protocol, user, { getToken }), fast);
    await w.current();
    await writer.createTask({ title: "before expiry" });
    await w.until("the first task", () => w.changes().includes("before expiry"));

    await w.until("the token's expiry", () => w.count("disconnected") > 0);
    const [expired] = w.disconnections();
    expect(expired!.error.code).toBe(Code.Unauthenticated);
    expect(expired!.error.rawMessage).toBe("token expired");
    expect(expired!.retryInMs).toBe(0);

    await w.current(2);
    await writer.createTask({ title: "after expiry" });
    await w.until("the second task", () => w.changes().includes("after expiry"));
    await w.stop();
    expect(minted).toBeGreaterThanOrEqual(2);
    expect(w.changes()).toEqual(["before expiry", "after expiry"]);
    for (const d of w.disconnections()) expect(d.error.rawMessage).toBe("token expired");
  }, 60_000);

  it("ends with Unauthenticated when getToken has no valid token", async () => {
    const s = await ownServer({ AUTH_CLOCK_SKEW: "1s" });
    const expired = mintToken(newUser("stale"), { secret: s.secret, ttlSeconds: -10 });
    const events: string[] = [];
    const err = await mustFail(async () => {
      for await (const e of watchTasks(s.client("Connect JSON", "x", { getToken: () => expired }), fast)) events.push(e.type);
    });
    expect(ConnectError.from(err).code).toBe(Code.Unauthenticated);
    expect(events).toEqual(["disconnected"]); // one retry at once, with whatever getToken gives then
  });
});

describe("watchTasks when the server restarts", () => {
  it("reconnects over Connect and gRPC-Web and catches up with changes made while it was down and after", async () => {
    const s = await ownServer();
    const port = new URL(s.url).port;
    const user = newUser("restart");
    const watchers = browserProtocols.map((p) => new Watcher(s.client(p, user), fast));
    await Promise.all(watchers.map((w) => w.current()));
    await s.client("Connect JSON", user).createTask({ title: "before the restart" });
    await Promise.all(watchers.map((w) => w.until("the first task", () => w.changes().includes("before the restart"))));

    await s.stop();
    await Promise.all(watchers.map((w) => w.until("the shutdown", () => w.count("disconnected") > 0)));
    for (const w of watchers) {
      // Shutting down, the server ends each watch Unavailable.
      const [shutdown] = w.disconnections();
      expect(Code[shutdown!.error.code]).toBe(Code[Code.Unavailable]);
      expect(errorReason(shutdown!.error)).toBe("SERVICE_UNAVAILABLE");
    }
    // A change while the watchers' server is down: made through another
    // server on the same data, on another port.
    await s.start();
    await s.client("Connect JSON", user).createTask({ title: "while it was down" });
    await s.stop();

    await s.start(`127.0.0.1:${port}`);
    await Promise.all(watchers.map((w) => w.current(2)));
    await s.client("gRPC-Web", user).createTask({ title: "after the restart" });
    await Promise.all(watchers.map((w) => w.until("the last task", () => w.changes().includes("after the restart"))));
    const want = await serverTasks(s.client("Connect JSON", user));
    for (const w of watchers) {
      await w.stop();
      expect(w.changes()).toEqual(["before the restart", "while it was down", "after the restart"]);
      expect(localTasks(w.local)).toEqual(want);
    }
  }, 90_000);
});

describe("watchTasks within the server's limits", () => {
  it("reconnects when a watch reaches WATCH_MAX_DURATION, and heartbeats keep a quiet one alive", async () => {
    const s = await ownServer({ WATCH_MAX_DURATION: "1s", WATCH_HEARTBEAT: "200ms" });
    const user = newUser("duration");
    const writer = s.client("Connect JSON", user);
    // A connection silent for 1.5 s would be replaced: only heartbeats keep it.
    const w = new Watcher(s.client("gRPC-Web", user), { ...fast, idleTimeoutMs: 1_500 });
    await w.current();
    const titles: string[] = [];
    for (let i = 0; w.count("disconnected") < 3; i++) {
      titles.push(`task ${i}`);
      await writer.createTask({ title: `task ${i}` });
      await w.until(`task ${i}`, () => w.changes().includes(`task ${i}`));
    }
    await w.stop();
    expect(w.changes()).toEqual(titles);
    for (const d of w.disconnections()) {
      expect(Code[d.error.code]).toBe(Code[Code.Unavailable]);
      expect(errorReason(d.error)).toBe("SERVICE_UNAVAILABLE");
    }
  }, 60_000);

  it("retries while the user has WATCH_MAX_PER_USER watches open, and gets in when one closes", async () => {
    const s = await ownServer({ WATCH_MAX_PER_USER: "1" });
    const user = newUser("limit");
    const first = new Watcher(s.client("Connect JSON", user));
    await first.current();
    const second = new Watcher(s.client("gRPC-Web", user), fast);
    await second.until("a refusal", () => second.count("disconnected") > 0);
    const [refused] = second.disconnections();
    expect(Code[refused!.error.code]).toBe(Code[Code.ResourceExhausted]);
    expect(errorReason(refused!.error)).toBe("TOO_MANY_WATCHES");
    expect(refused!.retryInMs).toBeGreaterThan(0);
    await first.stop();
    await second.current();
    await second.stop();
  }, 60_000);
});

describe("watchTasks with an expired cursor", () => {
  it("yields reset and continues with a full sync over Connect and gRPC-Web", async () => {
    // The server forgets deletions older than CHANGE_RETENTION when it
    // starts (and every ten minutes after): a cursor taken before a deletion
    // expires on restart.
    const s = await ownServer({ CHANGE_RETENTION: "1ms" });
    const user = newUser("expired");
    const client = s.client("Connect JSON", user);
    const { task: gone } = await client.createTask({ title: "deleted later" });
    await client.createTask({ title: "kept" });
    const firstPage = await client.listTaskChanges({});
    await client.deleteTask({ id: gone!.id });
    await s.stop();
    await s.start();
    const restarted = s.client("Connect JSON", user);
    await until("the deletion to be forgotten", async () => {
      try {
        await restarted.listTaskChanges({ cursor: firstPage.nextCursor });
        return false;
      } catch (err) {
        if (errorReason(err) === "CURSOR_EXPIRED") return true;
        throw err;
      }
    });
    await restarted.createTask({ title: "new" });

    for (const protocol of browserProtocols) {
      const local = new LocalTasks();
      local.applyPage(firstPage);
      expect([...local.tasks.values()].map((t) => t.title).sort()).toEqual(["deleted later", "kept"]);
      const w = new Watcher(s.client(protocol, user), fast, local);
      await w.current();
      await w.stop();
      expect(w.events.map((e) => e.type)).toEqual(["reset", "changes", "current"]);
      const reset = w.events[0] as Extract<(typeof w.events)[number], { type: "reset" }>;
      expect(Code[reset.error.code]).toBe(Code[Code.FailedPrecondition]);
      expect(errorReason(reset.error)).toBe("CURSOR_EXPIRED");
      expect(w.changes().sort()).toEqual(["kept", "new"]);
      expect(localTasks(local)).toEqual(await serverTasks(restarted));
    }
  }, 60_000);
});

describe("watchTasks with a bad cursor", () => {
  it.each(browserProtocols)("ends over %s with the server's INVALID_REQUEST, naming the cursor", async (protocol) => {
    const client = clientFor(protocol, newUser("garbage"));
    const events: string[] = [];
    const err = await mustFail(async () => {
      for await (const e of watchTasks(client, { cursor: "not-a-cursor", ...fast })) events.push(e.type);
    });
    expect(events).toEqual([]);
    expect(err).toBeInstanceOf(ConnectError);
    expect(Code[(err as ConnectError).code]).toBe(Code[Code.InvalidArgument]);
    expect(errorReason(err)).toBe("INVALID_REQUEST");
    expect((err as ConnectError).rawMessage).toBe("invalid cursor");
    expect(fieldViolations(err).map((v) => v.field)).toEqual(["cursor"]);
  });

  it("ends with INVALID_REQUEST for another user's cursor", async () => {
    const { nextCursor } = await clientFor("Connect JSON", newUser("owner")).listTaskChanges({});
    const err = await mustFail(async () => {
      for await (const _ of watchTasks(clientFor("Connect JSON", newUser("other")), { cursor: nextCursor })) {
        // nothing is expected
      }
    });
    expect(errorReason(err)).toBe("INVALID_REQUEST");
  });

  it("ends with VALIDATION_ERROR for a cursor longer than the schema allows", async () => {
    const err = await mustFail(async () => {
      for await (const _ of watchTasks(clientFor("gRPC-Web", newUser("long")), { cursor: "c".repeat(513) })) {
        // nothing is expected
      }
    });
    expect(errorReason(err)).toBe("VALIDATION_ERROR");
  });
});
