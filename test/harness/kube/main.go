// Command kube-testcluster runs the real, unmodified kube-apiserver and
// kube-controller-manager from k8s.io/kubernetes, plus an embedded etcd, so
// Gatehouse's tests can start real Kubernetes control planes on loopback
// without Docker or downloaded release binaries. Test tooling only: it is not
// part of the Gatehouse product.
//
// Usage:
//
//	kube-testcluster apiserver --etcd-dir DIR --etcd-client-url URL --etcd-peer-url URL -- [kube-apiserver flags]
//	kube-testcluster controller-manager [kube-controller-manager flags]
//	kube-testcluster version
package main

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"time"
	_ "time/tzdata"

	"go.etcd.io/etcd/server/v3/embed"
	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/component-base/version"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	controllermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	exitWithParent()
	switch os.Args[1] {
	case "apiserver":
		os.Exit(runAPIServer(os.Args[2:]))
	case "controller-manager":
		cmd := controllermanager.NewControllerManagerCommand()
		cmd.SetArgs(os.Args[2:])
		os.Exit(cli.Run(cmd))
	case "version":
		fmt.Println(version.Get().GitVersion)
	default:
		usage()
	}
}

// exitWithParent stops this process when the test process that started it
// dies (even by kill -9), so no orphaned control planes outlive a test run.
func exitWithParent() {
	if os.Getenv("KUBE_TESTCLUSTER_EXIT_WITH_PARENT") != "1" {
		return
	}
	parent := os.Getppid()
	go func() {
		for range time.Tick(500 * time.Millisecond) {
			if os.Getppid() != parent {
				os.Exit(3)
			}
		}
	}()
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: kube-testcluster apiserver|controller-manager|version [flags]")
	os.Exit(2)
}

func runAPIServer(args []string) int {
	fs := flag.NewFlagSet("apiserver", flag.ContinueOnError)
	etcdDir := fs.String("etcd-dir", "", "run an embedded etcd with its data in this directory")
	clientURL := fs.String("etcd-client-url", "http://127.0.0.1:2379", "embedded etcd client URL")
	peerURL := fs.String("etcd-peer-url", "http://127.0.0.1:2380", "embedded etcd peer URL")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	rest := fs.Args()
	if *etcdDir != "" {
		stop, err := startEtcd(*etcdDir, *clientURL, *peerURL)
		if err != nil {
			fmt.Fprintf(os.Stderr, "embedded etcd: %v\n", err)
			return 1
		}
		defer stop()
		rest = append([]string{"--etcd-servers=" + *clientURL}, rest...)
	}
	cmd := apiserver.NewAPIServerCommand()
	cmd.SetArgs(rest)
	return cli.Run(cmd)
}

func startEtcd(dir, client, peer string) (func(), error) {
	cu, err := url.Parse(client)
	if err != nil {
		return nil, err
	}
	pu, err := url.Parse(peer)
	if err != nil {
		return nil, err
	}
	cfg := embed.NewConfig()
	cfg.Name = "default"
	cfg.Dir = dir
	cfg.ListenClientUrls = []url.URL{*cu}
	cfg.AdvertiseClientUrls = []url.URL{*cu}
	cfg.ListenPeerUrls = []url.URL{*pu}
	cfg.AdvertisePeerUrls = []url.URL{*pu}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.LogLevel = "error"
	// Test clusters are disposable; fsync only slows the test suite down.
	cfg.UnsafeNoFsync = true
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, err
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(60 * time.Second):
		e.Close()
		return nil, fmt.Errorf("etcd did not become ready within 60s")
	case err := <-e.Err():
		e.Close()
		return nil, err
	}
	return e.Close, nil
}
