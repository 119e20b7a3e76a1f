package exchange

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/db"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
	"github.com/shuzhi-gov/shuzhi/internal/platform/httpx"
)

// Federation (四级共享交换): nodes at province, city, county and township
// level run the same binary. A node registers with its parent using a
// one-time invitation; each node pushes its catalog (its own resources and
// those of its subtree) and the node directory (ids, levels, URLs, public
// keys) to its parent, and pulls the parent's view, so every node sees the
// whole tree's resources. Requests and queries for a resource held on
// another node travel hop by hop (to a child whose subtree holds it, else
// to the parent) and are signed end to end by the origin node's Ed25519
// key: header X-Shuzhi-Node (origin id), X-Shuzhi-Date (unix ms, within 5
// minutes) and X-Shuzhi-Signature (base64 Ed25519 over
// "shuzhi-node-v1\n<method>\n<path>\n<date>\n<hex sha256 of body>").
// A node accepts each signature once: a captured request sent again within
// the five minutes is refused as a replay.
// The holding node checks the grant, answers, and records the access; the
// origin node records it too.

// NodeIdentity is this node's identity.
type NodeIdentity struct {
	ID, Name, Level, URL string
	Key                  ed25519.PrivateKey
}

// LoadNodeKey reads the node's Ed25519 key from dir/node.key (hex seed),
// creating it on first use.
func LoadNodeKey(dir string) (ed25519.PrivateKey, error) {
	path := filepath.Join(dir, "node.key")
	b, err := os.ReadFile(path)
	if err == nil {
		seed, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(seed) != ed25519.SeedSize {
			return nil, fmt.Errorf("node key %s: not a hex Ed25519 seed", path)
		}
		return ed25519.NewKeyFromSeed(seed), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(hex.EncodeToString(seed)+"\n"), 0o600); err != nil {
		return nil, err
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// Levels of nodes, top down.
var Levels = []string{"province", "city", "county", "township"}

// Node is a node of the federation as this node knows it.
type Node struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Level     string `json:"level"`
	URL       string `json:"url"`
	PublicKey string `json:"publicKey" doc:"base64 Ed25519 public key"`
	Relation  string `json:"relation" enum:"self,parent,child,known"`
	Via       string `json:"via,omitempty" doc:"Next hop toward it"`
	Status    string `json:"status" enum:"active,invited,revoked"`
	UpdatedAt int64  `json:"updatedAt"`
}

// NodeView is this node and the nodes it knows.
type NodeView struct {
	Self     Node   `json:"self"`
	Parent   *Node  `json:"parent,omitempty"`
	Children []Node `json:"children" nullable:"false"`
	Known    []Node `json:"known" nullable:"false"`
}

func (s *Service) self() Node {
	if s.node == nil {
		return Node{Relation: "self", Status: "active"}
	}
	return Node{ID: s.node.ID, Name: s.node.Name, Level: s.node.Level, URL: s.node.URL,
		PublicKey: base64.StdEncoding.EncodeToString(s.node.Key.Public().(ed25519.PublicKey)), Relation: "self", Status: "active"}
}

func (s *Service) federated() error {
	if s.node == nil || s.node.ID == "" {
		return errs.Invalid("node", "configured", "this node has no federation identity (set --node-id)", "本节点未配置联邦身份（--node-id）")
	}
	return nil
}

func scanNode(sc interface{ Scan(...any) error }) (*Node, error) {
	var n Node
	if err := sc.Scan(&n.ID, &n.Name, &n.Level, &n.URL, &n.PublicKey, &n.Relation, &n.Via, &n.Status, &n.UpdatedAt); err != nil {
		return nil, err
	}
	return &n, nil
}

const nodeCols = `id, name, level, url, public_key, relation, via, status, updated_at`

func (s *Service) knownNodes(ctx context.Context) ([]Node, error) {
	rows, err := s.db.Query(ctx, `SELECT `+nodeCols+` FROM ex_nodes ORDER BY relation, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Node
	for rows.Next() {
		n, err := scanNode(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *n)
	}
	return out, rows.Err()
}

func (s *Service) nodeByID(ctx context.Context, id string) (*Node, error) {
	n, err := scanNode(s.db.QueryRow(ctx, `SELECT `+nodeCols+` FROM ex_nodes WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFound("node", id)
	}
	return n, err
}

// Nodes describes the federation as this node sees it.
func (s *Service) Nodes(ctx context.Context) (*NodeView, error) {
	if _, err := authz.Require(ctx, authz.ExchangeRead); err != nil {
		return nil, err
	}
	all, err := s.knownNodes(ctx)
	if err != nil {
		return nil, err
	}
	v := &NodeView{Self: s.self(), Children: []Node{}, Known: []Node{}}
	for i := range all {
		switch all[i].Relation {
		case "parent":
			v.Parent = &all[i]
		case "child":
			v.Children = append(v.Children, all[i])
		default:
			v.Known = append(v.Known, all[i])
		}
	}
	return v, nil
}

// NodeInvite names a child node to invite.
type NodeInvite struct {
	ID    string `json:"id" minLength:"2" maxLength:"20" pattern:"^[0-9A-Za-z-]+$"`
	Name  string `json:"name" minLength:"2" maxLength:"100"`
	Level string `json:"level" enum:"province,city,county,township"`
}

// Invitation is the one-time token a child presents when it joins.
type Invitation struct {
	ID    string `json:"id"`
	Token string `json:"token" doc:"Shown once"`
}

// Invite creates an invitation for a child node.
func (s *Service) Invite(ctx context.Context, in NodeInvite) (*Invitation, error) {
	p, err := authz.Require(ctx, authz.ExchangeNodes)
	if err != nil {
		return nil, err
	}
	if err := s.federated(); err != nil {
		return nil, err
	}
	if in.ID == s.node.ID {
		return nil, errs.Invalid("id", "other", "a node cannot invite itself", "不能邀请本节点")
	}
	tok := make([]byte, 24)
	_, _ = rand.Read(tok)
	token := "shzn_" + hex.EncodeToString(tok)
	sum := sha256.Sum256([]byte(token))
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		// A pending invitation is replaced; a revoked node may be invited
		// again (to join with a new key).
		if _, err := s.db.Exec(ctx, `DELETE FROM ex_nodes WHERE id = ? AND status IN ('invited', 'revoked')`, in.ID); err != nil {
			return err
		}
		if _, err := s.db.Exec(ctx, `INSERT INTO ex_nodes (id, name, level, url, public_key, relation, via, status, invite_hash, updated_at)
			VALUES (?, ?, ?, '', '', 'child', ?, 'invited', ?, ?)`, in.ID, in.Name, in.Level, in.ID, hex.EncodeToString(sum[:]), s.nowMs()); err != nil {
			if db.IsUniqueViolation(err) {
				return errs.Conflict("id", "that node is already registered", "该节点已注册")
			}
			return err
		}
		return s.evidence(ctx, p, "exchange.node.invite", "node:"+in.ID, "", "", in)
	})
	if err != nil {
		return nil, err
	}
	return &Invitation{ID: in.ID, Token: token}, nil
}

