// Package loopback holds what the load scripts share to run a server on
// 127.0.0.1: a free address, and waiting until it answers.
package loopback

import (
	"fmt"
	"net"
	"net/http"
	"time"
)

// FreeAddr returns a loopback address ("127.0.0.1:PORT") nothing listens on
// right now.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// WaitReady polls url until it answers 200, for at most timeout.
func WaitReady(url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer 200 within %v", url, timeout)
}
