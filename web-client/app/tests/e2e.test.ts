// The path a real user takes, in Debian's Chromium: the browser → this
// Next.js app with Better-Auth → the Go API with PostgreSQL. The stack is
// built and started here (harness/stack.ts); screenshots and server logs go
// to test-results/.
//
// TASKS_APP_SKIP_BUILD=1 reuses .next from the last build (for iterating).
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { appDir } from "../harness/servers";
import { startStack, type Stack } from "../harness/stack";
import {
  apiTokenOf,
  callApi,
  createTask,
  eventually,
  expectCount,
  expectLive,
  expectText,
  expectTitles,
  focused,
  newTaskForm,
  overviewTitles,
  routeTasks,
  signIn,
  signUp,
  subjectOf,
  submitNewTask,
  taskRow,
  titles,
  watchCreates,
  watchListTasks,
} from "./support";

const resultsDir = join(appDir, "test-results");
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const postgresPath = join(process.env.PGTEST_BINDIR || "/usr/lib/postgresql/15/bin", "postgres");

// Like the Go tests: without Chromium or PostgreSQL skip, except under
// CI=true, where that is a failure.
const missing = [chromiumPath, postgresPath].filter((p) => !existsSync(p));
if (missing.length > 0 && process.env.CI === "true") {
  throw new Error(`the browser tests need ${missing.join(" and ")} (apt-get install chromium postgresql-15)`);
}
const skip = missing.length > 0 ? `needs ${missing.join(" and ")}` : false;

const alice = { name: "Alice", email: "alice@example.test", password: "alice-password-1" };
const bob = { name: "Bob", email: "bob@example.test", password: "bob-password-1" };

let stack: Stack;
let browser: Browser;
const contexts: BrowserContext[] = [];
let shot = 0;

async function newContext(viewport = { width: 1100, height: 900 }): Promise<BrowserContext> {
  // Fixed locale and time zone: due dates render the same everywhere.
  const context = await browser.newContext({ locale: "en-US", timezoneId: "UTC", viewport });
  context.setDefaultTimeout(15_000);
  contexts.push(context);
  return context;
}

async function newPage(): Promise<Page> {
  return (await newContext()).newPage();
}

// How soon a change made in one tab must show in another.
const liveWithinMs = 2_000;

async function screenshot(page: Page, name: string): Promise<void> {
  shot++;
  await page.screenshot({ path: join(resultsDir, `${String(shot).padStart(2, "0")}-${name}.png`), fullPage: true });
}

