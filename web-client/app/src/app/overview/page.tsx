import { Code, ConnectError } from "@connectrpc/connect";
import { connection } from "next/server";
import { tasks } from "@/lib/tasks.server";

// A server component: the call runs on the server, as the signed-in user
// (src/lib/tasks.server.ts), and the browser gets the list as HTML.
export default async function OverviewPage() {
  await connection(); // rendered per request: the list is the caller's
  try {
    const { tasks: list, totalSize } = await tasks.listTasks({ pageSize: 50, includeTotalSize: true });
    return (
      <section className="card" aria-label="Overview">
        <h1 data-testid="overview-count">{`${totalSize} ${totalSize === 1 ? "task" : "tasks"}`}</h1>
        <ul>
          {list.map((task) => (
            <li key={task.id} data-testid="overview-task">
              {task.title}
            </li>
          ))}
        </ul>
      </section>
    );
  } catch (err) {
    if (err instanceof ConnectError && err.code === Code.Unauthenticated) {
      return (
        <p data-testid="overview-signed-out">
          Please <a href="/sign-in?next=/overview">sign in</a>.
        </p>
      );
    }
    throw err;
  }
}
