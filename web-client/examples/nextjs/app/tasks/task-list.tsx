"use client";

import { createConnectQueryKey, useMutation, useQuery } from "@connectrpc/connect-query";
import { useQueryClient } from "@tanstack/react-query";
import {
  CreateTaskRequestSchema,
  errorReason,
  fieldViolations,
  TaskService,
  validate,
  type FieldViolation,
} from "@example/tasks-client";
import { useState } from "react";

const { createTask, getTask, listTasks } = TaskService.method;

export function TaskList() {
  const { data, error, isPending } = useQuery(listTasks, { pageSize: 20 });
  if (isPending) return <p>Loading…</p>;
  if (error) return <p>Could not load tasks ({errorReason(error) ?? error.code}).</p>;
  return (
    <ul>
      {data.tasks.map((task) => (
        <li key={task.id}>{task.title}</li>
      ))}
    </ul>
  );
}

export function TaskDetails({ id }: { id: string }) {
  const { data, error } = useQuery(getTask, { id });
  if (errorReason(error) === "NOT_FOUND") return <p>No such task.</p>;
  return <h1>{data?.task?.title}</h1>;
}

export function NewTaskForm() {
  const queryClient = useQueryClient();
  const [title, setTitle] = useState("");
  const [problems, setProblems] = useState<FieldViolation[]>([]);
  const create = useMutation(createTask, {
    onSuccess: () =>
      queryClient.invalidateQueries({
        queryKey: createConnectQueryKey({ schema: listTasks, cardinality: undefined }),
      }),
    // The server checks the same rules; its violations have the same shape.
    onError: (err) => setProblems(fieldViolations(err)),
  });

  function submit() {
    const request = { title };
    const checked = validate(CreateTaskRequestSchema, request); // before sending
    setProblems(checked.violations);
    if (checked.valid) create.mutate({ ...request, requestId: crypto.randomUUID() });
  }

  return (
    <form action={submit}>
      <input value={title} onChange={(e) => setTitle(e.target.value)} />
      {problems
        .filter((p) => p.field === "title")
        .map((p) => (
          <small key={p.rule}>{p.message}</small>
        ))}
      <button disabled={create.isPending}>Add</button>
    </form>
  );
}
