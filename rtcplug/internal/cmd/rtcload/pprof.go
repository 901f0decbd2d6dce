package main

import (
	"fmt"
	"net/http"
	"net/http/pprof"
	"os"

	"github.com/go-chi/chi/v5"
)

// pprofEnv, when set in the environment, makes a served receiver offer the
// runtime's profiles (CPU, heap, goroutines) under /debug/pprof/ on its HTTP
// port, and print that address to stderr, so that a load run can be profiled
// from outside: go tool pprof http://ADDR/debug/pprof/profile?seconds=10.
const pprofEnv = "RTCLOAD_PPROF"

func mountPprof(r chi.Router, base string) {
	if os.Getenv(pprofEnv) == "" {
		return
	}
	r.HandleFunc("/debug/pprof/", pprof.Index)
	r.HandleFunc("/debug/pprof/profile", pprof.Profile)
	r.Handle("/debug/pprof/{name}", http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		pprof.Handler(chi.URLParam(req, "name")).ServeHTTP(w, req)
	}))
	fmt.Fprintf(os.Stderr, "rtcload: pid %d profiles at %s/debug/pprof/\n", os.Getpid(), base)
}
