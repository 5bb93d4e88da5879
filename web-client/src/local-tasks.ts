import type { ListTaskChangesResponse, Task, TaskChange } from "./gen/tasks/v1/tasks_pb.js";
import type { TaskWatchEvent } from "./watch.js";

/**
 * A local copy of the caller's tasks, by id, kept up to date by applying
 * changes in order: first a full sync (from an empty cursor), then
 * increments. Feed it {@link watchTasks}' events with {@link apply}, or
 * ListTaskChanges answers with {@link applyPage}.
 *
 * ```ts
 * const local = new LocalTasks();
 * for await (const event of watchTasks(client, { cursor: local.cursor, signal })) {
 *   local.apply(event);
 *   if (local.current) render([...local.tasks.values()]);
 * }
 * ```
 */
export class LocalTasks {
  /** The tasks by id. Change it only through apply and applyPage. */
  readonly tasks = new Map<string, Task>();
  #cursor = "";
  #current = false;

  /**
   * Where the copy stands: pass it as watchTasks' or ListTaskChanges'
   * cursor to continue (store it with the tasks to continue after a
   * reload). Empty before anything was applied, and after a reset.
   */
  get cursor(): string {
    return this.#cursor;
  }

  /**
   * Whether the copy is current: it holds every change up to the server's
   * latest and, under watchTasks, hears new ones as they are made. False
   * until the first "current" event (or a last page, hasMore false), and
   * again from a "disconnected" or "reset" until the next "current".
   */
  get current(): boolean {
    return this.#current;
  }

  /** Applies one event of watchTasks; returns whether the tasks changed. */
  apply(event: TaskWatchEvent): boolean {
    switch (event.type) {
      case "changes":
        return this.#applyChanges(event.changes, event.cursor);
      case "current":
        this.#cursor = event.cursor;
        this.#current = true;
        return false;
      case "reset": {
        const had = this.tasks.size > 0;
        this.tasks.clear();
        this.#cursor = "";
        this.#current = false;
        return had;
      }
      case "disconnected":
        this.#current = false;
        return false;
    }
  }

  /**
   * Applies a ListTaskChanges answer to a request with this copy's cursor;
   * returns whether the tasks changed. The copy is current when it was the
   * last page (until the next change on the server, which only a watch hears).
   */
  applyPage(page: Pick<ListTaskChangesResponse, "changes" | "nextCursor" | "hasMore">): boolean {
    const changed = this.#applyChanges(page.changes, page.nextCursor);
    this.#current = !page.hasMore;
    return changed;
  }

  #applyChanges(changes: TaskChange[], cursor: string): boolean {
    let changed = false;
    for (const { change } of changes) {
      switch (change.case) {
        case "task":
          this.tasks.set(change.value.id, change.value);
          changed = true;
          break;
        case "deletedTaskId":
          changed = this.tasks.delete(change.value) || changed;
          break;
      }
    }
    if (cursor !== "") this.#cursor = cursor;
    return changed;
  }
}
