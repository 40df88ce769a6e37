// SPDX-License-Identifier: MIT
// hu_goclient - the Go client of the supervisor tests (standard library
// only, built with CGO_ENABLED=0: a static binary that connects with its
// own system calls, out of LD_PRELOAD's reach).
//
//	hu_goclient http URL          GET URL; prints the status and the body's first line
//	hu_goclient tcp HOST:PORT     dial; prints the first line the server sends
//	hu_goclient bench HOST:PORT N dial and close N times; prints the count
//	hu_goclient dns NAME          look NAME up with Go's own resolver
//	hu_goclient sleep SECONDS     sleep (signal and reaping tests)
//	hu_goclient serve ADDR        accept forever; send each "hello from hu_goclient"
//
// Failures print "error: ..." (Go's own error text) on stdout; exit 1.
package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

func fail(err error) {
	fmt.Println("error:", err)
	os.Exit(1)
}

func get(url string) {
	c := &http.Client{Timeout: 60 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		fail(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, strings.SplitN(string(body), "\n", 2)[0])
}

func dial(addr string) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		fail(err)
	}
	defer c.Close()
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil && line == "" {
		fail(err)
	}
	fmt.Print(line)
}

func bench(addr string, n int) {
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			fail(err)
		}
		c.Close()
	}
	fmt.Println(n)
}

func lookup(name string) {
	r := &net.Resolver{PreferGo: true}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	t0 := time.Now()
	addrs, err := r.LookupHost(ctx, name)
	ms := time.Since(t0).Milliseconds()
	if err != nil {
		fmt.Fprintf(os.Stderr, "lookup_ms %d\n", ms)
		fail(err)
	}
	fmt.Fprintf(os.Stderr, "lookup_ms %d\n", ms)
	fmt.Println(strings.Join(addrs, " "))
}

func serve(addr string) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		fail(err)
	}
	for {
		c, err := l.Accept()
		if err != nil {
			continue
		}
		fmt.Fprintln(c, "hello from hu_goclient")
		c.Close()
	}
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: hu_goclient http URL | tcp HOST:PORT | bench HOST:PORT N | dns NAME | sleep S | serve ADDR")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "http":
		get(os.Args[2])
	case "tcp":
		dial(os.Args[2])
	case "bench":
		n, _ := strconv.Atoi(os.Args[3])
		bench(os.Args[2], n)
	case "dns":
		lookup(os.Args[2])
	case "serve":
		serve(os.Args[2])
	case "sleep":
		s, _ := strconv.Atoi(os.Args[2])
		time.Sleep(time.Duration(s) * time.Second)
	default:
		os.Exit(2)
	}
}
