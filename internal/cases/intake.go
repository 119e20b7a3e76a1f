package cases

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
	"github.com/shuzhi-gov/shuzhi/internal/platform/httpx"
)

// Photo is an image attached to a case step.
type Photo struct {
	Mime string `json:"mime"`
	Data []byte `json:"data"`
}

// Limits of photos.
const (
	MaxPhotoBytes = 5 << 20
	MaxPhotos     = 6
)

// Report is a new case from any channel.
type Report struct {
	Channel     string   `json:"channel" enum:"grid,portal,open311,hotline,sensor,video,referral"`
	Category    string   `json:"category,omitempty" doc:"Category code when the reporter knows it; else the classifier picks one"`
	Description string   `json:"description" maxLength:"2000"`
	Address     string   `json:"address,omitempty" maxLength:"200"`
	Lon         *float64 `json:"lon,omitempty" doc:"WGS84 longitude (GPS or the map); optional when a component is given"`
	Lat         *float64 `json:"lat,omitempty"`
	Component   string   `json:"component,omitempty" doc:"Managed component's code, when the case is about one"`
	// Reporter's contact (public and hotline channels); stored encrypted,
	// shown masked.
	ReporterName  string `json:"reporterName,omitempty" maxLength:"50"`
	ReporterPhone string `json:"reporterPhone,omitempty" maxLength:"20"`
	ExternalID    string `json:"externalId,omitempty" maxLength:"64"`
	// DedupKey identifies the thing a sensor or camera reports about
	// (device and alarm type): while a case with the key is open, repeats
	// are counted on it instead of opening another.
	DedupKey string  `json:"-"`
	Photos   []Photo `json:"-"`
	// ClassifiedBy overrides who picked the category (rule for alarms).
	ClassifiedBy string `json:"-"`
	// Token is the Open311 token given to the client.
	Token string `json:"-"`
}

// Intake is what a report became.
type Intake struct {
	Case *Case `json:"case"`
	// Repeat is set when the report was counted on an open case with the
	// same sensor or camera key instead of opening a new one.
	Repeat bool `json:"repeat"`
	// Suggestions are open cases that may be the same thing (near in space
	// and time, same component, similar text), for the operator to merge.
	Suggestions []Suggestion `json:"suggestions"`
	// Candidates are the classifier's top categories.
	Candidates []Candidate `json:"candidates"`
}

// Candidate is a category the classifier proposes.
type Candidate struct {
	Code       string  `json:"code"`
	Name       string  `json:"name"`
	Confidence float64 `json:"confidence"`
}

// Suggestion is a possible duplicate.
type Suggestion struct {
	ID          string  `json:"id"`
	No          string  `json:"no"`
	State       State   `json:"state"`
	Category    string  `json:"category"`
	Description string  `json:"description"`
	DistanceM   float64 `json:"distanceM"`
	Similarity  float64 `json:"similarity"`
	Reason      string  `json:"reason" enum:"component,text,place"`
}

var photoMagic = map[string][]byte{"image/jpeg": {0xFF, 0xD8, 0xFF}, "image/png": {0x89, 'P', 'N', 'G'}, "image/webp": []byte("RIFF")}

func checkPhotos(field string, ps []Photo) error {
	if len(ps) > MaxPhotos {
		return errs.Invalid(field, "maxItems", fmt.Sprintf("at most %d photos", MaxPhotos), fmt.Sprintf("最多 %d 张照片", MaxPhotos))
	}
	for i, p := range ps {
		f := fmt.Sprintf("%s[%d]", field, i)
		magic, ok := photoMagic[p.Mime]
		if !ok {
			return errs.Invalid(f, "type", "must be a JPEG, PNG or WebP image", "须为 JPEG、PNG 或 WebP 图片")
		}
		if !bytes.HasPrefix(p.Data, magic) {
			return errs.Invalid(f, "content", "the file is not a "+p.Mime+" image", "文件内容不是 "+p.Mime+" 图片")
		}
		if len(p.Data) > MaxPhotoBytes {
			return errs.Invalid(f, "maxSize", "must be at most 5 MB", "不能超过 5 MB")
		}
	}
	return nil
}

// Report takes a case from any channel: it places it, classifies it, looks
// for duplicates and, when the category is certain enough and a unit is
// found, files and dispatches it at once (智能分拨); otherwise it waits in
// the operators' queue.
func (s *Service) Report(ctx context.Context, r Report) (*Intake, error) {
	p, err := authz.Require(ctx, authz.CasesReport)
	if err != nil {
		return nil, err
	}
	pr, err := s.prepare(ctx, p, r)
	if err != nil {
		return nil, err
	}
	res, err := s.intake.submit(ctx, pr)
	if err != nil {
		return nil, err
	}
	return res, nil
}

