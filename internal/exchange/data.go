package exchange

import (
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// Hosted data: a provider loads its records into the platform by API
// (JSON), by file (CSV with the items as header) or from the bus. Each
// record is stored encrypted as a whole, bound to its resource and key; a
// personal key (an ID number) is stored as a blind index only.

func (s *Service) sealRow(resID, rk string, vals map[string]string) (string, error) {
	b, err := json.Marshal(vals)
	if err != nil {
		return "", err
	}
	return s.seal(b, "exrow:"+resID+":"+rk)
}

// seal encrypts bound to ad and encodes as base64 (TEXT on every backend).
func (s *Service) seal(pt []byte, ad string) (string, error) {
	ct, err := s.cipher.Encrypt(pt, []byte(ad))
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(ct), nil
}

func (s *Service) unseal(enc, ad string) ([]byte, error) {
	ct, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, err
	}
	return s.cipher.Decrypt(ct, []byte(ad))
}

func (s *Service) openRow(resID, rk string, data string) (map[string]string, error) {
	pt, err := s.unseal(data, "exrow:"+resID+":"+rk)
	if err != nil {
		return nil, fmt.Errorf("exchange: record of %s cannot be decrypted: %w", resID, err)
	}
	var vals map[string]string
	if err := json.Unmarshal(pt, &vals); err != nil {
		return nil, err
	}
	return vals, nil
}

// LoadSubject is the NATS subject prefix on which providers' systems load
// hosted resources: <LoadSubject>.<resource code>, a JSON message
// {"token": API token with exchange:publish, "records": [...], "replace": bool}.
const LoadSubject = "shuzhi.exchange.load"

// LoadResult reports a load.
type LoadResult struct {
	Resource string  `json:"resource"`
	Inserted int     `json:"inserted"`
	Updated  int     `json:"updated"`
	Deleted  int     `json:"deleted"`
	Quality  float64 `json:"quality" doc:"Quality score after the load, -1 when not run"`
}

// LoadInput carries records for a hosted resource.
type LoadInput struct {
	Records []map[string]any `json:"records" maxItems:"100000" doc:"Records as objects of item values"`
	Replace bool             `json:"replace,omitempty" doc:"Replace all records (default: insert or update by key)"`
}

// Load stores records of a hosted resource (the provider only). Every
// record needs a valid key; values are kept as given, and quality rules
// report what is wrong with them. Subscribers are told of the changes.
func (s *Service) Load(ctx context.Context, id string, in LoadInput) (*LoadResult, error) {
	recs := make([]map[string]string, len(in.Records))
	for i, raw := range in.Records {
		m := make(map[string]string, len(raw))
		for k, v := range raw {
			switch x := v.(type) {
			case nil:
			case string:
				m[k] = x
			case float64:
				m[k] = strconv.FormatFloat(x, 'f', -1, 64)
			case bool:
				m[k] = strconv.FormatBool(x)
			case int:
				m[k] = strconv.Itoa(x)
			case int64:
				m[k] = strconv.FormatInt(x, 10)
			default:
				return nil, errs.Invalid(fmt.Sprintf("records[%d].%s", i, k), "type", "values must be strings, numbers or booleans", "值应为字符串、数字或布尔值")
			}
		}
		recs[i] = m
	}
	return s.load(ctx, id, recs, in.Replace, "records")
}

// LoadCSV stores records from CSV whose header names the items.
func (s *Service) LoadCSV(ctx context.Context, id string, body io.Reader, replace bool) (*LoadResult, error) {
	rd := csv.NewReader(body)
	rd.FieldsPerRecord = -1
	header, err := rd.Read()
	if err != nil {
		return nil, errs.Invalid("file", "csv", "the file has no CSV header", "文件缺少 CSV 表头")
	}
	for i := range header {
		header[i] = strings.TrimSpace(strings.TrimPrefix(header[i], "\ufeff"))
	}
	var recs []map[string]string
	for line := 2; ; line++ {
		row, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, errs.Invalid(fmt.Sprintf("file:%d", line), "csv", err.Error(), "CSV 格式错误："+err.Error())
		}
		m := make(map[string]string, len(header))
		for i, h := range header {
			if i < len(row) {
				m[h] = strings.TrimSpace(row[i])
			}
		}
		recs = append(recs, m)
	}
	return s.load(ctx, id, recs, replace, "file")
}

