package app

import "github.com/shuzhi-gov/shuzhi/internal/exchange"

// NewExchangeReplica builds a second exchange service on the core's
// database, as another process (a replica) on the same database has one
// (tests).
func (c *Core) NewExchangeReplica() *exchange.Service {
	ex, err := c.newExchange()
	if err != nil {
		panic(err)
	}
	return ex
}