// NodeRevocation says why a node is revoked.
type NodeRevocation struct {
	Reason string `json:"reason" minLength:"2" maxLength:"500" doc:"Why (recorded on the ledger)"`
}

// RevokeNode stops trusting a node at once (for example when its key is
// lost): its signed requests are refused, nothing is routed to it or
// through it, and a catalog sync does not bring it back. It can be invited
// again to join with a new key.
func (s *Service) RevokeNode(ctx context.Context, id string, in NodeRevocation) (*Node, error) {
	p, err := authz.Require(ctx, authz.ExchangeNodes)
	if err != nil {
		return nil, err
	}
	if err := s.federated(); err != nil {
		return nil, err
	}
	if id == s.node.ID {
		return nil, errs.Invalid("id", "other", "a node cannot revoke itself", "不能吊销本节点")
	}
	if strings.TrimSpace(in.Reason) == "" {
		return nil, errs.Invalid("reason", "required", "state why the node is revoked", "请说明吊销原因")
	}
	var n *Node
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		if n, err = s.nodeByID(ctx, id); err != nil {
			return err
		}
		if n.Status == "revoked" {
			return errs.Conflict("id", "the node is already revoked", "该节点已被吊销")
		}
		n.Status, n.UpdatedAt = "revoked", s.nowMs()
		if _, err := s.db.Exec(ctx, `UPDATE ex_nodes SET status = 'revoked', updated_at = ? WHERE id = ?`, n.UpdatedAt, id); err != nil {
			return err
		}
		// Its resources, and those reached through it, leave the catalog
		// here, and so leave the neighbours' at their next sync.
		if _, err := s.db.Exec(ctx, `UPDATE ex_resources SET status = 'retired' WHERE status = 'published' AND node <> ''
			AND (node = ? OR node IN (SELECT id FROM ex_nodes WHERE via = ?))`, id, id); err != nil {
			return err
		}
		s.resources.clear()
		return s.evidence(ctx, p, "exchange.node.revoke", "node:"+id, "", "", map[string]any{"node": n, "reason": in.Reason})
	})
	if err != nil {
		return nil, err
	}
	return n, nil
}

// JoinInput registers this node with its parent.
type JoinInput struct {
	ParentURL string `json:"parentUrl" minLength:"8" maxLength:"300"`
	Token     string `json:"token" minLength:"8" maxLength:"100"`
}

type registerBody struct {
	Node   Node   `json:"node"`
	Token  string `json:"token"`
	Signed string `json:"signed" doc:"base64 signature of node.id by node's key (proof of the key)"`
}

