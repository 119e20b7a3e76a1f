package registry

import (
	"context"
	"slices"
	"strings"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
)

// Purpose allows clear values of some personal fields to some roles.
type Purpose struct {
	Code   string   `json:"code"`
	NameZh string   `json:"nameZh"`
	NameEn string   `json:"nameEn"`
	Basis  string   `json:"basis" doc:"Legal basis shown to the person concerned"`
	Fields []string `json:"fields" doc:"Personal fields shown in clear for this purpose"`
	Roles  []string `json:"roles" doc:"Roles that may state this purpose"`
}

// view is what one read may show in clear.
type view struct {
	purpose *Purpose
	clear   map[string]bool
}

func (v view) shows(field string) bool { return v.clear[field] }

// Purposes lists the purposes the caller may state (all of them with
// allowed=false entries left out).
func (s *Service) Purposes(ctx context.Context) ([]Purpose, error) {
	p, err := authz.Require(ctx, authz.RegistryRead)
	if err != nil {
		return nil, err
	}
	all, err := s.allPurposes(ctx)
	if err != nil {
		return nil, err
	}
	var out []Purpose
	for _, pu := range all {
		if p.Nationwide || slices.ContainsFunc(pu.Roles, func(r string) bool { return p.HasRole(authz.Role(r)) }) {
			out = append(out, pu)
		}
	}
	return out, nil
}

func (s *Service) allPurposes(ctx context.Context) ([]Purpose, error) {
	rows, err := s.db.Query(ctx, `SELECT code, name_zh, name_en, basis, fields, roles FROM reg_purposes ORDER BY code`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Purpose
	for rows.Next() {
		var pu Purpose
		var fields, roles string
		if err := rows.Scan(&pu.Code, &pu.NameZh, &pu.NameEn, &pu.Basis, &fields, &roles); err != nil {
			return nil, err
		}
		pu.Fields, pu.Roles = strings.Split(fields, ","), strings.Split(roles, ",")
		out = append(out, pu)
	}
	return out, rows.Err()
}

// viewFor resolves a stated purpose ("" = none: everything masked). A
// purpose the caller's roles may not state is refused, not ignored, so
// that nobody believes they saw clear values they did not.
func (s *Service) viewFor(ctx context.Context, p *authz.Principal, code string) (view, error) {
	if code == "" {
		return view{}, nil
	}
	all, err := s.allPurposes(ctx)
	if err != nil {
		return view{}, err
	}
	i := slices.IndexFunc(all, func(pu Purpose) bool { return pu.Code == code })
	if i < 0 {
		return view{}, errs.Invalid("purpose", "known", "unknown purpose "+code, "未知的用途："+code)
	}
	pu := all[i]
	if !p.Nationwide && !slices.ContainsFunc(pu.Roles, func(r string) bool { return p.HasRole(authz.Role(r)) }) {
		return view{}, errs.Forbidden("your roles may not state the purpose "+code, "您的角色不能以“"+pu.NameZh+"”为用途查看明文")
	}
	v := view{purpose: &pu, clear: map[string]bool{}}
	for _, f := range pu.Fields {
		v.clear[f] = true
	}
	return v, nil
}

// disclose records on the ledger that personal fields of the given
// subjects were shown in clear.
func (s *Service) disclose(ctx context.Context, v view, subjects []string, fields []string) error {
	if v.purpose == nil || len(subjects) == 0 || len(fields) == 0 {
		return nil
	}
	subject := subjects[0]
	if len(subjects) > 1 {
		subject = "people:" + s.blind("list", strings.Join(subjects, ","))
	}
	return s.evidence(ctx, "registry.disclose", subject, v.purpose.Code, v.purpose.Basis,
		map[string]any{"subjects": subjects, "fields": fields})
}
