package main

import (
	"os"
	"path/filepath"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	tasksv1 "github.com/example/tasks/gen/tasks/v1"
)

// writeH2loadFiles writes what bench/h2load.sh needs to call the Connect
// protocol with h2load: one seeded user's token, and request bodies in
// protobuf (NAME.bin) and JSON (NAME.json) for each procedure it calls.
// CreateTask has no request_id, so that each repetition of the same body
// stores a new task.
func writeH2loadFiles(dir string, pop *population) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	u := pop.regular[0]
	bodies := map[string]proto.Message{
		"GetTask":    &tasksv1.GetTaskRequest{Id: u.tasks[0]},
		"ListTasks":  &tasksv1.ListTasksRequest{PageSize: pageSize},
		"CreateTask": &tasksv1.CreateTaskRequest{Title: "Benchmark task", Description: description, Priority: tasksv1.Priority_PRIORITY_MEDIUM, Tags: []string{"bench", "t1"}},
	}
	files := map[string][]byte{"token": []byte(u.token)}
	if len(pop.deep) > 0 {
		d := pop.deep[0]
		bodies["ListTasksDeep"] = &tasksv1.ListTasksRequest{PageSize: pageSize, PageToken: d.deepToken}
		files["token-deep"] = []byte(d.token)
	}
	for name, m := range bodies {
		bin, err := proto.Marshal(m)
		if err != nil {
			return err
		}
		js, err := protojson.Marshal(m)
		if err != nil {
			return err
		}
		files[name+".bin"], files[name+".json"] = bin, js
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return err
		}
	}
	return nil
}
