package alloclimit

import "testing"

var sink []byte

func TestAllocatedCounts(t *testing.T) {
	n := Allocated(func() { sink = make([]byte, 8<<20) })
	if n < 8<<20 {
		t.Fatalf("Allocated = %d, want at least %d", n, 8<<20)
	}
	if n := Allocated(func() {}); n > 1<<20 {
		t.Fatalf("an empty call allocated %d bytes", n)
	}
}

func TestCheckFails(t *testing.T) {
	ft := &testing.T{}
	done := make(chan bool)
	go func() {
		defer func() { done <- ft.Failed() }()
		Check(ft, 1<<20, func() { sink = make([]byte, 4<<20) })
	}()
	if !<-done {
		t.Fatal("Check did not fail on 4 MiB against a 1 MiB bound")
	}
}
