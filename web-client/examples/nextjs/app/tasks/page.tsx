import { Code, ConnectError } from "@connectrpc/connect";
import { tasks } from "../../lib/tasks.server";

// A server component: the call runs on the server, as the signed-in user.
export default async function TasksPage() {
  try {
    const { tasks: list, totalSize } = await tasks.listTasks({ pageSize: 50 });
    return (
      <section>
        <h1>{totalSize} tasks</h1>
        <ul>
          {list.map((task) => (
            <li key={task.id}>{task.title}</li>
          ))}
        </ul>
      </section>
    );
  } catch (err) {
    if (err instanceof ConnectError && err.code === Code.Unauthenticated) {
      return <p>Please sign in.</p>;
    }
    throw err;
  }
}
