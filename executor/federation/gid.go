package federation

// GIDPrefix starts the global transaction id of every federated
// (cross-organization) transaction, and so the gid of each of its prepared
// parts. It must differ from dtx.GIDPrefix ("pgfed_"), the prefix of the
// coordinator's own two-phase commits: dtx recovery settles every prepared
// transaction under its prefix by the metadata database's decision log
// (presumed abort), which would roll back a federated part that only the
// organization's validator may finalize; and the orphan sweep here must
// never touch a dtx transaction. Neither prefix is a prefix of the other.
const GIDPrefix = "pgfedx_"
