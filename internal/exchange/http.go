package exchange

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/httpx"
)

const v1 = "/api/v1/exchange"

func op(id, method, path, summary string) huma.Operation {
	return huma.Operation{OperationID: id, Method: method, Path: path, Summary: summary, Tags: []string{"Exchange (共享交换)"}}
}

type IDPath struct {
	ID string `path:"id" maxLength:"40"`
}

// CatalogQuery filters the catalog.
type CatalogQuery struct {
	Q        string `query:"q" maxLength:"64" doc:"Name, code, summary, item or provider contains"`
	Dept     string `query:"dept" maxLength:"16" doc:"Provider's department family (deptType)"`
	Class    string `query:"class" enum:"base,subject,department,"`
	Sharing  string `query:"sharing" enum:"unconditional,conditional,none,"`
	Grading  string `query:"grading" enum:"core,important,general,"`
	Status   string `query:"status" enum:"draft,published,retired,"`
	Node     string `query:"node" maxLength:"20" doc:"local, remote, or a node id"`
	Personal string `query:"personal" enum:"true,false," doc:"Has personal items"`
}

// Routes registers the module's HTTP API.
func (s *Service) Routes(api huma.API, prover Prover) {
	type catalogIn struct {
		CatalogQuery
		httpx.PageQuery
	}
	httpx.Register(api, httpx.Op{Operation: op("exchange-catalog", http.MethodGet, v1+"/resources", "Browse the catalog of data resources (政务数据资源目录)"), Perm: authz.ExchangeRead},
		func(ctx context.Context, in *catalogIn) (*httpx.Body[*httpx.Page[Resource]], error) {
			f := CatalogFilter{Q: in.Q, Dept: in.Dept, Class: in.Class, Sharing: in.Sharing, Grading: in.Grading, Status: in.Status, Node: in.Node}
			if in.Personal != "" {
				b := in.Personal == "true"
				f.Personal = &b
			}
			list, total, err := s.Catalog(ctx, f, in.Limit(), in.Offset())
			if err != nil {
				return nil, err
			}
			return httpx.Reply(httpx.NewPage(list, total, in.PageQuery)), nil
		})
	type exportIn struct {
		CatalogQuery
		httpx.ExportQuery
	}
	httpx.Register(api, httpx.Op{Operation: op("exchange-catalog-export", http.MethodGet, v1+"/resources/export", "Export the catalog (xlsx or csv)"), Perm: authz.ExchangeRead},
		func(ctx context.Context, in *exportIn) (*httpx.File, error) {
			list, _, err := s.Catalog(ctx, CatalogFilter{Q: in.Q, Dept: in.Dept, Class: in.Class, Sharing: in.Sharing, Grading: in.Grading, Status: in.Status, Node: in.Node}, httpx.MaxExportRows, 0)
			if err != nil {
				return nil, err
			}
			header := []string{"资源代码", "资源名称", "分类", "提供方", "提供方代码", "摘要", "格式", "共享类型", "共享条件", "开放属性", "更新周期", "发布日期", "分级", "数据项", "状态", "节点"}
			rows := make([][]string, len(list))
			for i, r := range list {
				items := ""
				for j, it := range r.Items {
					if j > 0 {
						items += "、"
					}
					items += it.NameZh + "(" + it.Name + ":" + it.Type + ")"
				}
				rows[i] = []string{r.Code, r.Name, r.Category, r.ProviderName, r.ProviderCode, r.Summary, r.Format, sharingZh[r.Sharing], r.Conditions,
					r.Opening, r.UpdateCycle, r.ReleaseDate, r.Grading, items, r.Status, r.Node}
			}
			return httpx.Export("catalog", in.Format, header, rows)
		})
	type createIn struct{ Body NewResource }
	httpx.Register(api, httpx.Op{Operation: op("exchange-create-resource", http.MethodPost, v1+"/resources", "Add a resource to the catalog (as a draft)"), Perm: authz.ExchangePublish},
		func(ctx context.Context, in *createIn) (*httpx.Body[*Resource], error) {
			r, err := s.CreateResource(ctx, in.Body)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(r), nil
		})
	httpx.Register(api, httpx.Op{Operation: op("exchange-get-resource", http.MethodGet, v1+"/resources/{id}", "One catalog entry"), Perm: authz.ExchangeRead},
		func(ctx context.Context, in *IDPath) (*httpx.Body[*Resource], error) {
			r, err := s.GetResource(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(r), nil
		})
	type updateIn struct {
		IDPath
		IfVersion int `query:"version" minimum:"0" doc:"The version you edited (optimistic check)"`
		Body      NewResource
	}
	httpx.Register(api, httpx.Op{Operation: op("exchange-update-resource", http.MethodPut, v1+"/resources/{id}", "Change a resource (a new version; every version is kept)"), Perm: authz.ExchangePublish},
		func(ctx context.Context, in *updateIn) (*httpx.Body[*Resource], error) {
			r, err := s.UpdateResource(ctx, in.ID, in.Body, in.IfVersion)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(r), nil
		})
	type statusIn struct {
		IDPath
		Body struct {
			Status string `json:"status" enum:"draft,published,retired"`
		}
	}
	httpx.Register(api, httpx.Op{Operation: op("exchange-resource-status", http.MethodPost, v1+"/resources/{id}/status", "Publish, retire or withdraw a resource"), Perm: authz.ExchangePublish},
		func(ctx context.Context, in *statusIn) (*httpx.Body[*Resource], error) {
			r, err := s.SetStatus(ctx, in.ID, in.Body.Status)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(r), nil
		})
	httpx.Register(api, httpx.Op{Operation: op("exchange-resource-versions", http.MethodGet, v1+"/resources/{id}/versions", "Every version of a resource, newest first"), Perm: authz.ExchangeRead},
		func(ctx context.Context, in *IDPath) (*httpx.Body[[]Resource], error) {
			v, err := s.Versions(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(v), nil
		})
	type loadIn struct {
		IDPath
		Body LoadInput
	}
	httpx.Register(api, httpx.Op{Operation: op("exchange-load", http.MethodPost, v1+"/resources/{id}/records", "Load records into a hosted resource (JSON)"), Perm: authz.ExchangePublish},
		func(ctx context.Context, in *loadIn) (*httpx.Body[*LoadResult], error) {
			r, err := s.Load(ctx, in.ID, in.Body)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(r), nil
		})
	type loadCSVIn struct {
		IDPath
		Replace bool   `query:"replace"`
		RawBody []byte `contentType:"text/csv" doc:"CSV (UTF-8) whose header names the items"`
	}
	httpx.Register(api, httpx.Op{Operation: op("exchange-load-csv", http.MethodPost, v1+"/resources/{id}/records.csv", "Load records into a hosted resource from a CSV file"), Perm: authz.ExchangePublish},
		func(ctx context.Context, in *loadCSVIn) (*httpx.Body[*LoadResult], error) {
			r, err := s.LoadCSV(ctx, in.ID, bytes.NewReader(in.RawBody), in.Replace)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(r), nil
		})
	type sampleIn struct {
		IDPath
		N int `query:"n" minimum:"1" maximum:"50" default:"10"`
	}
	httpx.Register(api, httpx.Op{Operation: op("exchange-sample", http.MethodGet, v1+"/resources/{id}/sample", "A masked sample of a resource's records (its provider)"), Perm: authz.ExchangePublish},
		func(ctx context.Context, in *sampleIn) (*httpx.Body[[]map[string]string], error) {
			r, err := s.Sample(ctx, in.ID, in.N)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(r), nil
		})

	// Quality.
	httpx.Register(api, httpx.Op{Operation: op("exchange-quality", http.MethodGet, v1+"/quality", "Quality dashboard: scores per resource and provider"), Perm: authz.ExchangeRead},
		func(ctx context.Context, _ *struct{}) (*httpx.Body[*QualityBoard], error) {
			b, err := s.Quality(ctx)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(b), nil
		})
	httpx.Register(api, httpx.Op{Operation: op("exchange-resource-quality", http.MethodGet, v1+"/resources/{id}/quality", "Latest quality run of a resource with its failing records (its provider)"), Perm: authz.ExchangeRead},
		func(ctx context.Context, in *IDPath) (*httpx.Body[*QualityRun], error) {
			r, err := s.LatestQuality(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(r), nil
		})
	httpx.Register(api, httpx.Op{Operation: op("exchange-run-quality", http.MethodPost, v1+"/resources/{id}/quality", "Run a resource's quality rules now"), Perm: authz.ExchangePublish},
		func(ctx context.Context, in *IDPath) (*httpx.Body[*QualityRun], error) {
			r, err := s.RunQuality(ctx, in.ID, "manual")
			if err != nil {
				return nil, err
			}
			return httpx.Reply(r), nil
		})

	// Requests and grants.
	type reqListIn struct {
		Role   string `query:"role" enum:"consumer,provider," doc:"consumer: my organisation's requests; provider: requests for my resources"`
		Status string `query:"status" enum:"pending,approved,rejected,refused,"`
		httpx.PageQuery
	}
	httpx.Register(api, httpx.Op{Operation: op("exchange-requests", http.MethodGet, v1+"/requests", "Requests made by or to your organisation"), Perm: authz.ExchangeRead},
		func(ctx context.Context, in *reqListIn) (*httpx.Body[*httpx.Page[Request]], error) {
			list, total, err := s.Requests(ctx, RequestFilter{Role: in.Role, Status: in.Status}, in.Limit(), in.Offset())
			if err != nil {
				return nil, err
			}
			return httpx.Reply(httpx.NewPage(list, total, in.PageQuery)), nil
		})
	type reqIn struct{ Body NewRequest }
	httpx.Register(api, httpx.Op{Operation: op("exchange-request", http.MethodPost, v1+"/requests", "Ask to use a resource (unconditional: granted at once; conditional: the provider decides within 10 working days; not shared: refused)"), Perm: authz.ExchangeRequest},
		func(ctx context.Context, in *reqIn) (*httpx.Body[*Request], error) {
			r, err := s.RequestAccess(ctx, in.Body)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(r), nil
		})
	httpx.Register(api, httpx.Op{Operation: op("exchange-get-request", http.MethodGet, v1+"/requests/{id}", "One request"), Perm: authz.ExchangeRead},
		func(ctx context.Context, in *IDPath) (*httpx.Body[*Request], error) {
			r, err := s.GetRequest(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(r), nil
		})
	type decideIn struct {
		IDPath
		Body Decision
	}
	httpx.Register(api, httpx.Op{Operation: op("exchange-decide", http.MethodPost, v1+"/requests/{id}/decision", "Approve (possibly narrowed) or reject a pending request (the provider)"), Perm: authz.ExchangeDecide},
		func(ctx context.Context, in *decideIn) (*httpx.Body[*Request], error) {
			r, err := s.Decide(ctx, in.ID, in.Body)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(r), nil
		})
	type grantsIn struct {
		Role   string `query:"role" enum:"consumer,provider,"`
		Status string `query:"status" enum:"active,expired,revoked,"`
		httpx.PageQuery
	}
	httpx.Register(api, httpx.Op{Operation: op("exchange-grants", http.MethodGet, v1+"/grants", "Grants held by your organisation or given for your resources"), Perm: authz.ExchangeRead},
		func(ctx context.Context, in *grantsIn) (*httpx.Body[*httpx.Page[Grant]], error) {
			list, total, err := s.Grants(ctx, in.Role, in.Status, in.Limit(), in.Offset())
			if err != nil {
				return nil, err
			}
			return httpx.Reply(httpx.NewPage(list, total, in.PageQuery)), nil
		})
	type revokeIn struct {
		IDPath
		Body struct {
			Reason string `json:"reason" minLength:"2" maxLength:"500"`
		}
	}
	httpx.Register(api, httpx.Op{Operation: op("exchange-revoke", http.MethodPost, v1+"/grants/{id}/revoke", "Revoke a grant at once (the provider)"), Perm: authz.ExchangeDecide},
		func(ctx context.Context, in *revokeIn) (*httpx.Body[*Grant], error) {
			g, err := s.Revoke(ctx, in.ID, in.Body.Reason)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(g), nil
		})

	// Access.
	type queryIn struct{ Body Query }
	httpx.Register(api, httpx.Op{Operation: op("exchange-query", http.MethodPost, v1+"/query", "Query a resource under a grant (by key, keys or filter); only granted fields, masked as agreed; every query and refusal is recorded"), Perm: authz.ExchangeQuery},
		func(ctx context.Context, in *queryIn) (*httpx.Body[*Answer], error) {
			a, err := s.Query(ctx, in.Body)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(a), nil
		})
	type accessListIn struct {
		Role     string `query:"role" enum:"consumer,provider," doc:"consumer: my organisation's accesses; provider: accesses to my resources; auditors see all"`
		Outcome  string `query:"outcome" enum:"ok,refused,"`
		Resource string `query:"resource" maxLength:"40"`
		httpx.PageQuery
	}
	httpx.Register(api, httpx.Op{Operation: op("exchange-access-log", http.MethodGet, v1+"/access", "The access log (accesses and refusals)"), Perm: authz.ExchangeRead},
		func(ctx context.Context, in *accessListIn) (*httpx.Body[*httpx.Page[Access]], error) {
			list, total, err := s.AccessLog(ctx, in.Role, in.Outcome, in.Resource, in.Limit(), in.Offset())
			if err != nil {
				return nil, err
			}
			return httpx.Reply(httpx.NewPage(list, total, in.PageQuery)), nil
		})
	httpx.Register(api, httpx.Op{Operation: op("exchange-access-proof", http.MethodGet, v1+"/access/{id}/proof", "Proof of one access: its batch audit path and the ledger's inclusion proof against a signed checkpoint"), Perm: ""},
		func(ctx context.Context, in *IDPath) (*httpx.Body[*AccessProof], error) {
			p, err := s.ProveAccess(ctx, prover, in.ID)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(p), nil
		})

	// Subscriptions.
	type subIn struct{ Body NewSubscription }
	httpx.Register(api, httpx.Op{Operation: op("exchange-subscribe", http.MethodPost, v1+"/subscriptions", "Subscribe to changes of a resource under a grant (bus or signed webhook)"), Perm: authz.ExchangeQuery},
		func(ctx context.Context, in *subIn) (*httpx.Body[*Subscription], error) {
			sub, err := s.Subscribe(ctx, in.Body)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(sub), nil
		})
	httpx.Register(api, httpx.Op{Operation: op("exchange-subscriptions", http.MethodGet, v1+"/subscriptions", "Your organisation's subscriptions"), Perm: authz.ExchangeQuery},
		func(ctx context.Context, _ *struct{}) (*httpx.Body[[]Subscription], error) {
			list, err := s.Subscriptions(ctx)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(list), nil
		})
	httpx.Register(api, httpx.Op{Operation: op("exchange-unsubscribe", http.MethodDelete, v1+"/subscriptions/{id}", "Cancel a subscription"), Perm: authz.ExchangeQuery},
		func(ctx context.Context, in *IDPath) (*httpx.Body[httpx.Empty], error) {
			if err := s.Unsubscribe(ctx, in.ID); err != nil {
				return nil, err
			}
			return httpx.Reply(httpx.Empty{}), nil
		})

	// Data tracker.
	httpx.Register(api, httpx.Op{Operation: op("exchange-links", http.MethodGet, v1+"/tracker/links", "Your verified links (实名) to a person or enterprise"), Perm: authz.ExchangeTracker},
		func(ctx context.Context, _ *struct{}) (*httpx.Body[[]Link], error) {
			l, err := s.Links(ctx)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(l), nil
		})
	type linkIn struct{ Body LinkInput }
	httpx.Register(api, httpx.Op{Operation: op("exchange-link", http.MethodPost, v1+"/tracker/links", "Link your account to your ID number (citizens) or your enterprise's credit code, verified against the register"), Perm: authz.ExchangeTracker},
		func(ctx context.Context, in *linkIn) (*httpx.Body[*Link], error) {
			l, err := s.LinkSubject(ctx, in.Body)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(l), nil
		})
	type pageIn struct{ httpx.PageQuery }
	httpx.Register(api, httpx.Op{Operation: op("exchange-tracker", http.MethodGet, v1+"/tracker", "数据使用记录: every access to data about you"), Perm: authz.ExchangeTracker},
		func(ctx context.Context, in *pageIn) (*httpx.Body[*httpx.Page[Use]], error) {
			list, total, err := s.Tracker(ctx, in.Limit(), in.Offset())
			if err != nil {
				return nil, err
			}
			return httpx.Reply(httpx.NewPage(list, total, in.PageQuery)), nil
		})
	type myDisputesIn struct {
		Status string `query:"status" enum:"open,accepted,rejected,"`
		httpx.PageQuery
	}
	httpx.Register(api, httpx.Op{Operation: op("exchange-my-disputes", http.MethodGet, v1+"/tracker/disputes", "Your objections and correction requests"), Perm: authz.ExchangeTracker},
		func(ctx context.Context, in *myDisputesIn) (*httpx.Body[*httpx.Page[Dispute]], error) {
			list, total, err := s.Disputes(ctx, "mine", in.Status, in.Limit(), in.Offset())
			if err != nil {
				return nil, err
			}
			return httpx.Reply(httpx.NewPage(list, total, in.PageQuery)), nil
		})
	type disputeIn struct{ Body NewDispute }
	httpx.Register(api, httpx.Op{Operation: op("exchange-raise-dispute", http.MethodPost, v1+"/tracker/disputes", "Object to an access or ask for a correction (数据纠错); it goes to the providing department with a deadline"), Perm: authz.ExchangeTracker},
		func(ctx context.Context, in *disputeIn) (*httpx.Body[*Dispute], error) {
			d, err := s.RaiseDispute(ctx, in.Body)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(d), nil
		})
	httpx.Register(api, httpx.Op{Operation: op("exchange-disputes", http.MethodGet, v1+"/disputes", "Objections and correction requests sent to your department"), Perm: authz.ExchangeRead},
		func(ctx context.Context, in *myDisputesIn) (*httpx.Body[*httpx.Page[Dispute]], error) {
			list, total, err := s.Disputes(ctx, "provider", in.Status, in.Limit(), in.Offset())
			if err != nil {
				return nil, err
			}
			return httpx.Reply(httpx.NewPage(list, total, in.PageQuery)), nil
		})
	type answerIn struct {
		IDPath
		Body struct {
			Accept bool   `json:"accept"`
			Answer string `json:"answer" minLength:"2" maxLength:"1000"`
		}
	}
	httpx.Register(api, httpx.Op{Operation: op("exchange-answer-dispute", http.MethodPost, v1+"/disputes/{id}/answer", "Answer an objection or correction request (the providing department)"), Perm: authz.ExchangeDecide},
		func(ctx context.Context, in *answerIn) (*httpx.Body[*Dispute], error) {
			d, err := s.AnswerDispute(ctx, in.ID, in.Body.Accept, in.Body.Answer)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(d), nil
		})

	// Federation.
	httpx.Register(api, httpx.Op{Operation: op("exchange-nodes", http.MethodGet, v1+"/nodes", "This node and the nodes it knows (parent, children, deeper)"), Perm: authz.ExchangeRead},
		func(ctx context.Context, _ *struct{}) (*httpx.Body[*NodeView], error) {
			v, err := s.Nodes(ctx)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(v), nil
		})
	type inviteIn struct{ Body NodeInvite }
	httpx.Register(api, httpx.Op{Operation: op("exchange-invite-node", http.MethodPost, v1+"/nodes/invitations", "Invite a child node (returns a one-time token for it)"), Perm: authz.ExchangeNodes},
		func(ctx context.Context, in *inviteIn) (*httpx.Body[*Invitation], error) {
			v, err := s.Invite(ctx, in.Body)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(v), nil
		})
	type joinIn struct{ Body JoinInput }
	httpx.Register(api, httpx.Op{Operation: op("exchange-join-parent", http.MethodPost, v1+"/nodes/parent", "Register this node with its parent (with the parent's invitation token)"), Perm: authz.ExchangeNodes},
		func(ctx context.Context, in *joinIn) (*httpx.Body[*Node], error) {
			n, err := s.Join(ctx, in.Body)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(n), nil
		})
	type revokeNodeIn struct {
		IDPath
		Body NodeRevocation
	}
	httpx.Register(api, httpx.Op{Operation: op("exchange-revoke-node", http.MethodPost, v1+"/nodes/{id}/revoke", "Revoke a node at once: its signed requests are refused and nothing is routed to or through it (invite it again to restore it with a new key)"), Perm: authz.ExchangeNodes},
		func(ctx context.Context, in *revokeNodeIn) (*httpx.Body[*Node], error) {
			n, err := s.RevokeNode(ctx, in.ID, in.Body)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(n), nil
		})
	httpx.Register(api, httpx.Op{Operation: op("exchange-sync", http.MethodPost, v1+"/nodes/sync", "Push this node's catalog to its parent and pull the tree's catalog now"), Perm: authz.ExchangeNodes},
		func(ctx context.Context, _ *struct{}) (*httpx.Body[*SyncResult], error) {
			r, err := s.Sync(ctx)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(r), nil
		})
}

var sharingZh = map[string]string{Unconditional: "无条件共享", Conditional: "有条件共享", NotShared: "不予共享"}

// Access is one row of the access log as the consumer, provider or auditor
// sees it.
type Access struct {
	ID           string   `json:"id"`
	At           int64    `json:"at"`
	Consumer     string   `json:"consumer"`
	ConsumerNode string   `json:"consumerNode,omitempty"`
	Actor        string   `json:"actor"`
	Resource     string   `json:"resource"`
	ResourceName string   `json:"resourceName"`
	Grant        string   `json:"grant,omitempty"`
	Fields       []string `json:"fields" nullable:"false"`
	Purpose      string   `json:"purpose,omitempty"`
	Outcome      string   `json:"outcome"`
	Reason       string   `json:"reason,omitempty"`
	Records      int      `json:"records"`
	Subjects     int      `json:"subjects"`
	Batch        int64    `json:"batch" doc:"The epoch anchoring it on the ledger (-1: not yet)"`
	OnLedger     bool     `json:"onLedger"`
}

// AccessLog lists accesses: the caller's organisation's (consumer), those
// to its resources (provider), or all for auditors.
func (s *Service) AccessLog(ctx context.Context, role, outcome, resource string, limit, offset int) ([]Access, int, error) {
	p, err := authz.Require(ctx, authz.ExchangeRead)
	if err != nil {
		return nil, 0, err
	}
	var where string
	var args []any
	switch {
	case p.Has(authz.ExchangeAudit) && role == "":
		where = "1=1"
	case role == "provider":
		if where, args, err = s.sideCond(ctx, p, "provider", ""); err != nil {
			return nil, 0, err
		}
	default:
		where, args = "a.consumer_org = ?", []any{p.OrgID}
	}
	if outcome != "" {
		where += " AND a.outcome = ?"
		args = append(args, outcome)
	}
	if resource != "" {
		where += " AND (r.code = ? OR r.id = ?)"
		args = append(args, resource, resource)
	}
	if err := s.rec.sync(ctx); err != nil {
		return nil, 0, err
	}
	from := ` FROM ex_access a LEFT JOIN ex_resources r ON r.id = a.resource_id JOIN ex_batches b ON b.id = a.batch_id
		LEFT JOIN ex_epochs e ON e.seq = b.epoch WHERE ` + where
	var total int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*)`+from, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.db.Query(ctx, `SELECT a.body, b.epoch, COALESCE(e.ledger_index, -1)`+from+` ORDER BY a.seq DESC LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []Access{}
	for rows.Next() {
		var body string
		var seq, lidx int64
		if err := rows.Scan(&body, &seq, &lidx); err != nil {
			return nil, 0, err
		}
		ab, err := parseBody(body)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, Access{ID: ab.ID, At: ab.At, Consumer: ab.ConsumerName, ConsumerNode: ab.ConsumerNode, Actor: ab.ActorName,
			Resource: ab.Resource, ResourceName: ab.ResourceName, Grant: ab.Grant, Fields: ab.Fields, Purpose: ab.Purpose, Outcome: ab.Outcome,
			Reason: ab.Reason, Records: ab.Records, Subjects: len(ab.Subjects), Batch: seq, OnLedger: lidx >= 0})
	}
	return out, total, rows.Err()
}

func parseBody(body string) (*accessBody, error) {
	var ab accessBody
	if err := json.Unmarshal([]byte(body), &ab); err != nil {
		return nil, err
	}
	return &ab, nil
}
