package catalog

// MaxNameLength is the longest identifier PostgreSQL keeps (NAMEDATALEN-1
// bytes). Organization names, table names and shard names obey it.
const MaxNameLength = 63

// Organization is a party that runs its own workers and validator (a bank,
// say). Workers of one organization are written with plain 2PC; a
// transaction over several organizations is committed by federated
// agreement among their validators.
type Organization struct {
	// Name identifies the organization: non-empty, at most MaxNameLength
	// bytes, unique.
	Name string
}

// String returns the organization's name.
func (o Organization) String() string { return o.Name }