func (s *Service) load(ctx context.Context, id string, recs []map[string]string, replace bool, field string) (*LoadResult, error) {
	p, err := authz.Require(ctx, authz.ExchangePublish)
	if err != nil {
		return nil, err
	}
	r, err := s.getFresh(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.mayManage(ctx, p, r); err != nil {
		return nil, err
	}
	if r.Backend != Hosted {
		return nil, errs.Invalid("resource", "hosted", "only resources hosted by the platform take loads", "只有平台托管的资源可以导入数据")
	}
	kit := r.keyItem()
	type prepared struct {
		rk, subject string
		vals        map[string]string
		data        string
	}
	rows := make([]prepared, 0, len(recs))
	seen := map[string]int{}
	for i, m := range recs {
		for k := range m {
			if _, ok := r.item(k); !ok {
				return nil, errs.Invalid(fmt.Sprintf("%s[%d].%s", field, i, k), "enum", "the resource has no item "+k, "资源没有数据项 "+k)
			}
		}
		key, err := normalizeKey(kit, fmt.Sprintf("%s[%d].%s", field, i, kit.Name), m[kit.Name])
		if err != nil {
			return nil, err
		}
		m[kit.Name] = key
		rk := s.rowKey(kit, key)
		if j, dup := seen[rk]; dup {
			return nil, errs.Invalid(fmt.Sprintf("%s[%d].%s", field, i, kit.Name), "unique", fmt.Sprintf("the same key as record %d", j), fmt.Sprintf("与第 %d 条记录的键重复", j))
		}
		seen[rk] = i
		data, err := s.sealRow(r.ID, rk, m)
		if err != nil {
			return nil, err
		}
		rows = append(rows, prepared{rk: rk, subject: s.subjectOf(kit, key), vals: m, data: data})
	}
	res := &LoadResult{Resource: r.Code, Quality: -1}
	now := s.nowMs()
	var changed []map[string]string
	var changedSubjects []string
	var deliveries []*accessBody // recorded after the commit (the recorder has its own transaction)
	err = s.db.InTx(ctx, func(ctx context.Context) error {
		existing := map[string]string{}
		erows, err := s.db.Query(ctx, `SELECT rkey, data FROM ex_rows WHERE resource_id = ?`, r.ID)
		if err != nil {
			return err
		}
		for erows.Next() {
			var rk, data string
			if err := erows.Scan(&rk, &data); err != nil {
				erows.Close()
				return err
			}
			existing[rk] = data
		}
		erows.Close()
		for _, row := range rows {
			old, ok := existing[row.rk]
			if ok {
				ov, err := s.openRow(r.ID, row.rk, old)
				if err != nil {
					return err
				}
				delete(existing, row.rk)
				if sameValues(ov, row.vals) {
					continue
				}
				if _, err := s.db.Exec(ctx, `UPDATE ex_rows SET data = ?, subject = ?, updated_at = ? WHERE resource_id = ? AND rkey = ?`,
					row.data, row.subject, now, r.ID, row.rk); err != nil {
					return err
				}
				res.Updated++
			} else {
				if _, err := s.db.Exec(ctx, `INSERT INTO ex_rows (resource_id, rkey, subject, data, updated_at) VALUES (?, ?, ?, ?, ?)`,
					r.ID, row.rk, row.subject, row.data, now); err != nil {
					return err
				}
				res.Inserted++
			}
			changed = append(changed, row.vals)
			changedSubjects = append(changedSubjects, row.subject)
		}
		if replace {
			for rk := range existing {
				if _, err := s.db.Exec(ctx, `DELETE FROM ex_rows WHERE resource_id = ? AND rkey = ?`, r.ID, rk); err != nil {
					return err
				}
				res.Deleted++
			}
		}
		if _, err := s.db.Exec(ctx, `UPDATE ex_resources SET last_load = ? WHERE id = ?`, now, r.ID); err != nil {
			return err
		}
		if deliveries, err = s.queueChanges(ctx, r, changed, changedSubjects); err != nil {
			return err
		}
		return s.evidence(ctx, p, "exchange.resource.load", "resource:"+r.Code, "", "",
			map[string]any{"inserted": res.Inserted, "updated": res.Updated, "deleted": res.Deleted})
	})
	if err != nil {
		return nil, err
	}
	s.resources.drop(r.ID)
	s.resources.drop(r.Code)
	for _, b := range deliveries {
		if _, err := s.rec.record(ctx, b); err != nil {
			return nil, err
		}
	}
	if r.Status == Published {
		if run, err := s.RunQuality(ctx, r.ID, "load"); err == nil {
			res.Quality = run.Score
		} else {
			s.log.Warn("exchange: quality after load", "resource", r.Code, "err", err)
		}
	}
	s.kickDeliveries()
	return res, nil
}

func sameValues(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// Sample returns up to n records of a resource for its provider (masked
// like any consumer sees them without clear fields), for the catalog page.
func (s *Service) Sample(ctx context.Context, id string, n int) ([]map[string]string, error) {
	p, err := authz.Require(ctx, authz.ExchangePublish)
	if err != nil {
		return nil, err
	}
	r, err := s.getFresh(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := s.mayManage(ctx, p, r); err != nil {
		return nil, err
	}
	out := []map[string]string{}
	if r.Backend == HTTPAPI {
		return out, nil
	}
	err = s.scan(ctx, r, func(rec record) bool {
		m := make(map[string]string, len(r.Items))
		for _, it := range r.Items {
			v := rec.values[it.Name]
			if it.Personal != "" {
				v = maskValue(it, v)
			}
			m[it.Name] = v
		}
		out = append(out, m)
		return len(out) < n
	})
	return out, err
}
