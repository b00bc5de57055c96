// Command hookflow is the Hookflow server and CLI. A custom build with more connectors
// copies this file and adds blank imports.
package main

import (
	"os"
	// The time zone database in the binary: schedules and the admin UI take IANA zones,
	// and a minimal container may have no /usr/share/zoneinfo.
	_ "time/tzdata"

	"github.com/hookflow/hookflow/cmd/cli"
	_ "github.com/hookflow/hookflow/connectors/all"
)

func main() {
	os.Exit(cli.Main(os.Args[1:]))
}
