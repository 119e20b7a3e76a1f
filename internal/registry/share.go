package registry

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
	"github.com/shuzhi-gov/shuzhi/internal/platform/idcode"
)

// The registry's datasets are published in the exchange's catalog by their
// authoritative departments (people: 公安, enterprises: 市场监管, buildings:
// 住建, components: their owners, 城管 for most). The exchange reads them in clear through ShareLookup and
// ShareList, under the permission registry:share that no role holds, and
// governs every use itself: grant, fields, masking, quota and the access
// record on the ledger. These reads therefore emit no registry evidence.

// ShareRow is one record of a shared dataset in clear.
type ShareRow struct {
	Key, Subject string
	Values       map[string]string
	UpdatedAt    time.Time
}

func (s *Service) personValues(r *personScan) (map[string]string, error) {
	dec := func(enc, field string) (string, error) {
		if enc == "" {
			return "", nil
		}
		return s.decrypt(enc, "person."+field+":"+r.ID)
	}
	id, err := dec(r.idEnc, "idNumber")
	if err != nil {
		return nil, err
	}
	name, err := dec(r.nameEnc, "name")
	if err != nil {
		return nil, err
	}
	phone, err := dec(r.phoneEnc, "phone")
	if err != nil {
		return nil, err
	}
	return map[string]string{"idNumber": id, "name": name, "sex": r.Sex, "birthYear": strconv.Itoa(r.BirthYear),
		"hukouDivision": r.HukouDivision, "householdNumber": r.HouseholdNumber, "relation": r.Relation, "address": r.Address,
		"phone": phone, "status": r.Status, "gridCode": r.GridCode}, nil
}

// ShareLookup returns one record of a dataset (people by ID number,
// entities by credit code, buildings by code) in clear, with the subject
// reference; errs.NotFound when absent.
func (s *Service) ShareLookup(ctx context.Context, dataset, key string) (map[string]string, string, error) {
	if _, err := authz.Require(ctx, authz.RegistryShare); err != nil {
		return nil, "", err
	}
	switch dataset {
	case "people":
		cid, err := idcode.ParseCitizenID("key", key)
		if err != nil {
			return nil, "", err
		}
		r, err := scanPerson(s.db.QueryRow(ctx, `SELECT `+personCols+personFrom+` WHERE p.id_blind = ?`, s.blind("id", cid.Number)))
		if errors.Is(err, sql.ErrNoRows) {
			return nil, "", errs.NotFound("person", idcode.MaskCitizenID(cid.Number))
		}
		if err != nil {
			return nil, "", err
		}
		vals, err := s.personValues(r)
		return vals, "person:" + r.blind, err
	case "entities":
		e, err := s.shareEntity(s.db.QueryRow(ctx, `SELECT `+entityCols+` FROM reg_entities WHERE credit_code = ?`, key))
		if errors.Is(err, sql.ErrNoRows) {
			return nil, "", errs.NotFound("entity", key)
		}
		if err != nil {
			return nil, "", err
		}
		return e.Values, e.Subject, nil
	case "buildings":
		b, _, err := scanBuilding(s.db.QueryRow(ctx, `SELECT `+buildingCols+` FROM reg_buildings b WHERE b.code = ?`, key))
		if errors.Is(err, sql.ErrNoRows) {
			return nil, "", errs.NotFound("building", key)
		}
		if err != nil {
			return nil, "", err
		}
		return buildingValues(b), "", nil
	case "components":
		c, _, err := scanComponent(s.db.QueryRow(ctx, `SELECT `+componentCols+componentFrom+` WHERE c.code = ?`, key))
		if errors.Is(err, sql.ErrNoRows) {
			return nil, "", errs.NotFound("component", key)
		}
		if err != nil {
			return nil, "", err
		}
		return componentValues(c), "", nil
	}
	return nil, "", errs.Invalid("dataset", "enum", "unknown dataset "+dataset, "未知数据集 "+dataset)
}

