package app

import "github.com/shuzhi-gov/shuzhi/internal/exchange"

// NewExchangeReplica builds a second exchange service on the core's
// database, as another process on the same database has one (tests).
func (c *Core) NewExchangeReplica() *exchange.Service {
	return exchange.New(exchange.Deps{DB: c.DB, Directory: &exchangeDir{ids: c.Identity}, Source: exchangeSource{c.Registry}, Cipher: c.Crypto.Fields(),
		Ledger: exchangeLedger{l: c.Ledger}, Events: c.Outbox, Calendar: c.Calendar.Calendar, Log: c.Log})
}
