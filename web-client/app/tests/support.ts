// What the browser tests do to the app, in the words of its screens.
import { setTimeout as sleep } from "node:timers/promises";
import type { Locator, Page, Request } from "playwright-core";

/** Retries an assertion until it passes or timeoutMs is up (the UI updates asynchronously). */
export async function eventually(fn: () => Promise<void>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 50; ; delay = Math.min(delay * 2, 400)) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    await sleep(delay);
  }
}

export interface NewTask {
  title: string;
  description?: string;
  priority?: "None" | "Low" | "Medium" | "High";
  tags?: string;
  /** YYYY-MM-DD */
  due?: string;
}

export async function signUp(page: Page, appUrl: string, who: { name: string; email: string; password: string }) {
  await page.goto(`${appUrl}/sign-up`);
  await page.getByLabel("Name").fill(who.name);
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password").fill(who.password);
  await page.getByRole("button", { name: "Sign up" }).click();
  await page.waitForURL(`${appUrl}/tasks`);
  await page.getByTestId("current-user").getByText(who.email).waitFor();
}

export async function signIn(page: Page, appUrl: string, who: { email: string; password: string }) {
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password").fill(who.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${appUrl}/tasks`);
  await page.getByTestId("current-user").getByText(who.email).waitFor();
}

export function newTaskForm(page: Page): Locator {
  return page.getByRole("form", { name: "New task" });
}

/** Fills the new-task form and submits it; does not wait for the result. */
export async function submitNewTask(page: Page, task: NewTask): Promise<void> {
  await page.locator("#new-title").fill(task.title);
  await page.locator("#new-description").fill(task.description ?? "");
  await page.locator("#new-priority").selectOption({ label: task.priority ?? "None" });
  await page.locator("#new-tags").fill(task.tags ?? "");
  await page.locator("#new-due").fill(task.due ?? "");
  await newTaskForm(page).getByRole("button", { name: "Add task" }).click();
}

/** Creates a task through the form and waits until the list shows it. */
export async function createTask(page: Page, task: NewTask): Promise<void> {
  await submitNewTask(page, task);
  await taskRow(page, task.title).waitFor();
  await eventually(async () => {
    if ((await page.locator("#new-title").inputValue()) !== "") throw new Error("form not cleared");
  });
}

/** The list item of the task with exactly this title. */
export function taskRow(page: Page, title: string): Locator {
  return page.getByTestId("task").filter({ has: page.getByTestId("task-title").getByText(title, { exact: true }) });
}

export async function titles(page: Page): Promise<string[]> {
  return page.getByTestId("task-title").allTextContents();
}

/** Waits until the list shows exactly these titles, in this order. */
export async function expectTitles(page: Page, expected: string[]): Promise<void> {
  await eventually(async () => {
    const actual = await titles(page);
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      throw new Error(`list shows ${JSON.stringify(actual)}, want ${JSON.stringify(expected)}`);
    }
  });
}

/** Waits until the summary line says "N tasks". */
export async function expectCount(page: Page, n: number): Promise<void> {
  const want = `${n} ${n === 1 ? "task" : "tasks"}`;
  await eventually(async () => {
    const text = (await page.getByTestId("task-count").textContent()) ?? "";
    if (text.trim() !== want) throw new Error(`count says ${JSON.stringify(text)}, want ${JSON.stringify(want)}`);
  });
}

/** Waits until the element with this id shows text containing part. */
export async function expectText(page: Page, id: string, part: string | RegExp): Promise<string> {
  let text = "";
  await eventually(async () => {
    text = (await page.locator(`[id="${id}"]`).textContent({ timeout: 1_000 })) ?? "";
    const ok = typeof part === "string" ? text.includes(part) : part.test(text);
    if (!ok) throw new Error(`#${id} says ${JSON.stringify(text)}, want ${String(part)}`);
  });
  return text;
}

/** Records the CreateTask calls the page sends (the POSTs, not CORS preflights). */
export function watchCreates(page: Page): { count(): number } {
  let n = 0;
  page.on("request", (req) => {
    if (req.method() === "POST" && req.url().endsWith("/tasks.v1.TaskService/CreateTask")) n++;
  });
  return { count: () => n };
}

/** A ListTasks request as the page sent it: the API's JSON form (fields with default values left out). */
export interface ListTasksJson {
  pageSize?: number;
  pageToken?: string;
  includeTotalSize?: boolean;
}

