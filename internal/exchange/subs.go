package exchange

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// Subscriptions: a consumer with a grant subscribes to changes of a
// resource and receives the changed records — projected and masked under
// its grant, and recorded as accesses like any query — either on the bus
// (event exchange.change, subject shuzhi.events.exchange.change) or by a
// webhook signed with HMAC-SHA256 (header X-Shuzhi-Signature:
// sha256=<hex of HMAC-SHA256 keyed with the secret string's bytes, of the
// body>), retried with back-off.

// Subscription is a consumer's standing request for changes.
type Subscription struct {
	ID           string `json:"id"`
	Grant        string `json:"grant"`
	Resource     string `json:"resource"`
	ResourceName string `json:"resourceName"`
	Kind         string `json:"kind" enum:"bus,webhook"`
	URL          string `json:"url,omitempty"`
	Secret       string `json:"secret,omitempty" doc:"Webhook HMAC key: shown once, at creation"`
	Status       string `json:"status" enum:"active,cancelled"`
	CreatedAt    int64  `json:"createdAt"`
	Pending      int    `json:"pending" doc:"Deliveries waiting"`
	Failed       int    `json:"failed" doc:"Deliveries given up after all retries"`
	Delivered    int    `json:"delivered"`
}

// NewSubscription is the input of Subscribe.
type NewSubscription struct {
	Grant string `json:"grant" minLength:"1" maxLength:"36"`
	Kind  string `json:"kind" enum:"bus,webhook"`
	URL   string `json:"url,omitempty" maxLength:"500" doc:"Webhook URL (http or https)"`
}

// Change is what a subscriber receives.
type Change struct {
	EventID  string              `json:"eventId"`
	Resource string              `json:"resource"`
	Grant    string              `json:"grant"`
	AccessID string              `json:"accessId"`
	At       int64               `json:"at"`
	Records  []map[string]string `json:"records"`
}

// EventType implements bus.Event.
func (Change) EventType() string { return "exchange.change" }

// Subscribe subscribes the caller's organisation under one of its grants.
func (s *Service) Subscribe(ctx context.Context, in NewSubscription) (*Subscription, error) {
	p, err := authz.Require(ctx, authz.ExchangeQuery)
	if err != nil {
		return nil, err
	}
	g, err := s.grant(ctx, in.Grant)
	if err != nil || g.ConsumerOrg != p.OrgID {
		return nil, errs.Invalid("grant", "yours", "no such grant of your organisation", "本部门没有该授权")
	}
	if g.Status != "active" {
		return nil, errs.Invalid("grant", "active", "the grant is "+g.Status, "授权已失效")
	}
	r, err := s.resource(ctx, g.ResourceID)
	if err != nil {
		return nil, err
	}
	if r.Backend != Hosted {
		return nil, errs.Invalid("grant", "hosted", "changes are published for resources hosted by the platform", "只有平台托管的资源提供变更订阅")
	}
	sub := &Subscription{ID: newID(), Grant: g.ID, Resource: r.Code, ResourceName: r.Name, Kind: in.Kind, Status: "active", CreatedAt: s.nowMs()}
	var sealed string
	if in.Kind == "webhook" {
		u, err := url.Parse(in.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, errs.Invalid("url", "format", "a webhook needs an http(s) URL", "回调地址应为 http(s) URL")
		}
		sub.URL = in.URL
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		sub.Secret = hex.EncodeToString(key)
		if sealed, err = s.seal([]byte(sub.Secret), "sub:"+sub.ID); err != nil {
			return nil, err
		}
	}
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.db.Exec(ctx, `INSERT INTO ex_subscriptions (id, grant_id, resource_id, consumer_org, kind, url, secret, status, created_by, created_at)
			VALUES (?,?,?,?,?,?,?,?,?,?)`, sub.ID, g.ID, r.ID, p.OrgID, sub.Kind, sub.URL, sealed, sub.Status, p.ID, sub.CreatedAt); err != nil {
			return err
		}
		return s.evidence(ctx, p, "exchange.subscribe", "resource:"+r.Code, g.Purpose, g.Basis, map[string]any{"subscription": sub.ID, "kind": sub.Kind})
	})
	if err != nil {
		return nil, err
	}
	return sub, nil
}

