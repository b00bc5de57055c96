// Package connectors is the Connector SDK: the types a connector implements and registers,
// the field specs that describe its connection and its actions, the registry, and the
// error kinds that tell the runner whether a failed call is worth retrying.
//
// A connector package registers itself from init, the way database/sql drivers do:
//
//	func init() {
//		connectors.MustRegister(&connectors.Connector{
//			Name: "acme", Title: "Acme",
//			Connection: []connectors.Field{{Name: "token", Type: connectors.TypeString, Secret: true}},
//			Actions:    []*connectors.ActionDef{createThing},
//		})
//	}
//
// and a binary picks connectors with blank imports (see connectors/all). The SDK imports
// nothing else of Hookflow, so a third-party connector module pulls in neither the engine
// nor its database layer.
package connectors
