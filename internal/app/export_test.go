package app

import (
	"path/filepath"

	"github.com/shuzhi-gov/shuzhi/internal/exchange"
)

// NewExchangeReplica builds a second exchange service on the core's
// database, with the same node identity, as another process (a replica)
// on the same database has one (tests).
func (c *Core) NewExchangeReplica() *exchange.Service {
	var node *exchange.NodeIdentity
	if c.Cfg.NodeID != "" {
		key, err := exchange.LoadNodeKey(filepath.Join(c.Cfg.DataDir, "keys"))
		if err != nil {
			panic(err)
		}
		node = &exchange.NodeIdentity{ID: c.Cfg.NodeID, Name: c.Cfg.NodeName, Level: c.Cfg.NodeLevel, URL: c.Cfg.PublicURL, Key: key}
	}
	return exchange.New(exchange.Deps{DB: c.DB, Directory: &exchangeDir{ids: c.Identity}, Source: exchangeSource{c.Registry}, Cipher: c.Crypto.Fields(),
		Ledger: exchangeLedger{l: c.Ledger}, Events: c.Outbox, Calendar: c.Calendar.Calendar, Log: c.Log, Node: node})
}