// Subscriptions lists the caller's organisation's subscriptions.
func (s *Service) Subscriptions(ctx context.Context) ([]Subscription, error) {
	p, err := authz.Require(ctx, authz.ExchangeQuery)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT s.id, s.grant_id, r.code, r.name, s.kind, s.url, s.status, s.created_at,
		(SELECT COUNT(*) FROM ex_deliveries d WHERE d.subscription_id = s.id AND d.status = 'pending'),
		(SELECT COUNT(*) FROM ex_deliveries d WHERE d.subscription_id = s.id AND d.status = 'failed'),
		(SELECT COUNT(*) FROM ex_deliveries d WHERE d.subscription_id = s.id AND d.status = 'delivered')
		FROM ex_subscriptions s JOIN ex_resources r ON r.id = s.resource_id WHERE s.consumer_org = ? ORDER BY s.created_at DESC`, p.OrgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Subscription{}
	for rows.Next() {
		var x Subscription
		if err := rows.Scan(&x.ID, &x.Grant, &x.Resource, &x.ResourceName, &x.Kind, &x.URL, &x.Status, &x.CreatedAt, &x.Pending, &x.Failed, &x.Delivered); err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// Unsubscribe cancels a subscription of the caller's organisation.
func (s *Service) Unsubscribe(ctx context.Context, id string) error {
	p, err := authz.Require(ctx, authz.ExchangeQuery)
	if err != nil {
		return err
	}
	res, err := s.db.Exec(ctx, `UPDATE ex_subscriptions SET status = 'cancelled' WHERE id = ? AND consumer_org = ?`, id, p.OrgID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.NotFound("subscription", id)
	}
	return nil
}

// queueChanges writes, in the load's transaction, one delivery per active
// subscription of the resource with the changed records under its grant,
// and records that access (the subscriber receives the data).
func (s *Service) queueChanges(ctx context.Context, r *Resource, changed []map[string]string, subjects []string) ([]*accessBody, error) {
	if len(changed) == 0 {
		return nil, nil
	}
	rows, err := s.db.Query(ctx, `SELECT id, grant_id, kind FROM ex_subscriptions WHERE resource_id = ? AND status = 'active'`, r.ID)
	if err != nil {
		return nil, err
	}
	type sub struct{ id, grant, kind string }
	var subs []sub
	for rows.Next() {
		var x sub
		if err := rows.Scan(&x.id, &x.grant, &x.kind); err != nil {
			rows.Close()
			return nil, err
		}
		subs = append(subs, x)
	}
	rows.Close()
	now := s.nowMs()
	var bodies []*accessBody
	for _, x := range subs {
		g, err := s.grant(ctx, x.grant)
		if err != nil || g.Status != "active" {
			continue
		}
		recs := make([]map[string]string, len(changed))
		for i, vals := range changed {
			out := make(map[string]string, len(g.Fields))
			for _, f := range g.Fields {
				it, _ := r.item(f)
				v := vals[f]
				if it.Personal != "" && !slices.Contains(g.ClearFields, f) {
					v = maskValue(it, v)
				}
				out[f] = v
			}
			recs[i] = out
		}
		sys := &authz.Principal{Kind: authz.KindSystem, ID: "subscription:" + x.id, Name: "subscription"}
		body := s.accessBody(caller{p: sys, node: g.ConsumerNode, org: g.ConsumerOrg, name: g.ConsumerName}, r, g, g.Fields, g.ClearFields, "ok", "", len(recs), nonEmptySubjects(subjects))
		ch := Change{EventID: newID(), Resource: r.Code, Grant: g.ID, AccessID: body.ID, At: now, Records: recs}
		if x.kind == "bus" {
			if s.events != nil {
				if err := s.events.Emit(ctx, ch, "exchange.change."+g.ConsumerOrg); err != nil {
					return nil, err
				}
			}
		} else if _, err := s.db.Exec(ctx, `INSERT INTO ex_deliveries (id, subscription_id, body, next_at, status, created_at) VALUES (?, ?, ?, ?, 'pending', ?)`,
			ch.EventID, x.id, mustJSON(ch), now, now); err != nil {
			return nil, err
		}
		bodies = append(bodies, body)
	}
	return bodies, nil
}

func nonEmptySubjects(in []string) []string {
	var out []string
	for _, s := range in {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (s *Service) kickDeliveries() {
	select {
	case s.kickDeliv <- struct{}{}:
	default:
	}
}

// maxAttempts is how often a webhook delivery is tried before it fails.
const maxAttempts = 8

// backoff is the wait before attempt n+1 (1 s, 2 s, 4 s, … capped at 10 min).
func backoff(n int) time.Duration {
	d := time.Second << min(n, 10)
	return min(d, 10*time.Minute)
}

// Deliver sends waiting webhook deliveries until ctx ends.
func (s *Service) Deliver(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		if _, err := s.DeliverOnce(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("exchange: webhook deliveries", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-s.kickDeliv:
		case <-t.C:
		}
	}
}

// deliveryClaim is how long a process holds a delivery it is posting
// (the post's own timeout is 10 s).
const deliveryClaim = 2 * time.Minute

// DeliverOnce tries every delivery that is due; it returns how many were
// delivered.
func (s *Service) DeliverOnce(ctx context.Context) (int, error) {
	now := s.nowMs()
	rows, err := s.db.Query(ctx, `SELECT d.id, d.body, d.attempts, d.next_at, s.id, s.url, s.secret, s.status FROM ex_deliveries d
		JOIN ex_subscriptions s ON s.id = d.subscription_id WHERE d.status = 'pending' AND d.next_at <= ? ORDER BY d.next_at LIMIT 100`, now)
	if err != nil {
		return 0, err
	}
	type del struct {
		id, body, sub, url, status string
		secret                     string
		attempts                   int
		next                       int64
	}
	var ds []del
	for rows.Next() {
		var x del
		if err := rows.Scan(&x.id, &x.body, &x.attempts, &x.next, &x.sub, &x.url, &x.secret, &x.status); err != nil {
			rows.Close()
			return 0, err
		}
		ds = append(ds, x)
	}
	rows.Close()
	n := 0
	for _, x := range ds {
		if x.status != "active" {
			if _, err := s.db.Exec(ctx, `UPDATE ex_deliveries SET status = 'failed', last_error = 'subscription cancelled' WHERE id = ?`, x.id); err != nil {
				return n, err
			}
			continue
		}
		// Claimed first, by moving its time on past the attempt (a process
		// that stops mid-attempt leaves it to be tried again then), so that
		// of several processes (replicas) one posts it.
		res, err := s.db.Exec(ctx, `UPDATE ex_deliveries SET next_at = ? WHERE id = ? AND status = 'pending' AND next_at = ?`,
			s.now().Add(deliveryClaim).UnixMilli(), x.id, x.next)
		if err != nil {
			return n, err
		}
		if k, _ := res.RowsAffected(); k != 1 {
			continue
		}
		key, err := s.unseal(x.secret, "sub:"+x.sub)
		if err != nil {
			return n, err
		}
		err = s.post(ctx, x.url, x.id, key, []byte(x.body))
		if err == nil {
			if _, err := s.db.Exec(ctx, `UPDATE ex_deliveries SET status = 'delivered', attempts = attempts + 1, delivered_at = ?, last_error = '' WHERE id = ?`, s.nowMs(), x.id); err != nil {
				return n, err
			}
			n++
			continue
		}
		status := "pending"
		if x.attempts+1 >= maxAttempts {
			status = "failed"
		}
		msg := err.Error()
		if len(msg) > 300 {
			msg = msg[:300]
		}
		if _, err := s.db.Exec(ctx, `UPDATE ex_deliveries SET attempts = attempts + 1, next_at = ?, last_error = ?, status = ? WHERE id = ?`,
			s.now().Add(backoff(x.attempts)).UnixMilli(), msg, status, x.id); err != nil {
			return n, err
		}
	}
	return n, nil
}

// Sign is the webhook signature of a body: "sha256=" + hex HMAC-SHA256.
func Sign(key, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func (s *Service) post(ctx context.Context, u, id string, key, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Shuzhi-Delivery", id)
	req.Header.Set("X-Shuzhi-Signature", Sign(key, body))
	resp, err := s.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook answered %d", resp.StatusCode)
	}
	return nil
}