describe("the app in Chromium", { skip }, () => {
  before(
    async () => {
      await rm(resultsDir, { recursive: true, force: true });
      await mkdir(resultsDir, { recursive: true });
      stack = await startStack({
        logDir: join(resultsDir, "logs"),
        tasksDatabase: "postgres",
        build: process.env.TASKS_APP_SKIP_BUILD !== "1",
        // The switch that turns the browser's checks off, for one test; and
        // a log line per call, to see watches end.
        devTools: true,
        apiLogLevel: "info",
      });
      browser = await chromium.launch({
        executablePath: chromiumPath,
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--no-first-run",
        ],
      });
    },
    { timeout: 600_000 },
  );

  after(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close().catch(() => {});
    await stack?.stop();
  });

  describe("two users in Chromium", () => {
    let a: Page;
    let b: Page;
    let aliceTaskId = "";

    it("sends a signed-out visitor to sign in", async () => {
      a = await newPage();
      await a.goto(`${stack.appUrl}/tasks`);
      await a.waitForURL(/\/sign-in\?next=/);
      await a.getByRole("form", { name: "Sign in" }).waitFor();
      await screenshot(a, "sign-in");
    });

    it("serves an icon, so a first load has no 404 and no console error", async () => {
      const c = await newPage();
      const problems: string[] = [];
      c.on("response", (res) => {
        if (res.status() >= 400) problems.push(`${res.status()} ${res.url()}`);
      });
      c.on("console", (msg) => {
        if (msg.type() === "error") problems.push(`console: ${msg.text()}`);
      });
      await c.goto(`${stack.appUrl}/sign-in`, { waitUntil: "networkidle" });
      const href = await c.locator('link[rel="icon"]').first().getAttribute("href");
      assert.ok(href, "the page links an icon");
      const icon = await c.request.get(new URL(href, stack.appUrl).toString());
      assert.equal(icon.status(), 200);
      assert.match(icon.headers()["content-type"] ?? "", /^image\//);
      assert.deepEqual(problems, []);
    });

    it("signs Alice up and welcomes her to an empty list", async () => {
      await a.goto(`${stack.appUrl}/sign-up`);
      await screenshot(a, "sign-up");
      await signUp(a, stack.appUrl, alice);
      await expectCount(a, 0);
      await a.getByRole("heading", { level: 1, name: "Your tasks" }).waitFor();
      // No filter hides anything: the list is empty because she has no tasks.
      await a.getByTestId("no-tasks").getByText("You have no tasks yet").waitFor();
      assert.equal(await a.getByText("No tasks match.").count(), 0);
      await expectLive(a);
      await screenshot(a, "empty-board");
    });

    it("checks a new task in the browser before sending it", async () => {
      const creates = watchCreates(a);
      await submitNewTask(a, { title: "", tags: "home, not/a/tag" });
      await expectText(a, "new-title-error", "value is required");
      await expectText(a, "new-tags-error", "tag 2:");
      assert.equal((await focused(a)).id, "new-title", "focus goes to the first field with a problem");
      await screenshot(a, "create-client-validation");
      assert.equal(creates.count(), 0, "an invalid task must not be sent");
      // A field's message goes once the field changes; the others stay.
      await a.locator("#new-title").fill("Fixed");
      await a.locator("#new-title-error").waitFor({ state: "detached" });
      assert.equal(await a.locator("#new-title").getAttribute("aria-invalid"), null);
      await expectText(a, "new-tags-error", "tag 2:");
      await a.locator("#new-tags").fill("home");
      await a.locator("#new-tags-error").waitFor({ state: "detached" });
      await a.locator("#new-title").fill("");
      await a.locator("#new-tags").fill("");
    });

    it("creates tasks with priorities, tags, descriptions and due dates", async () => {
      await createTask(a, { title: "Buy milk", priority: "High", tags: "home, Errands", due: "2030-01-15" });
      await createTask(a, { title: "Write report", priority: "Medium", tags: "work", description: "Quarterly numbers" });
      await createTask(a, { title: "Call plumber", priority: "Low", tags: "home", due: "2030-01-10" });
      await createTask(a, { title: "Read book" });
      await createTask(a, { title: "Plan trip", tags: "travel", due: "2030-03-01" });
      await createTask(a, { title: "Water plants", priority: "Low", tags: "home" });
      await expectCount(a, 6);
      await expectTitles(a, ["Water plants", "Plan trip", "Read book", "Call plumber", "Write report", "Buy milk"]);

      const milk = taskRow(a, "Buy milk");
      assert.deepEqual(await milk.getByTestId("task-tag").allTextContents(), ["#home", "#errands"], "tags are stored lower-cased");
      assert.equal(await milk.getByTestId("task-priority").textContent(), "High");
      assert.equal(await milk.getByTestId("task-due").textContent(), "due Jan 15, 2030");
      aliceTaskId = (await milk.getAttribute("data-task-id")) ?? "";
      assert.match(aliceTaskId, /^[0-9a-f-]{36}$/);
      await screenshot(a, "task-list");
    });

    it("shows the server's answer next to the field when only the server can tell (duplicate tags)", async () => {
      // "Home" and "home" each pass the schema; the server lower-cases tags
      // and refuses the repeat with INVALID_REQUEST. The browser checked and
      // sent the request.
      const creates = watchCreates(a);
      await submitNewTask(a, { title: "Tidy garage", tags: "Home, home" });
      await expectText(a, "new-tags-error", 'tag "home" appears more than once');
      assert.equal(creates.count(), 1, "the request went to the server");
      await screenshot(a, "create-server-invalid-request");
      await expectCount(a, 6);
    });

    it("shows the server's field violations when the browser does not check first", async () => {
      // With the browser's check switched off, a title of only spaces reaches
      // the server, whose protovalidate answers VALIDATION_ERROR with a
      // violation for field "title" (rule string.not_blank).
      const creates = watchCreates(a);
      const answered = a.waitForResponse(
        (res) => res.request().method() === "POST" && res.url().endsWith("/tasks.v1.TaskService/CreateTask"),
      );
      await newTaskForm(a).getByLabel("Check in the browser before sending").uncheck();
      await submitNewTask(a, { title: "   ", tags: "ok" });
      const res = await answered;
      assert.equal(res.status(), 400);
      const body = (await res.json()) as { code: string; details?: { type: string }[] };
      assert.equal(body.code, "invalid_argument");
      assert.ok(body.details?.some((d) => d.type === "buf.validate.Violations"), "the server sent field violations");
      await expectText(a, "new-title-error", "must not be only whitespace");
      assert.equal(creates.count(), 1);
      await screenshot(a, "create-server-validation");
      await newTaskForm(a).getByLabel("Check in the browser before sending").check();
      await a.locator("#new-title").fill("");
      await a.locator("#new-tags").fill("");
      await expectCount(a, 6);
    });

    it("names each Edit button after its task", async () => {
      const names = await a.getByRole("button", { name: /^Edit / }).evaluateAll((els) => els.map((el) => el.getAttribute("aria-label")));
      assert.deepEqual(names, (await titles(a)).map((t) => `Edit ${t}`));
      await a.getByRole("button", { name: "Edit Read book", exact: true }).waitFor();
    });

    it("edits a task in place", async () => {
      const row = taskRow(a, "Write report");
      const id = await row.getAttribute("data-task-id");
      await row.getByRole("button", { name: "Edit" }).click();
      const editor = a.locator(`[data-task-id="${id}"]`);
      // Focus goes to the field to edit.
      await eventually(async () => assert.equal((await focused(a)).id, `edit-${id}-title`));
      // The browser's check applies to edits too.
      await editor.locator('input[name="title"]').fill("");
      await editor.getByRole("button", { name: "Save" }).click();
      await expectText(a, `edit-${id}-title-error`, "at least 1 characters");
      await editor.locator('input[name="title"]').fill("Write quarter");
      await a.locator(`[id="edit-${id}-title-error"]`).waitFor({ state: "detached" });
      await editor.locator('input[name="title"]').fill("Write quarterly report");
      await editor.locator('select[name="priority"]').selectOption({ label: "High" });
      await editor.locator('input[name="tags"]').fill("work, Q3");
      await editor.locator('input[name="due"]').fill("2030-02-01");
      await screenshot(a, "inline-edit");
      await editor.getByRole("button", { name: "Save" }).click();
      const edited = taskRow(a, "Write quarterly report");
      await edited.waitFor();
      // Saved: focus is back on the task's Edit button, not dropped to the page.
      await eventually(async () => assert.deepEqual(await focused(a), {
        tag: "button", id: "", name: "Edit Write quarterly report", taskId: id ?? "",
      }));
      assert.deepEqual(await edited.getByTestId("task-tag").allTextContents(), ["#work", "#q3"]);
      assert.equal(await edited.getByTestId("task-priority").textContent(), "High");
      assert.equal(await edited.getByTestId("task-due").textContent(), "due Feb 1, 2030");
      assert.equal(await edited.locator(".task-description").textContent(), "Quarterly numbers", "unchanged fields stay");

      // Clearing the due date sends clear_due_time.
      await edited.getByRole("button", { name: "Edit" }).click();
      await editor.locator('input[name="due"]').fill("");
      await editor.getByRole("button", { name: "Save" }).click();
      await eventually(async () => assert.equal(await taskRow(a, "Write quarterly report").getByTestId("task-due").count(), 0));
    });

    it("completes a task", async () => {
      await taskRow(a, "Buy milk").getByRole("checkbox").click();
      await eventually(async () => assert.match((await taskRow(a, "Buy milk").getAttribute("class")) ?? "", /\bdone\b/));
      await taskRow(a, "Read book").getByRole("checkbox").click();
      await eventually(async () => assert.match((await taskRow(a, "Read book").getAttribute("class")) ?? "", /\bdone\b/));
    });

    it("filters by completed, priority, tag and search, and orders", async () => {
      await a.locator("#filter-status").selectOption("done");
      await expectTitles(a, ["Read book", "Buy milk"]);
      await expectCount(a, 2);
      await a.locator("#filter-status").selectOption("open");
      await expectTitles(a, ["Water plants", "Plan trip", "Call plumber", "Write quarterly report"]);
      await a.locator("#filter-status").selectOption("all");

      await a.locator("#filter-priority").selectOption({ label: "High" });
      await expectTitles(a, ["Write quarterly report", "Buy milk"]);
      await a.locator("#filter-priority").selectOption({ label: "Any" });

      await a.locator("#filter-tag").fill("HOME");
      await expectTitles(a, ["Water plants", "Call plumber", "Buy milk"]);
      await screenshot(a, "filtered-by-tag");
      // A tag the schema refuses is shown next to the filter and not sent.
      await a.locator("#filter-tag").fill("no spaces");
      await expectText(a, "filter-tag-error", "does not match regex pattern");
      await a.locator("#filter-tag").fill("");

      await a.locator("#filter-query").fill("QUARTERLY");
      await expectTitles(a, ["Write quarterly report"]);
      await a.locator("#filter-query").fill("numbers"); // matches the description
      await expectTitles(a, ["Write quarterly report"]);
      await a.locator("#filter-query").fill("");
      await expectCount(a, 6);

      await a.locator("#filter-order").selectOption({ label: "Title A–Z" });
      await expectTitles(a, ["Buy milk", "Call plumber", "Plan trip", "Read book", "Water plants", "Write quarterly report"]);
      await a.locator("#filter-order").selectOption({ label: "Due soonest" });
      await eventually(async () => {
        const list = await titles(a);
        assert.deepEqual(list.slice(0, 3), ["Call plumber", "Buy milk", "Plan trip"]);
        // Tasks without a due date come last.
        assert.deepEqual(list.slice(3).sort(), ["Read book", "Water plants", "Write quarterly report"]);
      });
      await a.locator("#filter-order").selectOption({ label: "Newest first" });
    });

    it("pages with load more, counting every page's tasks once", async () => {
      const lists = watchListTasks(a);
      await a.locator("#filter-page-size").selectOption("5");
      await expectTitles(a, ["Water plants", "Plan trip", "Read book", "Call plumber", "Write quarterly report"]);
      await expectCount(a, 6); // across all pages
      await a.getByRole("button", { name: "Load more" }).click();
      await expectTitles(a, ["Water plants", "Plan trip", "Read book", "Call plumber", "Write quarterly report", "Buy milk"]);
      await a.getByRole("button", { name: "Load more" }).waitFor({ state: "detached" });
      await expectCount(a, 6);

      // With two pages shown, a create and a delete refetch both; the count follows.
      await createTask(a, { title: "Extra task" });
      await expectTitles(a, ["Extra task", "Water plants", "Plan trip", "Read book", "Call plumber", "Write quarterly report", "Buy milk"]);
      await expectCount(a, 7);
      await taskRow(a, "Extra task").getByRole("button", { name: "Delete" }).click();
      await taskRow(a, "Extra task").waitFor({ state: "detached" });
      await expectCount(a, 6);

      // Counting costs the server as much as a page: only first pages ask for the total.
      const sent = lists.requests();
      const first = sent.filter((r) => !r.pageToken);
      const later = sent.filter((r) => r.pageToken);
      assert.ok(first.length > 0, "the first page was requested");
      assert.ok(later.length >= 2, `load more and the refetch after the create asked for a second page: ${JSON.stringify(sent)}`);
      assert.deepEqual(first.filter((r) => r.includeTotalSize !== true), [], "every first page asks for the total");
      assert.deepEqual(later.filter((r) => r.includeTotalSize !== undefined), [], "no later page asks for the total");
    });

    it("deletes a task", async () => {
      const next = await taskRow(a, "Read book").getAttribute("data-task-id");
      await taskRow(a, "Plan trip").getByRole("button", { name: "Delete" }).click();
      await taskRow(a, "Plan trip").waitFor({ state: "detached" });
      await expectCount(a, 5);
      // Focus moves to the next task, not to the page.
      await eventually(async () => assert.deepEqual(await focused(a), { tag: "li", id: "", name: "", taskId: next ?? "" }));
    });

    it("shows the same tasks after a reload", async () => {
      await a.reload();
      await expectCount(a, 5);
      await expectTitles(a, ["Water plants", "Read book", "Call plumber", "Write quarterly report", "Buy milk"]);
      assert.equal(await taskRow(a, "Buy milk").getByRole("checkbox").isChecked(), true);
      assert.equal(await taskRow(a, "Water plants").getByRole("checkbox").isChecked(), false);
    });

    it("signs Bob up, in another browser context, to a list of his own", async () => {
      b = await newPage();
      await signUp(b, stack.appUrl, bob);
      await expectCount(b, 0);
      await createTask(b, { title: "Bob's secret plan", priority: "High", tags: "home" });
      await expectTitles(b, ["Bob's secret plan"]);
      await b.locator("#filter-tag").fill("home");
      await expectTitles(b, ["Bob's secret plan"]);
      await b.locator("#filter-tag").fill("");
      await b.locator("#filter-query").fill("milk");
      await b.getByText("No tasks match.").waitFor();
      await b.locator("#filter-query").fill("");
      await b.reload();
      await expectTitles(b, ["Bob's secret plan"]);
      await screenshot(b, "second-user");
    });

    it("never lets Bob reach Alice's task, even by id through the API", async () => {
      // Bob's own API token, from Better-Auth, sent straight to the API.
      // (A plain loop, no named functions: tsx would wrap those in a helper
      // that does not exist in the page.)
      const answers = await b.evaluate(
        async ({ apiUrl, id }) => {
          const { token } = (await (await fetch("/api/auth/token")).json()) as { token: string };
          const calls: [string, object][] = [
            ["GetTask", { id }],
            ["UpdateTask", { id, title: "mine now" }],
            ["DeleteTask", { id }],
          ];
          const codes: string[] = [];
          for (const [method, body] of calls) {
            const res = await fetch(`${apiUrl}/tasks.v1.TaskService/${method}`, {
              method: "POST",
              headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
              body: JSON.stringify(body),
            });
            codes.push(((await res.json()) as { code?: string }).code ?? `ok ${res.status}`);
          }
          return codes;
        },
        { apiUrl: stack.apiUrl, id: aliceTaskId },
      );
      assert.deepEqual(answers, ["not_found", "not_found", "not_found"]);

      await a.reload();
      await taskRow(a, "Buy milk").waitFor();
      assert.ok(!(await titles(a)).includes("Bob's secret plan"));
      assert.ok(!(await titles(b)).some((t) => t !== "Bob's secret plan"));
    });

    // Server code calling the API as the signed-in user
    // (src/lib/tasks.server.ts, connect-node): a server component and a
    // route handler.
    const aliceTitles = ["Water plants", "Read book", "Call plumber", "Write quarterly report", "Buy milk"];

    it("renders the signed-in user's tasks in a server component, and no one else's", async () => {
      await a.goto(`${stack.appUrl}/overview`);
      assert.equal(await a.getByTestId("overview-count").textContent(), "5 tasks");
      assert.deepEqual(await overviewTitles(a), aliceTitles);
      // The HTML as the server sent it holds the list: rendered there.
      const html = await (await a.request.get(`${stack.appUrl}/overview`)).text();
      for (const title of aliceTitles) assert.ok(html.includes(title), `the server's HTML lacks ${title}`);
      await screenshot(a, "overview");

      await b.goto(`${stack.appUrl}/overview`);
      assert.equal(await b.getByTestId("overview-count").textContent(), "1 task");
      assert.deepEqual(await overviewTitles(b), ["Bob's secret plan"]);
    });

    it("serves the signed-in user's tasks as JSON from a route handler, and no one else's", async () => {
      const alices = await routeTasks(a, stack.appUrl, 2);
      assert.deepEqual(alices.totals, [5, 0, 0], "three pages of two, the total on the first");
      assert.deepEqual(alices.tasks.map((t) => t.title), aliceTitles);
      // The API's JSON form (toJson): enum names, lower-cased tags.
      const milk = alices.tasks.find((t) => t.title === "Buy milk");
      assert.deepEqual(
        { id: milk?.id, priority: milk?.priority, tags: milk?.tags, completed: milk?.completed },
        { id: aliceTaskId, priority: "PRIORITY_HIGH", tags: ["home", "errands"], completed: true },
      );

      const bobs = await routeTasks(b, stack.appUrl, 50);
      assert.deepEqual(bobs.tasks.map((t) => t.title), ["Bob's secret plan"]);
      assert.deepEqual(bobs.totals, [1]);

      // The API's InvalidArgument is a 400 with its reason; so is a page size that is no number.
      const negative = await a.request.get(`${stack.appUrl}/api/tasks?pageSize=-1`);
      assert.equal(negative.status(), 400);
      assert.deepEqual(await negative.json(), { error: "VALIDATION_ERROR" });
      const junk = await a.request.get(`${stack.appUrl}/api/tasks?pageSize=many`);
      assert.equal(junk.status(), 400);
      assert.deepEqual(await junk.json(), { error: "INVALID_REQUEST" });
    });

    it("tells a signed-out visitor to sign in, on the server component's page and with a 401 from the route handler", async () => {
      const c = await newPage();
      await c.goto(`${stack.appUrl}/overview`);
      await c.getByTestId("overview-signed-out").getByText("sign in").waitFor();
      assert.equal(await c.getByTestId("overview-task").count(), 0);
      const res = await c.request.get(`${stack.appUrl}/api/tasks`);
      assert.equal(res.status(), 401);
      assert.deepEqual(await res.json(), { error: "UNAUTHORIZED" });
      await screenshot(c, "overview-signed-out");
    });

    it("signs Alice out and back in", async () => {
      await a.getByRole("button", { name: "Sign out" }).click();
      await a.waitForURL(`${stack.appUrl}/sign-in`);
      await a.goto(`${stack.appUrl}/tasks`);
      await a.waitForURL(/\/sign-in\?next=/);
      await signIn(a, stack.appUrl, alice);
      await expectCount(a, 5);
      await screenshot(a, "signed-in-again");
    });
  });

  describe("at 390 px wide (a phone)", () => {
    it("keeps the header's items apart and the row's buttons narrow", async () => {
      const p = await (await newContext({ width: 390, height: 844 })).newPage();
      await p.goto(`${stack.appUrl}/sign-in`);
      await signIn(p, stack.appUrl, alice);
      await expectCount(p, 5);
      await screenshot(p, "phone");
      const header = await p.locator("header.top").evaluate((top) =>
        [top.querySelector(".brand"), ...top.querySelectorAll(".who > *")].map((el) => {
          const r = el!.getBoundingClientRect();
          return { text: el!.textContent ?? "", left: r.left, right: r.right, top: r.top, bottom: r.bottom };
        }),
      );
      assert.equal(header.length, 4, "brand, Overview, email, Sign out");
      for (const [i, x] of header.entries()) {
        assert.ok(x.left >= 0 && x.right <= 390, `${x.text} fits the width: ${JSON.stringify(x)}`);
        for (const y of header.slice(i + 1)) {
          const apart = x.right <= y.left || y.right <= x.left || x.bottom <= y.top || y.bottom <= x.top;
          assert.ok(apart, `${x.text} and ${y.text} overlap: ${JSON.stringify([x, y])}`);
        }
      }
      const rows = await p.getByTestId("task").evaluateAll((items) =>
        items.map((li) => ({
          row: li.getBoundingClientRect().width,
          buttons: li.querySelector(".task-actions")!.getBoundingClientRect().width,
        })),
      );
      assert.equal(rows.length, 5);
      for (const { row, buttons } of rows) assert.ok(buttons < row / 3, `buttons take ${buttons} of ${row} px`);
      const scrollWidth = await p.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(scrollWidth <= 390, `the page scrolls sideways: ${scrollWidth} px`);
    });
  });

  describe("the board stays live", () => {
    const erin = { name: "Erin", email: "erin@example.test", password: "erin-password-1" };
    let one: Page; // two tabs of one browser
    let two: Page;
    let other: Page; // another browser context, the same user

    it("shows a task created, completed and deleted in one tab in the other, within two seconds", async () => {
      const context = await newContext();
      one = await context.newPage();
      await signUp(one, stack.appUrl, erin);
      two = await context.newPage();
      await two.goto(`${stack.appUrl}/tasks`);
      await expectLive(one);
      await expectLive(two);

      await createTask(one, { title: "Shared task", tags: "live" });
      await taskRow(two, "Shared task").waitFor({ timeout: liveWithinMs });
      await expectCount(two, 1);

      await taskRow(two, "Shared task").getByRole("checkbox").click();
      await eventually(async () => assert.match((await taskRow(one, "Shared task").getAttribute("class")) ?? "", /\bdone\b/), liveWithinMs);

      await createTask(two, { title: "Second task" });
      await taskRow(one, "Second task").waitFor({ timeout: liveWithinMs });
      await taskRow(one, "Shared task").getByRole("button", { name: "Delete" }).click();
      await taskRow(two, "Shared task").waitFor({ state: "detached", timeout: liveWithinMs });
      await expectTitles(two, ["Second task"]);
      await screenshot(two, "live-second-tab");
    });

    it("shows changes made in another browser context of the same user, within two seconds", async () => {
      other = await newPage();
      await other.goto(`${stack.appUrl}/sign-in`);
      await signIn(other, stack.appUrl, erin);
      await expectTitles(other, ["Second task"]);
      await expectLive(other);

      await createTask(other, { title: "From the other browser" });
      for (const p of [one, two]) await taskRow(p, "From the other browser").waitFor({ timeout: liveWithinMs });

      const row = taskRow(one, "Second task");
      const editor = one.locator(`[data-task-id="${await row.getAttribute("data-task-id")}"]`);
      await row.getByRole("button", { name: "Edit" }).click();
      await editor.locator('input[name="title"]').fill("Second task, edited");
      await editor.getByRole("button", { name: "Save" }).click();
      await taskRow(other, "Second task, edited").waitFor({ timeout: liveWithinMs });
      await expectTitles(other, ["From the other browser", "Second task, edited"]);
    });

    it("reconnects after the API restarts and catches up with changes made while it was down and right after", async () => {
      const token = await apiTokenOf(one);
      await stack.restartApi(async (otherApi) => {
        // Every board has noticed, and a change is made meanwhile (through
        // another API on the same database, which the app does not know).
        for (const p of [one, two, other]) await expectLive(p, "reconnecting");
        await callApi(otherApi, token, "CreateTask", { title: "Made while the API was down" });
      });
      // Right after, before the boards are back.
      await callApi(stack.apiUrl, token, "CreateTask", { title: "Made right after the restart" });
      const want = ["Made right after the restart", "Made while the API was down", "From the other browser", "Second task, edited"];
      for (const p of [one, two, other]) {
        await expectLive(p, "live", 60_000);
        await expectTitles(p, want);
        await expectCount(p, 4);
      }
      await screenshot(one, "live-after-api-restart");

      // And live again.
      await createTask(two, { title: "After the reconnect" });
      for (const p of [one, other]) await taskRow(p, "After the reconnect").waitFor({ timeout: liveWithinMs });
    });

    it("ends the stream on sign-out, and opens no other", async () => {
      const frank = { name: "Frank", email: "frank@example.test", password: "frank-password-1" };
      const p = await newPage();
      const streams: { url: string; at: number; closed: boolean }[] = [];
      const byRequest = new Map<object, (typeof streams)[number]>();
      p.on("request", (req) => {
        if (/\/tasks\.v1\.TaskService\/(WatchTasks|ListTaskChanges)/.test(req.url()) && req.method() !== "OPTIONS") {
          const s = { url: req.url(), at: Date.now(), closed: false };
          streams.push(s);
          byRequest.set(req, s);
        }
      });
      const close = (req: object) => {
        const s = byRequest.get(req);
        if (s) s.closed = true;
      };
      p.on("requestfailed", close);
      p.on("requestfinished", close);

      await signUp(p, stack.appUrl, frank);
      await expectLive(p);
      const sub = subjectOf(await apiTokenOf(p));
      const watches = () => streams.filter((s) => s.url.endsWith("/WatchTasks"));
      assert.equal(watches().length, 1, "one open watch");
      assert.equal(watches()[0]!.closed, false);

      const signedOutAt = Date.now();
      await p.getByRole("button", { name: "Sign out" }).click();
      await p.waitForURL(`${stack.appUrl}/sign-in`);
      // The browser closed the stream...
      await eventually(async () => assert.equal(watches()[0]!.closed, true, "the watch request is still open"));
      // ...and the API saw it end: its log line for Frank's watch.
      // (The server logs a client that went away as deadline_exceeded.)
      const line = new RegExp(`procedure=/tasks\\.v1\\.TaskService/WatchTasks .*code=\\w+ .*user=${sub} `);
      await eventually(async () => assert.match(await readFile(stack.apiLogFile, "utf8"), line));
      await p.getByRole("form", { name: "Sign in" }).waitFor();
      const after = streams.filter((s) => s.at >= signedOutAt);
      assert.deepEqual(after, [], "no sync request after sign-out");
    });
  });

  describe("Better-Auth's tables on PostgreSQL (the production setup)", () => {
    it("signs a user up and serves their tasks", async () => {
      // The same build, restarted with AUTH_DATABASE_URL=postgres://…: a new
      // database, so Better-Auth makes a new signing key, and the API fetches
      // the JWKS again when the first token names that key.
      const authDatabase = await stack.moveAuthToPostgres();
      const c = await newPage();
      const carol = { name: "Carol", email: "carol@example.test", password: "carol-password-1" };
      await signUp(c, stack.appUrl, carol);
      await expectCount(c, 0);
      // Developer switches are not for users.
      await newTaskForm(c).getByRole("button", { name: "Add task" }).waitFor();
      assert.equal(await newTaskForm(c).getByLabel("Check in the browser before sending").count(), 0);
      await createTask(c, { title: "Carol's first task", tags: "pg" });
      await c.reload();
      await expectTitles(c, ["Carol's first task"]);

      const client = new pg.Client({ connectionString: authDatabase });
      await client.connect();
      try {
        const { rows } = await client.query<{ email: string }>('select email from "user"');
        assert.deepEqual(rows.map((r) => r.email), [carol.email]);
        const keys = await client.query('select id from "jwks"');
        assert.equal(keys.rowCount, 1);
      } finally {
        await client.end();
      }
    });
  });
});
