// Command pause is the sandbox process of the cluster tests' real node (infra/kube/node.sh): it
// holds the pod's namespaces open until the runtime stops it, and reaps the orphans it inherits
// as the pod's first process. It stands in for registry.k8s.io/pause, which this machine cannot
// pull; node.sh builds it into the image the node's containerd runs every pod sandbox from.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range signals {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var status syscall.WaitStatus
			if pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil); pid <= 0 || err != nil {
				break
			}
		}
	}
}
