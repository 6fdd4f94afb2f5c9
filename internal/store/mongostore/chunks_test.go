package mongostore

import (
	"slices"
	"testing"

	"taxiihub/internal/store"
)

func TestChunks(t *testing.T) {
	sized := func(sizes ...int) []pending {
		var ps []pending
		for _, n := range sizes {
			ps = append(ps, pending{obj: store.Object{Content: make([]byte, n)}})
		}
		return ps
	}
	const mib = 1 << 20
	many := make([]int, 2*maxChunkObjects+1)
	for i := range many {
		many[i] = 1
	}
	cases := []struct {
		name  string
		batch []pending
		want  [][2]int
	}{
		{"none", nil, nil},
		{"one", sized(10), [][2]int{{0, 1}}},
		{"by count", sized(many...), [][2]int{{0, maxChunkObjects}, {maxChunkObjects, 2 * maxChunkObjects}, {2 * maxChunkObjects, 2*maxChunkObjects + 1}}},
		{"by bytes", sized(3*mib, 3*mib, 3*mib, 2*mib), [][2]int{{0, 2}, {2, 4}}},
		{"exactly the byte cap", sized(4*mib, 4*mib, 1), [][2]int{{0, 2}, {2, 3}}},
		{"an object over the cap goes alone", sized(1, 9*mib, 1), [][2]int{{0, 1}, {1, 2}, {2, 3}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got [][2]int
			for start, end := range chunks(tc.batch) {
				got = append(got, [2]int{start, end})
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
