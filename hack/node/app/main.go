// The sample catalog's services: one small web application that every class's image runs. It serves
// its health path and a page naming the service, its version and the tenant, stops cleanly on
// SIGTERM, and needs nothing the restricted Pod Security profile forbids (any uid, read-only root).
//
//	app                      serve on $PORT (default 8080)
//	app connect HOST:PORT    exit 0 if a TCP connection opens within $TIMEOUT (default 2s), else 1
//	app resolve NAME         exit 0 if NAME resolves, printing its addresses, else 1
package main

import (
	"context"
	"errors"
	"fmt"
	"html"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func env(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

func timeout() time.Duration {
	d, err := time.ParseDuration(env("TIMEOUT", "2s"))
	if err != nil {
		return 2 * time.Second
	}
	return d
}

func connect(target string) int {
	conn, err := net.DialTimeout("tcp", target, timeout())
	if err != nil {
		fmt.Println("refused:", err)
		return 1
	}
	conn.Close()
	fmt.Println("connected:", target)
	return 0
}

func resolve(name string) int {
	ctx, cancel := context.WithTimeout(context.Background(), timeout())
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, name)
	if err != nil {
		fmt.Println("unresolved:", err)
		return 1
	}
	fmt.Println("resolved:", addrs)
	return 0
}

func serve() int {
	service, version := env("SECOVIA_SERVICE", "sample"), env("SECOVIA_VERSION", "0.0.0")
	health := env("HEALTH_PATH", "/healthz")
	mux := http.NewServeMux()
	mux.HandleFunc(health, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		tenant, country := os.Getenv("SECOVIA_TENANT"), os.Getenv("SECOVIA_COUNTRY")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("X-Secovia-Service", service)
		w.Header().Set("X-Secovia-Version", version)
		w.Header().Set("X-Secovia-Tenant", tenant)
		fmt.Fprintf(w, "<!doctype html><title>%s</title><h1>%s %s</h1><p>tenant %s (%s)</p><p>host %s</p>\n",
			html.EscapeString(service), html.EscapeString(service), html.EscapeString(version),
			html.EscapeString(tenant), html.EscapeString(country), html.EscapeString(r.Host))
	})
	srv := &http.Server{Addr: ":" + env("PORT", "8080"), Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		close(done)
	}()
	log.Printf("%s %s listening on %s", service, version, srv.Addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Print(err)
		return 1
	}
	<-done
	return 0
}

func main() {
	switch {
	case len(os.Args) == 3 && os.Args[1] == "connect":
		os.Exit(connect(os.Args[2]))
	case len(os.Args) == 3 && os.Args[1] == "resolve":
		os.Exit(resolve(os.Args[2]))
	case len(os.Args) == 1:
		os.Exit(serve())
	default:
		fmt.Fprintln(os.Stderr, "usage: app | app connect HOST:PORT | app resolve NAME")
		os.Exit(2)
	}
}
