package commit

// Request returns the request the participant learned for gid — the only
// one it ever votes on — if it knows one (a gid it pruned as final is
// unknown again). A gateway asks it before letting a coordinator prepare
// a part of gid.
func (p *Participant) Request(gid string) (Request, bool) {
	t := p.txns[gid]
	if t == nil {
		return Request{}, false
	}
	return t.req.clone(), true
}
