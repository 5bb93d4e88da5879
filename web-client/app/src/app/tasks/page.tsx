import { redirect } from "next/navigation";
import { currentUser } from "@/lib/session";
import { NewTaskForm } from "./new-task-form";
import { TaskBoard } from "./task-board";

export default async function TasksPage() {
  if (!(await currentUser())) redirect("/sign-in?next=/tasks");
  return (
    <div className="tasks-page">
      <h1 className="page-title">Your tasks</h1>
      <NewTaskForm />
      <TaskBoard />
    </div>
  );
}
