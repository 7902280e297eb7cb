package dtx

// Federation returns the federation the coordinator was configured with
// (nil: none). Callers must not change it; the Citus API's pgfed_ledger
// reads the validators' ledgers with it.
func (c *Coordinator) Federation() *Federation { return c.cfg.Federation }