// prepared is a report checked and enriched, ready for the intake writer.
type prepared struct {
	p      *authz.Principal
	c      *Case
	events []*Event
	photos []Photo
	rep    Report
	out    *Intake
	reqID  string
}

func (s *Service) prepare(ctx context.Context, p *authz.Principal, r Report) (*prepared, error) {
	if !slices.Contains(Channels, r.Channel) {
		return nil, errs.Invalid("channel", "enum", "must be one of "+strings.Join(Channels, ", "), "应为 "+strings.Join(Channels, "、")+" 之一")
	}
	r.Description = strings.TrimSpace(r.Description)
	if n := utf8.RuneCountInString(r.Description); n < 4 || n > 2000 {
		return nil, errs.Invalid("description", "length", "must be 4 to 2000 characters", "应为 4 至 2000 个字符")
	}
	if err := checkPhotos("photos", r.Photos); err != nil {
		return nil, err
	}
	if r.ReporterPhone != "" && !rePhone.MatchString(r.ReporterPhone) {
		return nil, errs.Invalid("reporterPhone", "pattern", "must be a mobile (11 digits) or landline number", "应为 11 位手机号或固话号码")
	}
	var comp *ComponentRef
	if r.Component != "" {
		c, err := s.dir.Component(ctx, r.Component)
		if errs.CodeOf(err) == errs.CodeNotFound {
			return nil, errs.Invalid("component", "exists", "no managed component has this code", "没有此编码的部件")
		}
		if err != nil {
			return nil, err
		}
		comp = c
		if r.Lon == nil || r.Lat == nil {
			r.Lon, r.Lat = &c.Lon, &c.Lat
		}
		if r.Address == "" {
			r.Address = c.Address
		}
	}
	if r.Lon == nil || r.Lat == nil {
		return nil, errs.Invalid("lon", "required", "a location (lon and lat) or a component is required", "须提供位置（经纬度）或部件编码")
	}
	lon, lat := *r.Lon, *r.Lat
	if math.IsNaN(lon) || lon < -180 || lon > 180 {
		return nil, errs.Invalid("lon", "range", "must be within [-180, 180]", "应在 [-180, 180] 之间")
	}
	if math.IsNaN(lat) || lat < -90 || lat > 90 {
		return nil, errs.Invalid("lat", "range", "must be within [-90, 90]", "应在 [-90, 90] 之间")
	}
	place, err := s.dir.Locate(ctx, lon, lat)
	if errs.CodeOf(err) == errs.CodeNotFound {
		return nil, errs.Invalid("lon", "grid", "the location is outside every unit grid of the city", "该位置不在本市任何单元网格内")
	}
	if err != nil {
		return nil, err
	}
	// Staff and grid workers report inside their own region; the public
	// and machines anywhere in the city.
	if p.Kind == authz.KindUser && (p.HasRole(authz.GridWorker) || p.HasRole(authz.DeptStaff)) && !p.InScope(place.Grid) && !p.HasRole(authz.Supervisor) {
		return nil, errs.Forbidden("the location is outside your region", "该位置不在您的管辖范围内")
	}
	now := s.nowMs()
	c := &Case{ID: newID(), Channel: r.Channel, State: Reported, Description: r.Description, Address: strings.TrimSpace(r.Address), Lon: lon, Lat: lat,
		Grid: place.Grid, GridName: place.GridName, RespGrid: place.Resp, Community: place.Community, Street: place.Street, District: place.District,
		DedupKey: r.DedupKey, ExternalID: r.ExternalID, Version: 1, CreatedAt: now, UpdatedAt: now, token: r.Token}
	if comp != nil {
		c.Component = comp.Code
	}
	switch {
	case p.Kind == authz.KindSystem:
		c.ReporterKind, c.ReporterID = "system", p.ID
	case p.HasRole(authz.Citizen) || p.HasRole(authz.Enterprise):
		c.ReporterKind, c.ReporterID = "user", p.ID
	default:
		c.ReporterKind, c.ReporterID = "user", p.ID
	}
	if r.Channel == "hotline" || r.Channel == "open311" {
		c.ReporterKind = "public"
		if p.Kind == authz.KindUser && r.Channel == "hotline" {
			c.ReporterID = "" // the caller, not the operator, is the reporter
		}
	}
	if c.reporterName, err = s.seal(r.ReporterName, c.ID, "name"); err != nil {
		return nil, err
	}
	if c.reporterPhone, err = s.seal(r.ReporterPhone, c.ID, "phone"); err != nil {
		return nil, err
	}
	c.Reporter = maskReporter(r.ReporterName, r.ReporterPhone)
	if c.Reporter == "" && p.Kind == authz.KindUser && c.ReporterID != "" {
		c.Reporter = p.DisplayName
		if p.HasRole(authz.Citizen) || p.HasRole(authz.Enterprise) {
			c.Reporter = maskReporter(p.DisplayName, "")
		}
	}
	out := &Intake{Case: c, Suggestions: []Suggestion{}, Candidates: []Candidate{}}

	// Category: the reporter's, the component's class, or the classifier's.
	switch {
	case r.Category != "":
		cat, ok := s.category(r.Category)
		if !ok || !cat.Active {
			return nil, errs.Invalid("category", "exists", "no active category has this code", "没有此代码的有效类别")
		}
		c.Category, c.Confidence, c.ClassifiedBy = cat.Code, 1, "reporter"
		if r.ClassifiedBy != "" {
			c.ClassifiedBy = r.ClassifiedBy
		}
	case comp != nil:
		if cat, ok := s.category("B" + comp.Class); ok && cat.Active {
			c.Category, c.Confidence, c.ClassifiedBy = cat.Code, 1, "rule"
		}
	}
	for _, sc := range s.predict(r.Description) {
		name := ""
		if cat, ok := s.category(sc.Label); ok {
			name = cat.NameZh
		}
		out.Candidates = append(out.Candidates, Candidate{Code: sc.Label, Name: name, Confidence: sc.Confidence})
	}
	if c.Category == "" && len(out.Candidates) > 0 {
		c.Category, c.Confidence, c.ClassifiedBy = out.Candidates[0].Code, out.Candidates[0].Confidence, "model"
	}

	if cat, ok := s.category(c.Category); ok {
		c.CategoryName = cat.NameZh
	}
	actor := actorOf(p)
	ev := func(action string, from, to State, note string, data any) *Event {
		e := &Event{ID: newID(), Action: action, From: from, To: to, ActorKind: actor.kind, ActorID: actor.id, ActorName: actor.name, OrgID: actor.org, Note: note, At: now}
		if data != nil {
			e.Data = []byte(mustJSON(data))
		}
		return e
	}
	pr := &prepared{p: p, c: c, photos: r.Photos, rep: r, out: out, reqID: httpx.RequestID(ctx)}
	pr.events = append(pr.events, ev("report", "", Reported, "", map[string]any{"channel": c.Channel, "category": c.Category, "confidence": c.Confidence, "classifiedBy": c.ClassifiedBy,
		"grid": c.Grid, "component": c.Component, "photos": len(r.Photos)}))

	if c.DedupKey == "" {
		sugg, err := s.duplicates(ctx, c)
		if err != nil {
			return nil, err
		}
		out.Suggestions = sugg
	}
	// Smart dispatch: file and dispatch at once when the category is sure
	// and no likely duplicate needs an operator's look.
	cat, ok := s.category(c.Category)
	if !ok || c.Confidence < s.auto || len(out.Suggestions) > 0 {
		return pr, nil
	}
	dept, why, err := s.deptFor(ctx, cat, c.Grid, comp)
	if err != nil {
		return nil, err
	}
	unit, err := s.dir.UnitFor(ctx, dept, c.Grid)
	if errs.CodeOf(err) == errs.CodeNotFound {
		return pr, nil // no such unit here: the operator decides
	}
	if err != nil {
		return nil, err
	}
	sys := actorRef{kind: "system", id: "smart-dispatch", name: "智能分拨"}
	c.FiledAt = now
	pr.events = append(pr.events, sys.event("file", Reported, Filed, "", map[string]any{"criteria": cat.Filing}, now))
	if err := s.assign(ctx, c, dept, unit, now); err != nil {
		return nil, err
	}
	pr.events = append(pr.events, sys.event("dispatch", Filed, Dispatched, "", map[string]any{"dept": dept, "orgId": unit.ID, "orgName": unit.Name, "rule": why,
		"deadlineAt": c.DeadlineAt, "confidence": c.Confidence}, now))
	return pr, nil
}

var rePhone = mustRe(`^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8}|[0-9]{5,8})$`)

// actorRef is who acted.
type actorRef struct{ kind, id, name, org string }

func actorOf(p *authz.Principal) actorRef {
	name := p.DisplayName
	if name == "" {
		name = p.Name
	}
	return actorRef{kind: string(p.Kind), id: p.ID, name: name, org: p.OrgID}
}

func (a actorRef) event(action string, from, to State, note string, data any, at int64) *Event {
	e := &Event{ID: newID(), Action: action, From: from, To: to, ActorKind: a.kind, ActorID: a.id, ActorName: a.name, OrgID: a.org, Note: note, At: at}
	if data != nil {
		e.Data = []byte(mustJSON(data))
	}
	return e
}

func photoHash(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