/**
 * Records the ListTasks requests the page sends, decoded: Connect GETs (the
 * app's transport sends ListTasks that way, as JSON in the message query
 * parameter) or POSTs. requests() throws if one was not JSON.
 */
export function watchListTasks(page: Page): { requests(): ListTasksJson[] } {
  const sent: ListTasksJson[] = [];
  const problems: string[] = [];
  page.on("request", (req) => {
    if (req.method() === "OPTIONS" || !new URL(req.url()).pathname.endsWith("/tasks.v1.TaskService/ListTasks")) return;
    try {
      sent.push(listTasksJson(req));
    } catch (err) {
      problems.push(String(err));
    }
  });
  return {
    requests() {
      if (problems.length > 0) throw new Error(`ListTasks requests the tests cannot read: ${problems.join("; ")}`);
      return [...sent];
    },
  };
}

function listTasksJson(req: Request): ListTasksJson {
  if (req.method() === "POST") {
    const type = req.headers()["content-type"] ?? "";
    if (!type.startsWith("application/json")) throw new Error(`a POST of ${type}`);
    return JSON.parse(req.postData() ?? "{}") as ListTasksJson;
  }
  const query = new URL(req.url()).searchParams;
  if (query.get("encoding") !== "json" || query.has("compression")) throw new Error(`a GET ${req.url()}`);
  const message = query.get("message") ?? "";
  return JSON.parse(query.get("base64") === "1" ? Buffer.from(message, "base64url").toString() : message) as ListTasksJson;
}

/** The titles the server-rendered overview (/overview) lists, in order. */
export async function overviewTitles(page: Page): Promise<string[]> {
  return page.getByTestId("overview-task").allTextContents();
}

/** A task as the route handler (/api/tasks) returns it: the API's JSON form (toJson). */
export interface TaskJson {
  id: string;
  title: string;
  priority?: string;
  tags?: string[];
  completed?: boolean;
}

/**
 * Every page of GET /api/tasks?pageSize=… with page's cookies (its signed-in
 * user), following nextPageToken; returns the tasks and each page's totalSize
 * (0 when the JSON leaves it out: only the first page asks for it).
 */
export async function routeTasks(page: Page, appUrl: string, pageSize: number): Promise<{ tasks: TaskJson[]; totals: number[] }> {
  const tasks: TaskJson[] = [];
  const totals: number[] = [];
  let token = "";
  do {
    const res = await page.request.get(`${appUrl}/api/tasks?pageSize=${pageSize}&pageToken=${encodeURIComponent(token)}`);
    if (res.status() !== 200) throw new Error(`GET /api/tasks: ${res.status()} ${await res.text()}`);
    const body = (await res.json()) as { tasks?: TaskJson[]; nextPageToken?: string; totalSize?: number };
    tasks.push(...(body.tasks ?? []));
    totals.push(body.totalSize ?? 0);
    token = body.nextPageToken ?? "";
  } while (token !== "");
  return { tasks, totals };
}

/** Waits until the board says its live updates are in this state (live, reconnecting, …). */
export async function expectLive(page: Page, status = "live", timeoutMs = 15_000): Promise<void> {
  await page.locator(`[data-testid="live-status"][data-status="${status}"]`).waitFor({ timeout: timeoutMs });
}

/** The signed-in user's API token, from Better-Auth in page (its session cookie). */
export async function apiTokenOf(page: Page): Promise<string> {
  return page.evaluate(async () => ((await (await fetch("/api/auth/token")).json()) as { token: string }).token);
}

/** The JWT's subject: the API's user id. */
export function subjectOf(token: string): string {
  return (JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as { sub: string }).sub;
}

/** Calls a TaskService method of the API at apiUrl over Connect JSON, from the test, as token's user. */
export async function callApi<T = unknown>(apiUrl: string, token: string, method: string, body: object): Promise<T> {
  const res = await fetch(`${apiUrl}/tasks.v1.TaskService/${method}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  const answer = (await res.json()) as T;
  if (!res.ok) throw new Error(`${method}: ${res.status} ${JSON.stringify(answer)}`);
  return answer;
}

/** The id of the focused element's task row, its own id, or its tag, for assertions about focus. */
export async function focused(page: Page): Promise<{ tag: string; id: string; name: string; taskId: string }> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    return {
      tag: el?.tagName.toLowerCase() ?? "",
      id: el?.id ?? "",
      name: el?.getAttribute("aria-label") ?? el?.getAttribute("name") ?? "",
      taskId: el?.closest<HTMLElement>("[data-task-id]")?.dataset.taskId ?? "",
    };
  });
}