// Join registers this node with its parent and syncs the catalog.
func (s *Service) Join(ctx context.Context, in JoinInput) (*Node, error) {
	p, err := authz.Require(ctx, authz.ExchangeNodes)
	if err != nil {
		return nil, err
	}
	if err := s.federated(); err != nil {
		return nil, err
	}
	me := s.self()
	body := registerBody{Node: me, Token: in.Token, Signed: base64.StdEncoding.EncodeToString(ed25519.Sign(s.node.Key, []byte("register:"+me.ID)))}
	var parent Node
	if err := s.call(ctx, strings.TrimRight(in.ParentURL, "/"), "/fed/v1/register", body, &parent); err != nil {
		return nil, err
	}
	parent.Relation, parent.Via, parent.Status, parent.UpdatedAt = "parent", parent.ID, "active", s.nowMs()
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		if err := s.upsertNode(ctx, parent); err != nil {
			return err
		}
		return s.evidence(ctx, p, "exchange.node.join", "node:"+parent.ID, "", "", parent)
	})
	if err != nil {
		return nil, err
	}
	if _, err := s.Sync(ctx); err != nil {
		s.log.Warn("exchange: first sync with the parent", "err", err)
	}
	return &parent, nil
}

func (s *Service) upsertNode(ctx context.Context, n Node) error {
	if s.node != nil && n.ID == s.node.ID {
		return nil
	}
	res, err := s.db.Exec(ctx, `UPDATE ex_nodes SET name = ?, level = ?, url = ?, public_key = ?, relation = ?, via = ?, status = ?, updated_at = ? WHERE id = ?`,
		n.Name, n.Level, n.URL, n.PublicKey, n.Relation, n.Via, n.Status, n.UpdatedAt, n.ID)
	if err != nil {
		return err
	}
	if k, _ := res.RowsAffected(); k > 0 {
		return nil
	}
	_, err = s.db.Exec(ctx, `INSERT INTO ex_nodes (`+nodeCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		n.ID, n.Name, n.Level, n.URL, n.PublicKey, n.Relation, n.Via, n.Status, n.UpdatedAt)
	return err
}

// catalogBody is what nodes exchange when they sync.
type catalogBody struct {
	From      string     `json:"from"`
	Resources []Resource `json:"resources"`
	Nodes     []Node     `json:"nodes"`
}

// SyncResult reports a sync.
type SyncResult struct {
	Pushed int `json:"pushed" doc:"Resources sent to the parent"`
	Pulled int `json:"pulled" doc:"Resources received from the parent"`
}

// pushCatalog syncs with the parent in the background after a local
// publication.
func (s *Service) pushCatalog() {
	if s.node == nil || s.node.ID == "" {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		ctx = authz.With(ctx, &authz.Principal{Kind: authz.KindSystem, ID: "exchange-sync", Name: "exchange-sync", Nationwide: true})
		if _, err := s.sync(ctx); err != nil && !errors.Is(err, errs.ErrNotFound) {
			s.log.Warn("exchange: catalog sync", "err", err)
		}
	}()
}

// Sync pushes this node's subtree catalog to its parent and pulls the
// parent's view of the tree.
func (s *Service) Sync(ctx context.Context) (*SyncResult, error) {
	if _, err := authz.Require(ctx, authz.ExchangeNodes); err != nil {
		return nil, err
	}
	if err := s.federated(); err != nil {
		return nil, err
	}
	return s.sync(ctx)
}

func (s *Service) sync(ctx context.Context) (*SyncResult, error) {
	parent, err := s.parent(ctx)
	if err != nil {
		return nil, err
	}
	sub, err := s.subtreeCatalog(ctx, parent.ID)
	if err != nil {
		return nil, err
	}
	res := &SyncResult{Pushed: len(sub.Resources)}
	if err := s.call(ctx, parent.URL, "/fed/v1/catalog", sub, nil); err != nil {
		return nil, err
	}
	var view catalogBody
	if err := s.call(ctx, parent.URL, "/fed/v1/catalog/view", struct{}{}, &view); err != nil {
		return nil, err
	}
	n, err := s.absorb(ctx, view, parent.ID)
	if err != nil {
		return nil, err
	}
	res.Pulled = n
	return res, nil
}

func (s *Service) parent(ctx context.Context) (*Node, error) {
	n, err := scanNode(s.db.QueryRow(ctx, `SELECT `+nodeCols+` FROM ex_nodes WHERE relation = 'parent'`))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFound("node", "parent")
	}
	return n, err
}

// subtreeCatalog is this node's published resources (node set to its id)
// and those its children reported, with the node directory, excluding what
// came from `except` (the receiver).
func (s *Service) subtreeCatalog(ctx context.Context, except string) (catalogBody, error) {
	out := catalogBody{From: s.node.ID, Resources: []Resource{}, Nodes: []Node{s.self()}}
	rows, err := s.db.Query(ctx, `SELECT `+resourceCols+` FROM ex_resources WHERE status = 'published'`)
	if err != nil {
		return out, err
	}
	defer rows.Close()
	origin := map[string]string{} // node id -> via
	nodes, err := s.knownNodes(ctx)
	if err != nil {
		return out, err
	}
	for _, n := range nodes {
		origin[n.ID] = n.Via
	}
	for rows.Next() {
		r, err := scanResource(rows)
		if err != nil {
			return out, err
		}
		if r.Node == "" {
			r.Node = s.node.ID
		} else if origin[r.Node] == except || r.Node == except {
			continue // it came from the receiver
		}
		r.Rules = nil
		out.Resources = append(out.Resources, *r)
	}
	for _, n := range nodes {
		if n.Status == "active" && n.ID != except && n.Via != except {
			out.Nodes = append(out.Nodes, n)
		}
	}
	return out, rows.Err()
}

