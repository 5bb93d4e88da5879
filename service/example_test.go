package service_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/example/tasks"
	"github.com/example/tasks/auth"
	"github.com/example/tasks/service"
)

// Authentication sits in front of the Connect handlers; handlers read the
// caller with tasks.UserFrom.
func ExampleAuthenticate() {
	secret := []byte("a-local-secret-of-32-bytes-or-more")
	v, err := auth.New(context.Background(), auth.Config{Secret: secret})
	if err != nil {
		panic(err)
	}
	defer v.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("/tasks.v1.TaskService/GetTask", func(w http.ResponseWriter, r *http.Request) {
		user, _ := tasks.UserFrom(r.Context())
		fmt.Fprint(w, user.ID)
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {})
	public := []string{"/grpc.health.v1.Health/", "/healthz"}
	handler := service.Authenticate(v, public, slog.New(slog.DiscardHandler), nil)(mux)

	for _, path := range []string{"/healthz", "/tasks.v1.TaskService/GetTask"} {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, nil))
		fmt.Println(path, rec.Code)
	}
	token, _ := auth.MintHS256(secret, auth.TokenRequest{Subject: "user-1", TTL: time.Minute})
	req := httptest.NewRequest(http.MethodPost, "/tasks.v1.TaskService/GetTask", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Body.String())
	// Output:
	// /healthz 200
	// /tasks.v1.TaskService/GetTask 401
	// 200 user-1
}
