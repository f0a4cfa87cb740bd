// A checksum database for tests: signs go.sum lines read from a file with a
// fresh key, prints the verifier key and the address, then serves.
package main

import (
	"bufio"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"

	"golang.org/x/mod/sumdb"
	"golang.org/x/mod/sumdb/note"
)

func main() {
	name, linesFile := os.Args[1], os.Args[2]
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		panic(err)
	}
	data, err := os.ReadFile(linesFile)
	if err != nil {
		panic(err)
	}
	gosum := func(path, vers string) ([]byte, error) {
		var out []string
		for _, l := range strings.Split(string(data), "\n") {
			f := strings.Fields(l)
			if len(f) == 3 && f[0] == path && (f[1] == vers || f[1] == vers+"/go.mod") {
				out = append(out, l+"\n")
			}
		}
		if len(out) == 0 {
			return nil, os.ErrNotExist
		}
		return []byte(strings.Join(out, "")), nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s http://%s\n", vkey, ln.Addr())
	os.Stdout.Sync()
	go func() { bufio.NewReader(os.Stdin).ReadString('\n'); os.Exit(0) }()
	panic(http.Serve(ln, sumdb.NewServer(sumdb.NewTestServer(skey, gosum))))
}
