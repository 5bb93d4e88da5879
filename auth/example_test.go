package auth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/example/tasks/auth"
)

// The token command mints with the server's secret; the server accepts it.
func ExampleMintHS256() {
	secret := []byte("a-local-secret-of-32-bytes-or-more")
	token, err := auth.MintHS256(secret, auth.TokenRequest{Subject: "user-1", TTL: 15 * time.Minute})
	if err != nil {
		panic(err)
	}
	v, err := auth.New(context.Background(), auth.Config{Secret: secret})
	if err != nil {
		panic(err)
	}
	defer v.Close()
	user, err := v.Verify(context.Background(), token)
	fmt.Println(user.ID, err)
	// Output: user-1 <nil>
}

// The HTTP layer asks the verifier for the caller of each request.
func ExampleVerifier_Authenticate() {
	secret := []byte("a-local-secret-of-32-bytes-or-more")
	v, err := auth.New(context.Background(), auth.Config{Secret: secret})
	if err != nil {
		panic(err)
	}
	defer v.Close()
	token, _ := auth.MintHS256(secret, auth.TokenRequest{Subject: "user-1", TTL: time.Minute})
	req := httptest.NewRequest(http.MethodPost, "/tasks.v1.TaskService/GetTask", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	user, err := v.Authenticate(req)
	fmt.Println(user.ID, err)

	_, err = v.Authenticate(httptest.NewRequest(http.MethodPost, "/tasks.v1.TaskService/GetTask", nil))
	fmt.Println(err)
	// Output:
	// user-1 <nil>
	// invalid token: no single Authorization: Bearer header
}