func buildingValues(b *Building) map[string]string {
	return map[string]string{"code": b.Code, "name": b.Name, "address": b.Address, "useType": b.UseType, "floors": strconv.Itoa(b.Floors),
		"gridCode": b.GridCode, "lon": strconv.FormatFloat(b.Lon, 'f', 6, 64), "lat": strconv.FormatFloat(b.Lat, 'f', 6, 64)}
}

func componentValues(c *Component) map[string]string {
	return map[string]string{"code": c.Code, "class": c.Major + c.Minor, "className": c.ClassName, "name": c.Name, "state": c.State,
		"ownerDept": c.OwnerDept, "address": c.Address, "gridCode": c.GridCode, "lon": strconv.FormatFloat(c.Lon, 'f', 6, 64), "lat": strconv.FormatFloat(c.Lat, 'f', 6, 64)}
}

func (s *Service) shareEntity(sc interface{ Scan(...any) error }) (*ShareRow, error) {
	e, _, _, err := s.scanEntity(sc, view{clear: map[string]bool{"legalRep": true}})
	if err != nil {
		return nil, err
	}
	return &ShareRow{Key: e.CreditCode, Subject: "entity:" + e.CreditCode, UpdatedAt: time.UnixMilli(e.UpdatedAt),
		Values: map[string]string{"creditCode": e.CreditCode, "name": e.Name, "kind": e.Kind, "legalRep": e.LegalRep, "industry": e.Industry,
			"address": e.Address, "status": e.Status, "established": e.Established, "gridCode": e.GridCode}}, nil
}

// ShareList returns records of a dataset in key order, in clear.
func (s *Service) ShareList(ctx context.Context, dataset string, limit, offset int) ([]ShareRow, int, error) {
	if _, err := authz.Require(ctx, authz.RegistryShare); err != nil {
		return nil, 0, err
	}
	var table, q string
	switch dataset {
	case "people":
		table, q = "reg_people", `SELECT `+personCols+personFrom+` ORDER BY p.id LIMIT ? OFFSET ?`
	case "entities":
		table, q = "reg_entities", `SELECT `+entityCols+` FROM reg_entities ORDER BY credit_code LIMIT ? OFFSET ?`
	case "buildings":
		table, q = "reg_buildings", `SELECT `+buildingCols+` FROM reg_buildings b ORDER BY b.code LIMIT ? OFFSET ?`
	case "components":
		table, q = "reg_components", `SELECT `+componentCols+componentFrom+` ORDER BY c.code LIMIT ? OFFSET ?`
	default:
		return nil, 0, errs.Invalid("dataset", "enum", "unknown dataset "+dataset, "未知数据集 "+dataset)
	}
	var total int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM `+table).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.db.Query(ctx, q, limit, offset)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []ShareRow
	for rows.Next() {
		switch dataset {
		case "people":
			r, err := scanPerson(rows)
			if err != nil {
				return nil, 0, err
			}
			vals, err := s.personValues(r)
			if err != nil {
				return nil, 0, err
			}
			out = append(out, ShareRow{Key: vals["idNumber"], Subject: "person:" + r.blind, Values: vals, UpdatedAt: time.UnixMilli(r.UpdatedAt)})
		case "entities":
			e, err := s.shareEntity(rows)
			if err != nil {
				return nil, 0, err
			}
			out = append(out, *e)
		case "buildings":
			b, _, err := scanBuilding(rows)
			if err != nil {
				return nil, 0, err
			}
			out = append(out, ShareRow{Key: b.Code, Values: buildingValues(b), UpdatedAt: time.UnixMilli(b.UpdatedAt)})
		case "components":
			c, _, err := scanComponent(rows)
			if err != nil {
				return nil, 0, err
			}
			out = append(out, ShareRow{Key: c.Code, Values: componentValues(c), UpdatedAt: time.UnixMilli(c.UpdatedAt)})
		}
	}
	return out, total, rows.Err()
}