// absorb stores resources and nodes reported by a neighbour (via):
// resources are copies with node = their holder; their data stays there.
func (s *Service) absorb(ctx context.Context, body catalogBody, via string) (int, error) {
	n := 0
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		for _, nd := range body.Nodes {
			if nd.ID == s.node.ID || nd.ID == via {
				continue
			}
			existing, err := s.nodeByID(ctx, nd.ID)
			if err == nil && (existing.Relation == "parent" || existing.Relation == "child" || existing.Status == "revoked") {
				continue // a revoked node stays revoked here, whatever the tree says
			}
			nd.Relation, nd.Via, nd.Status, nd.UpdatedAt = "known", via, "active", s.nowMs()
			if err := s.upsertNode(ctx, nd); err != nil {
				return err
			}
		}
		seen := map[string]bool{}
		revoked, err := s.revokedNodes(ctx)
		if err != nil {
			return err
		}
		for _, r := range body.Resources {
			if r.Node == "" || r.Node == s.node.ID || revoked[r.Node] {
				continue
			}
			seen[r.ID] = true
			r.Status, r.Rules = Published, nil
			args := resourceArgs(&r)
			if _, err := s.db.Exec(ctx, `DELETE FROM ex_resources WHERE id = ? AND node <> ''`, r.ID); err != nil {
				return err
			}
			if _, err := s.db.Exec(ctx, `INSERT INTO ex_resources (`+resourceCols+`, created_by) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
				append(args, "node:"+body.From)...); err != nil {
				return err
			}
			s.resources.drop(r.ID)
			s.resources.drop(r.Code)
			n++
		}
		// Remote resources reported earlier by this neighbour and not any
		// more are retired here.
		rows, err := s.db.Query(ctx, `SELECT r.id FROM ex_resources r JOIN ex_nodes n ON n.id = r.node WHERE r.node <> '' AND (n.via = ? OR n.id = ?) AND r.status = 'published'`, via, via)
		if err != nil {
			return err
		}
		var gone []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			if !seen[id] {
				gone = append(gone, id)
			}
		}
		rows.Close()
		for _, id := range gone {
			if _, err := s.db.Exec(ctx, `UPDATE ex_resources SET status = 'retired' WHERE id = ?`, id); err != nil {
				return err
			}
		}
		// Nodes learned through this neighbour that it no longer reports
		// (it revoked them, or they left) are forgotten: their signed
		// requests are refused here as from an unknown node.
		args := []any{via, via} // via in the list keeps it from being empty
		for _, nd := range body.Nodes {
			args = append(args, nd.ID)
		}
		_, err = s.db.Exec(ctx, `DELETE FROM ex_nodes WHERE relation = 'known' AND via = ? AND id NOT IN (?`+strings.Repeat(",?", len(body.Nodes))+`)`, args...)
		return err
	})
	return n, err
}

// revokedNodes are the nodes revoked here and the nodes reached through
// them: their resources are not taken into the catalog.
func (s *Service) revokedNodes(ctx context.Context) (map[string]bool, error) {
	rows, err := s.db.Query(ctx, `SELECT id, via, status FROM ex_nodes`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	via := map[string]string{}
	out := map[string]bool{}
	for rows.Next() {
		var id, v, status string
		if err := rows.Scan(&id, &v, &status); err != nil {
			return nil, err
		}
		via[id] = v
		if status == "revoked" {
			out[id] = true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for id, v := range via {
		if out[v] {
			out[id] = true
		}
	}
	return out, nil
}

// signing

func signString(method, path string, date int64, body []byte) []byte {
	sum := sha256.Sum256(body)
	return []byte("shuzhi-node-v1\n" + method + "\n" + path + "\n" + strconv.FormatInt(date, 10) + "\n" + hex.EncodeToString(sum[:]))
}

// call POSTs a signed request to another node and decodes the answer; a
// problem answer becomes the same error here.
func (s *Service) call(ctx context.Context, base, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return s.forward(ctx, base, path, body, s.sign(path, body), out)
}

type sig struct {
	node, date, signature string
}

func (s *Service) sign(path string, body []byte) sig {
	date := s.nowMs()
	return sig{node: s.node.ID, date: strconv.FormatInt(date, 10),
		signature: base64.StdEncoding.EncodeToString(ed25519.Sign(s.node.Key, signString(http.MethodPost, path, date, body)))}
}

func (s *Service) forward(ctx context.Context, base, path string, body []byte, sg sig, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, bytes.NewReader(body))
	if err != nil {
		return errs.Invalid("parentUrl", "url", "not a URL", "地址无效")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Shuzhi-Node", sg.node)
	req.Header.Set("X-Shuzhi-Date", sg.date)
	req.Header.Set("X-Shuzhi-Signature", sg.signature)
	resp, err := s.http.Do(req)
	if err != nil {
		return errs.Unavailable("node "+base, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if resp.StatusCode/100 != 2 {
		var pr struct {
			Title, Detail string
			Code          string `json:"code"`
			Errors        []struct {
				Field, Rule, Message string
			} `json:"errors"`
		}
		_ = json.Unmarshal(b, &pr)
		e := &errs.Error{Code: codeForStatus(resp.StatusCode), Message: pr.Detail, MessageZh: pr.Detail}
		if e.Message == "" {
			e.Message, e.MessageZh = fmt.Sprintf("node answered %d", resp.StatusCode), fmt.Sprintf("节点返回 %d", resp.StatusCode)
		}
		for _, fe := range pr.Errors {
			e.Fields = append(e.Fields, errs.FieldError{Field: fe.Field, Rule: fe.Rule, Message: fe.Message, MessageZh: fe.Message})
		}
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return errs.Unavailable("node "+base, err)
	}
	return nil
}

func codeForStatus(st int) errs.Code {
	switch st {
	case 400, 422:
		return errs.CodeInvalid
	case 401:
		return errs.CodeUnauthenticated
	case 403:
		return errs.CodeForbidden
	case 404:
		return errs.CodeNotFound
	case 409:
		return errs.CodeConflict
	case 429:
		return errs.CodeTooMany
	}
	return errs.CodeUnavailable
}

// verify checks a node request's signature with the origin's known key.
func (s *Service) verify(ctx context.Context, r *http.Request, body []byte) (*Node, error) {
	origin := r.Header.Get("X-Shuzhi-Node")
	date, err := strconv.ParseInt(r.Header.Get("X-Shuzhi-Date"), 10, 64)
	if err != nil || origin == "" {
		return nil, errs.Unauthenticated("unsigned node request", "节点请求未签名")
	}
	if d := s.nowMs() - date; d > replayWindow || d < -replayWindow {
		return nil, errs.Unauthenticated("node request too old or from the future", "节点请求时间不符")
	}
	n, err := s.nodeByID(ctx, origin)
	if err == nil && n.Status == "revoked" {
		return nil, errs.Unauthenticated("node "+origin+" is revoked", "节点 "+origin+" 已被吊销")
	}
	if err != nil || n.Status != "active" {
		return nil, errs.Unauthenticated("unknown node "+origin, "未知节点 "+origin)
	}
	pub, err := base64.StdEncoding.DecodeString(n.PublicKey)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return nil, errs.Unauthenticated("node key unusable", "节点公钥无效")
	}
	sigb, err := base64.StdEncoding.DecodeString(r.Header.Get("X-Shuzhi-Signature"))
	if err != nil || !ed25519.Verify(pub, signString(r.Method, r.URL.Path, date, body), sigb) {
		return nil, errs.Unauthenticated("bad node signature", "节点签名无效")
	}
	first, err := s.seen.first(ctx, s.db, sigb, date, s.nowMs())
	if err != nil {
		return nil, err
	}
	if !first {
		return nil, errs.Unauthenticated("replayed node request (this signature was already used)", "节点请求重放（该签名已使用过）")
	}
	return n, nil
}

// replayWindow is how far a node request's date may be from this node's
// clock; a signature is remembered for as long as its date is within it.
const replayWindow = 5 * 60 * 1000

// replayGuard remembers the signatures of accepted node requests until
// their dates leave the window, so that each is accepted once: in the
// database (ex_node_signatures), so that replicas of one node behind a load
// balancer share the memory.
type replayGuard struct {
	swept atomic.Int64 // when this process last removed expired signatures
}

func newReplayGuard() *replayGuard { return &replayGuard{} }

// first reports whether sig is new, and remembers it.
func (g *replayGuard) first(ctx context.Context, d *db.DB, sig []byte, date, now int64) (bool, error) {
	if last := g.swept.Load(); now-last > 60*1000 && g.swept.CompareAndSwap(last, now) {
		// Expired signatures cannot be accepted again (verify checks the
		// date first), so they need not be remembered.
		if _, err := d.Exec(ctx, `DELETE FROM ex_node_signatures WHERE date < ?`, now-replayWindow); err != nil {
			return false, err
		}
	}
	h := sha256.Sum256(sig)
	res, err := d.Exec(ctx, `INSERT INTO ex_node_signatures (sig_hash, date) VALUES (?, ?) ON CONFLICT (sig_hash) DO NOTHING`, hex.EncodeToString(h[:]), date)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// MountFederation serves the node-to-node endpoints under /fed/v1/.
func (s *Service) MountFederation(mux *http.ServeMux) {
	handle := func(path string, fn func(ctx context.Context, r *http.Request, origin *Node, body []byte) (any, error)) {
		mux.HandleFunc("POST "+path, func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
			if err != nil {
				httpx.WriteProblem(w, r, http.StatusBadRequest, errs.Invalid("body", "read", err.Error(), "请求体读取失败"))
				return
			}
			if err := s.federated(); err != nil {
				httpx.WriteProblem(w, r, http.StatusNotFound, errs.NotFound("endpoint", path))
				return
			}
			var origin *Node
			if path != "/fed/v1/register" {
				if origin, err = s.verify(r.Context(), r, body); err != nil {
					httpx.WriteProblem(w, r, 0, err)
					return
				}
			}
			out, err := fn(r.Context(), r, origin, body)
			if err != nil {
				httpx.WriteProblem(w, r, 0, err)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(out)
		})
	}
	handle("/fed/v1/register", s.fedRegister)
	handle("/fed/v1/catalog", func(ctx context.Context, _ *http.Request, origin *Node, body []byte) (any, error) {
		if origin.Relation != "child" {
			return nil, errs.Forbidden("only children push catalogs", "只有下级节点可以上报目录")
		}
		var cb catalogBody
		if err := json.Unmarshal(body, &cb); err != nil || cb.From != origin.ID {
			return nil, errs.Invalid("body", "json", "not a catalog from this node", "目录格式错误")
		}
		n, err := s.absorb(ctx, cb, origin.ID)
		if err == nil {
			s.pushCatalog() // up the tree: the parent learns the new nodes and resources
		}
		return map[string]int{"stored": n}, err
	})
	handle("/fed/v1/catalog/view", func(ctx context.Context, _ *http.Request, origin *Node, _ []byte) (any, error) {
		if origin.Relation != "child" {
			return nil, errs.Forbidden("only children pull the view", "只有下级节点可以拉取目录")
		}
		return s.subtreeCatalog(ctx, origin.ID)
	})
	handle("/fed/v1/request", s.fedRequest)
	handle("/fed/v1/query", s.fedQuery)
	handle("/fed/v1/decision", s.fedDecision)
}

func (s *Service) fedRegister(ctx context.Context, _ *http.Request, _ *Node, body []byte) (any, error) {
	var rb registerBody
	if err := json.Unmarshal(body, &rb); err != nil {
		return nil, errs.Invalid("body", "json", "bad registration", "注册请求格式错误")
	}
	inv, err := s.nodeByID(ctx, rb.Node.ID)
	if err != nil || inv.Relation != "child" {
		return nil, errs.Forbidden("no invitation for node "+rb.Node.ID, "没有该节点的邀请")
	}
	var hash string
	if err := s.db.QueryRow(ctx, `SELECT invite_hash FROM ex_nodes WHERE id = ?`, rb.Node.ID).Scan(&hash); err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(rb.Token))
	if hash == "" || hex.EncodeToString(sum[:]) != hash {
		return nil, errs.Forbidden("invalid invitation token", "邀请令牌无效")
	}
	pub, err := base64.StdEncoding.DecodeString(rb.Node.PublicKey)
	sg, err2 := base64.StdEncoding.DecodeString(rb.Signed)
	if err != nil || err2 != nil || len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, []byte("register:"+rb.Node.ID), sg) {
		return nil, errs.Forbidden("the node does not hold its key", "节点未能证明持有私钥")
	}
	n := rb.Node
	n.Relation, n.Via, n.Status, n.UpdatedAt = "child", n.ID, "active", s.nowMs()
	sys := &authz.Principal{Kind: authz.KindSystem, ID: "node:" + n.ID, Name: n.Name}
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.db.Exec(ctx, `UPDATE ex_nodes SET name = ?, level = ?, url = ?, public_key = ?, status = 'active', invite_hash = '', updated_at = ? WHERE id = ?`,
			n.Name, n.Level, n.URL, n.PublicKey, n.UpdatedAt, n.ID); err != nil {
			return err
		}
		return s.evidence(ctx, sys, "exchange.node.register", "node:"+n.ID, "", "", n)
	})
	if err != nil {
		return nil, err
	}
	s.pushCatalog()
	return s.self(), nil
}

// route is the base URL of the next hop toward a node.
func (s *Service) route(ctx context.Context, nodeID string) (string, error) {
	n, err := s.nodeByID(ctx, nodeID)
	if err == nil {
		if n.Status == "revoked" {
			return "", errs.Forbidden("node "+nodeID+" is revoked", "节点 "+nodeID+" 已被吊销")
		}
		if n.Relation == "parent" || n.Relation == "child" {
			return n.URL, nil
		}
		if hop, err := s.nodeByID(ctx, n.Via); err == nil {
			if hop.Status == "revoked" {
				return "", errs.Forbidden("node "+nodeID+" is reached through "+hop.ID+", which is revoked", "节点 "+nodeID+" 须经已吊销的节点 "+hop.ID+" 访问")
			}
			return hop.URL, nil
		}
	}
	p, err := s.parent(ctx)
	if err != nil {
		return "", errs.Unavailable("route to node "+nodeID, err)
	}
	return p.URL, nil
}

// consumer is who asks across nodes.
type consumer struct {
	Node, Org, OrgName, User, UserName string
}

type fedRequestBody struct {
	Holder   string     `json:"holder"`
	Consumer consumer   `json:"consumer"`
	Request  NewRequest `json:"request"`
	Expires  int64      `json:"expires"`
}

type fedQueryBody struct {
	Holder   string   `json:"holder"`
	Consumer consumer `json:"consumer"`
	Query    Query    `json:"query"`
}

type fedAnswer struct {
	Answer   *Answer  `json:"answer"`
	Subjects []string `json:"subjects"`
}

type fedDecisionBody struct {
	Target  string   `json:"target"`
	Request *Request `json:"request"`
	Grant   *Grant   `json:"grant"`
}

func remotePrincipal(c consumer) *authz.Principal {
	return &authz.Principal{Kind: authz.KindSystem, ID: "node:" + c.Node + "/" + c.User, Name: c.UserName, DisplayName: c.UserName, OrgID: c.Org,
		Permissions: []authz.Permission{authz.ExchangeRequest, authz.ExchangeQuery}}
}

// requestRemote sends a request to the node holding the resource and keeps
// a copy here (with the grant, when granted at once).
func (s *Service) requestRemote(ctx context.Context, p *authz.Principal, org *Org, r *Resource, in NewRequest, exp int64) (*Request, error) {
	if err := s.federated(); err != nil {
		return nil, err
	}
	body := fedRequestBody{Holder: r.Node, Consumer: consumer{Node: s.node.ID, Org: org.ID, OrgName: org.Name, User: p.ID, UserName: p.DisplayName}, Request: in, Expires: exp}
	b, _ := json.Marshal(body)
	hop, err := s.route(ctx, r.Node)
	if err != nil {
		return nil, err
	}
	var out fedDecisionBody
	if err := s.forward(ctx, hop, "/fed/v1/request", b, s.sign("/fed/v1/request", b), &out); err != nil {
		return nil, err
	}
	q := out.Request
	q.ResourceID, q.ConsumerNode = r.ID, ""
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		if err := s.insertRequest(ctx, p, q); err != nil {
			return err
		}
		if out.Grant != nil {
			g := *out.Grant
			g.ResourceID, g.ConsumerNode = r.ID, ""
			if err := s.insertGrant(ctx, &g); err != nil {
				return err
			}
		}
		return s.evidence(ctx, p, "exchange.request.remote", "resource:"+r.Code, q.Purpose, q.Basis, map[string]any{"request": q.ID, "holder": r.Node, "status": q.Status})
	})
	if err != nil {
		return nil, err
	}
	return q, nil
}

// fedRequest: a request from another node, for a resource here or further.
func (s *Service) fedRequest(ctx context.Context, hr *http.Request, origin *Node, body []byte) (any, error) {
	var fb fedRequestBody
	if err := json.Unmarshal(body, &fb); err != nil {
		return nil, errs.Invalid("body", "json", "bad request", "请求格式错误")
	}
	if fb.Consumer.Node != origin.ID {
		return nil, errs.Forbidden("the consumer's node must sign", "须由申请方节点签名")
	}
	if fb.Holder != s.node.ID {
		return s.relay(ctx, hr, fb.Holder, body)
	}
	r, err := s.resource(ctx, fb.Request.Resource)
	if err != nil || r.Node != "" || r.Status != Published {
		return nil, errs.NotFound("resource", fb.Request.Resource)
	}
	if err := checkFields(r, "fields", fb.Request.Fields); err != nil {
		return nil, err
	}
	if err := checkClear(r, fb.Request.Fields, fb.Request.ClearFields); err != nil {
		return nil, err
	}
	p := remotePrincipal(fb.Consumer)
	q, err := s.request(ctx, p, fb.Consumer.Node, &Org{ID: fb.Consumer.Org, Name: fb.Consumer.OrgName}, r, fb.Request, fb.Expires)
	if err != nil {
		return nil, err
	}
	out := fedDecisionBody{Target: fb.Consumer.Node, Request: q}
	if q.GrantID != "" {
		if out.Grant, err = s.grant(ctx, q.GrantID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// relay passes a signed request on toward its holder unchanged.
func (s *Service) relay(ctx context.Context, hr *http.Request, holder string, body []byte) (any, error) {
	hop, err := s.route(ctx, holder)
	if err != nil {
		return nil, err
	}
	var out json.RawMessage
	sg := sig{node: hr.Header.Get("X-Shuzhi-Node"), date: hr.Header.Get("X-Shuzhi-Date"), signature: hr.Header.Get("X-Shuzhi-Signature")}
	if err := s.forward(ctx, hop, hr.URL.Path, body, sg, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// notifyRemoteDecision tells the consumer's node of a decision.
func (s *Service) notifyRemoteDecision(ctx context.Context, q *Request, g *Grant) {
	body := fedDecisionBody{Target: q.ConsumerNode, Request: q, Grant: g}
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		b, _ := json.Marshal(body)
		hop, err := s.route(ctx, q.ConsumerNode)
		if err == nil {
			err = s.forward(ctx, hop, "/fed/v1/decision", b, s.sign("/fed/v1/decision", b), nil)
		}
		if err != nil {
			s.log.Warn("exchange: telling the consumer's node of a decision", "node", q.ConsumerNode, "err", err)
		}
	}()
}

// fedDecision: the holder's decision on a request made from here.
func (s *Service) fedDecision(ctx context.Context, hr *http.Request, origin *Node, body []byte) (any, error) {
	var fb fedDecisionBody
	if err := json.Unmarshal(body, &fb); err != nil || fb.Request == nil {
		return nil, errs.Invalid("body", "json", "bad decision", "决定格式错误")
	}
	if fb.Target != s.node.ID {
		return s.relay(ctx, hr, fb.Target, body)
	}
	var resID string
	if err := s.db.QueryRow(ctx, `SELECT resource_id FROM ex_requests WHERE id = ?`, fb.Request.ID).Scan(&resID); err != nil {
		return nil, errs.NotFound("request", fb.Request.ID)
	}
	r, err := s.resource(ctx, resID)
	if err != nil || r.Node != origin.ID {
		return nil, errs.Forbidden("only the holding node decides", "只有数据所在节点可以作出决定")
	}
	q := fb.Request
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.db.Exec(ctx, `UPDATE ex_requests SET status = ?, decided_by = ?, decided_at = ?, reason = ?, grant_id = ? WHERE id = ?`,
			q.Status, q.DecidedBy, q.DecidedAt, q.Reason, q.GrantID, q.ID); err != nil {
			return err
		}
		if fb.Grant != nil {
			g := *fb.Grant
			g.ResourceID, g.ConsumerNode = resID, ""
			if err := s.insertGrant(ctx, &g); err != nil {
				return err
			}
		}
		sys := &authz.Principal{Kind: authz.KindSystem, ID: "node:" + origin.ID, Name: origin.Name}
		return s.evidence(ctx, sys, "exchange.request.remote-"+q.Status, "resource:"+r.Code, q.Purpose, q.Basis, map[string]any{"request": q.ID})
	})
	return map[string]string{"status": "ok"}, err
}

// queryRemote sends a query to the node holding the data, and records it
// here too.
func (s *Service) queryRemote(ctx context.Context, p *authz.Principal, r *Resource, q Query) (*Answer, error) {
	if err := s.federated(); err != nil {
		return nil, err
	}
	var g *Grant
	name := ""
	if q.Grant != "" {
		if x, err := s.grant(ctx, q.Grant); err == nil && x.ConsumerOrg == p.OrgID {
			g, name = x, x.ConsumerName
		}
	}
	if name == "" {
		if o, err := s.dir.Org(ctx, p.OrgID); err == nil {
			name = o.Name
		}
	}
	q.Resource = r.Code
	body := fedQueryBody{Holder: r.Node, Consumer: consumer{Node: s.node.ID, Org: p.OrgID, OrgName: name, User: p.ID, UserName: p.Name}, Query: q}
	b, _ := json.Marshal(body)
	hop, err := s.route(ctx, r.Node)
	if err != nil {
		return nil, err
	}
	c := caller{p: p, org: p.OrgID, name: name}
	var out fedAnswer
	ferr := s.forward(ctx, hop, "/fed/v1/query", b, s.sign("/fed/v1/query", b), &out)
	if ferr != nil {
		reason := "remote"
		var e *errs.Error
		if errors.As(ferr, &e) && len(e.Fields) > 0 {
			reason = e.Fields[0].Rule
		}
		if _, err := s.rec.record(ctx, s.accessBody(c, r, g, q.Fields, nil, "refused", reason, 0, nil)); err != nil {
			return nil, err
		}
		return nil, ferr
	}
	a := out.Answer
	if a == nil {
		return nil, errs.Unavailable("node "+r.Node, errors.New("empty answer"))
	}
	var clear []string
	for _, f := range a.Fields {
		if it, ok := r.item(f); ok && it.Personal != "" && !slices.Contains(a.Masked, f) {
			clear = append(clear, f)
		}
	}
	id, err := s.rec.record(ctx, s.accessBody(c, r, g, a.Fields, clear, "ok", "", len(a.Records), out.Subjects))
	if err != nil {
		return nil, err
	}
	a.Node = r.Node
	a.AccessID = id
	return a, nil
}

// fedQuery: a query from another node; answered here under the grant that
// lives here (or relayed toward the holder).
func (s *Service) fedQuery(ctx context.Context, hr *http.Request, origin *Node, body []byte) (any, error) {
	var fb fedQueryBody
	if err := json.Unmarshal(body, &fb); err != nil {
		return nil, errs.Invalid("body", "json", "bad query", "查询格式错误")
	}
	if fb.Consumer.Node != origin.ID {
		return nil, errs.Forbidden("the consumer's node must sign", "须由查询方节点签名")
	}
	if fb.Holder != s.node.ID {
		return s.relay(ctx, hr, fb.Holder, body)
	}
	p := remotePrincipal(fb.Consumer)
	a, subjects, err := s.queryFor(ctx, caller{p: p, node: fb.Consumer.Node, org: fb.Consumer.Org, name: fb.Consumer.OrgName}, fb.Query)
	if err != nil {
		return nil, err
	}
	return fedAnswer{Answer: a, Subjects: subjects}, nil
}

// SetNodeURL sets the URL other nodes reach this one at, when it is known
// only after listening.
func (s *Service) SetNodeURL(u string) {
	if s.node != nil {
		s.node.URL = u
	}
}
