// Command hookflow is the Hookflow server and CLI. A custom build with more connectors
// copies this file and adds blank imports.
package main

import (
	"os"

	"github.com/hookflow/hookflow/cmd/cli"
	_ "github.com/hookflow/hookflow/connectors/all"
)

func main() {
	os.Exit(cli.Main(os.Args[1:]))
}
