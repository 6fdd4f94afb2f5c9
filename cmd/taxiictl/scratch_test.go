package main

import "testing"

func TestScratch(t *testing.T) {
	h := startHub(t)
	for _, args := range [][]string{
		{"token", "issue", "--operator", "--ttl", "5x"},
		{"token", "issue", "--operator", "--ttl", "-5d"},
		{"token", "issue", "--operator", "--ttl", "5000d"},
		{"partnership", "create", "x"},
		{"member", "add", "m1", "--name", "N"},
		{"collection", "create", "nope", "--title", "T", "--media-type", "application/json"},
		{"audit", "--json", "--limit", "0"},
	} {
		st, out, errOut := h.ctl(t, args...)
		t.Logf("%v: %d\nOUT:%s\nERR:%s", args, st, out, errOut)
	}
}
