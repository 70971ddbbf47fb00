// Command netprobe is the pods of the real node's NetworkPolicy test (infra/pipeline,
// TestNetworkPoliciesOnARealNode): it answers on the ports it is given and, run again inside a
// pod (kubectl exec), says which connections open. The node cannot pull images: the test builds
// it into an image of its own, as node.sh does the pause image.
//
//	netprobe serve tcp/8000 udp/53 ...            answer on each port until stopped
//	netprobe dial -timeout 2s tcp/10.0.0.1:5432 udp/10.0.0.2:53 ...
//
// dial prints one line per target, in the order given: "tcp/10.0.0.1:5432 open" or
// "tcp/10.0.0.1:5432 closed: REASON". A TCP target is open when the connection is made; a UDP
// one when the listener's echo comes back before the timeout.
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: netprobe serve PROTO/PORT... | netprobe dial [-timeout D] PROTO/HOST:PORT...")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "dial":
		err = dial(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q: serve or dial", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "netprobe:", err)
		os.Exit(1)
	}
}

// serve listens on every port given and answers until SIGTERM (as a pod's first process, a
// signal without a handler would be ignored).
func serve(ports []string) error {
	for _, p := range ports {
		proto, port, ok := strings.Cut(p, "/")
		if !ok {
			return fmt.Errorf("%q: want tcp/PORT or udp/PORT", p)
		}
		switch proto {
		case "tcp":
			l, err := net.Listen("tcp", ":"+port)
			if err != nil {
				return err
			}
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						continue
					}
					_, _ = c.Write([]byte("netprobe\n"))
					c.Close()
				}
			}()
		case "udp":
			c, err := net.ListenPacket("udp", ":"+port)
			if err != nil {
				return err
			}
			go func() {
				buf := make([]byte, 512)
				for {
					n, from, err := c.ReadFrom(buf)
					if err == nil {
						_, _ = c.WriteTo(buf[:n], from)
					}
				}
			}()
		default:
			return fmt.Errorf("%q: want tcp/PORT or udp/PORT", p)
		}
	}
	fmt.Println("serving", strings.Join(ports, " "))
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
	return nil
}

// dial tries every target at once and prints the outcomes in the order given.
func dial(args []string) error {
	fs := flag.NewFlagSet("dial", flag.ContinueOnError)
	timeout := fs.Duration("timeout", 2*time.Second, "how long a target may take to answer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	targets := fs.Args()
	results := make([]string, len(targets))
	var wg sync.WaitGroup
	for i, target := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := try(target, *timeout); err != nil {
				results[i] = target + " closed: " + err.Error()
			} else {
				results[i] = target + " open"
			}
		}()
	}
	wg.Wait()
	fmt.Println(strings.Join(results, "\n"))
	return nil
}

func try(target string, timeout time.Duration) error {
	proto, addr, ok := strings.Cut(target, "/")
	if !ok || (proto != "tcp" && proto != "udp") {
		return fmt.Errorf("want tcp/HOST:PORT or udp/HOST:PORT")
	}
	c, err := net.DialTimeout(proto, addr, timeout)
	if err != nil {
		return err
	}
	defer c.Close()
	if proto == "tcp" {
		return nil
	}
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	if _, err := c.Write([]byte("netprobe?")); err != nil {
		return err
	}
	buf := make([]byte, 64)
	if _, err := c.Read(buf); err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return fmt.Errorf("no answer in %s", timeout)
		}
		return err
	}
	return nil
}
