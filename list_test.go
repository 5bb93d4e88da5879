package tasks

import (
	"strings"
	"testing"
	"time"
)

func TestListQueryNormalize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ size, want int }{{0, DefaultPageSize}, {1, 1}, {MaxPageSize, MaxPageSize}, {MaxPageSize + 1, MaxPageSize}} {
		q, err := ListQuery{PageSize: tc.size}.Normalize()
		if err != nil || q.PageSize != tc.want {
			t.Errorf("page size %d: %d, %v; want %d", tc.size, q.PageSize, err, tc.want)
		}
	}
	before := time.Date(2030, 1, 1, 0, 0, 0, 999, time.UTC)
	q, err := ListQuery{Filter: TaskFilter{Tag: "WORK", Query: "MiXeD", DueBefore: &before}}.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	if q.Order != OrderCreateTimeDesc || q.Filter.Tag != "work" || q.Filter.Query != "MiXeD" || q.Filter.DueBefore.Nanosecond() != 1000 {
		t.Errorf("normalized: %+v", q)
	}

	for _, tc := range []struct {
		name  string
		q     ListQuery
		field string
	}{
		{"negative page size", ListQuery{PageSize: -1}, "page_size"},
		{"undefined order", ListQuery{Order: 7}, "order_by"},
		{"undefined priority", ListQuery{Filter: TaskFilter{Priority: 4}}, "priority"},
		{"long query", ListQuery{Filter: TaskFilter{Query: strings.Repeat("é", MaxQueryLen+1)}}, "query"},
		{"due_before out of range", ListQuery{Filter: TaskFilter{DueBefore: ptr(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))}}, "due_before"},
		{"due_after out of range", ListQuery{Filter: TaskFilter{DueAfter: ptr(time.Time{}.Add(-time.Hour))}}, "due_after"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := tc.q.Normalize()
			wantFieldError(t, err, tc.field)
		})
	}
}

func TestChangeQueryNormalize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ size, want int }{{0, DefaultChangePageSize}, {7, 7}, {MaxChangePageSize + 1, MaxChangePageSize}} {
		q, err := ChangeQuery{PageSize: tc.size}.Normalize()
		if err != nil || q.PageSize != tc.want {
			t.Errorf("page size %d: %d, %v; want %d", tc.size, q.PageSize, err, tc.want)
		}
	}
	_, err := ChangeQuery{PageSize: -1}.Normalize()
	wantFieldError(t, err, "page_size")
}
