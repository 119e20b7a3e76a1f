package cases

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/shuzhi-gov/shuzhi/internal/platform/authz"
	"github.com/shuzhi-gov/shuzhi/internal/platform/errs"
	"github.com/shuzhi-gov/shuzhi/internal/platform/httpx"
)

// Sensors publish alarms over MQTT to the embedded broker (topic
// shuzhi/sensors/<device>/alarm, which NATS carries as subject
// shuzhi.sensors.<device>.alarm) and cameras' video analytics POST theirs
// to /api/v1/cases/video-alerts. Rules kept as data (case_alarm_rules) say
// which alarm opens a case of which category; while a case for the same
// device and alarm is open, repeats are counted on it, never opened again.

// SensorSubject is the NATS subject sensors' MQTT alarms arrive on.
const SensorSubject = "shuzhi.sensors.*.alarm"

// AlarmRule says which alarm opens a case of which category.
type AlarmRule struct {
	ID       string   `json:"id"`
	Source   string   `json:"source" enum:"sensor,video"`
	Alarm    string   `json:"alarm"`
	Category string   `json:"category"`
	MinValue *float64 `json:"minValue,omitempty" doc:"Sensors: an alarm opens a case when value >= minValue"`
	MinConf  *float64 `json:"minConfidence,omitempty" doc:"Video: an alert opens a case when confidence >= minConfidence"`
	Note     string   `json:"note"`
}

// SensorAlarm is the JSON payload of a sensor's MQTT message.
type SensorAlarm struct {
	Device    string   `json:"device,omitempty" doc:"Device id (the topic's device segment wins)"`
	Alarm     string   `json:"alarm"`
	Value     *float64 `json:"value,omitempty"`
	Lon       *float64 `json:"lon,omitempty"`
	Lat       *float64 `json:"lat,omitempty"`
	Component string   `json:"component,omitempty"`
	Address   string   `json:"address,omitempty"`
	Message   string   `json:"message,omitempty"`
	At        string   `json:"at,omitempty"`
}

// VideoAlert is a camera's video-analytics alert.
type VideoAlert struct {
	Camera     string   `json:"camera" minLength:"1" maxLength:"64"`
	Alarm      string   `json:"alarm" minLength:"1" maxLength:"64" doc:"e.g. illegal-parking, street-vendor, exposed-garbage"`
	Confidence float64  `json:"confidence" minimum:"0" maximum:"1"`
	Lon        *float64 `json:"lon,omitempty"`
	Lat        *float64 `json:"lat,omitempty"`
	Address    string   `json:"address,omitempty" maxLength:"200"`
	Snapshot   []byte   `json:"snapshot,omitempty" doc:"JPEG snapshot, base64"`
	At         string   `json:"at,omitempty" maxLength:"40"`
}

// AlarmResult says what an alarm did.
type AlarmResult struct {
	Created bool   `json:"created" doc:"A new case was opened"`
	Repeat  bool   `json:"repeat" doc:"Counted on the open case for the same device and alarm"`
	Ignored string `json:"ignored,omitempty" doc:"Why no case: no rule, below threshold"`
	Case    *Case  `json:"case,omitempty"`
}

// AlarmRules lists the rules.
func (s *Service) AlarmRules(ctx context.Context) ([]AlarmRule, error) {
	if _, err := authz.Require(ctx, authz.CasesRead); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, `SELECT id, source, alarm, category, min_value, min_conf, note FROM case_alarm_rules ORDER BY source, alarm`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []AlarmRule{}
	for rows.Next() {
		var r AlarmRule
		var mv, mc sql.NullFloat64
		if err := rows.Scan(&r.ID, &r.Source, &r.Alarm, &r.Category, &mv, &mc, &r.Note); err != nil {
			return nil, err
		}
		if mv.Valid {
			r.MinValue = &mv.Float64
		}
		if mc.Valid {
			r.MinConf = &mc.Float64
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *Service) alarmRule(ctx context.Context, source, alarm string) (*AlarmRule, error) {
	var r AlarmRule
	var mv, mc sql.NullFloat64
	err := s.db.QueryRow(ctx, `SELECT id, source, alarm, category, min_value, min_conf, note FROM case_alarm_rules WHERE source = ? AND alarm = ?`, source, alarm).
		Scan(&r.ID, &r.Source, &r.Alarm, &r.Category, &mv, &mc, &r.Note)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if mv.Valid {
		r.MinValue = &mv.Float64
	}
	if mc.Valid {
		r.MinConf = &mc.Float64
	}
	return &r, err
}

var reDevice = regexp.MustCompile(`^[A-Za-z0-9_:-]{1,64}$`) // no dots: MQTT topic levels map to NATS tokens

// SensorAlarm handles one sensor alarm (device from the MQTT topic).
func (s *Service) SensorAlarm(ctx context.Context, device string, a SensorAlarm) (*AlarmResult, error) {
	if !reDevice.MatchString(device) {
		return nil, errs.Invalid("device", "pattern", "must be 1-64 letters, digits or _:-", "应为 1-64 位字母、数字或 _:-")
	}
	if a.Alarm == "" {
		return nil, errs.Invalid("alarm", "required", "the alarm type is required", "须提供告警类型")
	}
	r, err := s.alarmRule(ctx, "sensor", a.Alarm)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return &AlarmResult{Ignored: "no rule for sensor alarm " + a.Alarm}, nil
	}
	if r.MinValue != nil && (a.Value == nil || *a.Value < *r.MinValue) {
		return &AlarmResult{Ignored: fmt.Sprintf("value below the rule's threshold %g", *r.MinValue)}, nil
	}
	desc := fmt.Sprintf("物联感知告警：%s（设备 %s", r.Note, device)
	if a.Value != nil {
		desc += fmt.Sprintf("，读数 %g", *a.Value)
	}
	desc += "）"
	if a.Message != "" {
		desc += " " + a.Message
	}
	res, err := s.Report(ctx, Report{Channel: "sensor", Category: r.Category, ClassifiedBy: "rule", Description: desc, Address: a.Address, Lon: a.Lon, Lat: a.Lat,
		Component: a.Component, DedupKey: "sensor:" + device + ":" + a.Alarm, ExternalID: device})
	if err != nil {
		return nil, err
	}
	return &AlarmResult{Created: !res.Repeat, Repeat: res.Repeat, Case: res.Case}, nil
}

// VideoAlert handles one video-analytics alert.
func (s *Service) VideoAlert(ctx context.Context, v VideoAlert) (*AlarmResult, error) {
	if !reDevice.MatchString(v.Camera) {
		return nil, errs.Invalid("camera", "pattern", "must be 1-64 letters, digits or _:-", "应为 1-64 位字母、数字或 _:-")
	}
	r, err := s.alarmRule(ctx, "video", v.Alarm)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return &AlarmResult{Ignored: "no rule for video alarm " + v.Alarm}, nil
	}
	if r.MinConf != nil && v.Confidence < *r.MinConf {
		return &AlarmResult{Ignored: fmt.Sprintf("confidence below the rule's threshold %g", *r.MinConf)}, nil
	}
	var photos []Photo
	if len(v.Snapshot) > 0 {
		photos = []Photo{{Mime: "image/jpeg", Data: v.Snapshot}}
	}
	desc := fmt.Sprintf("视频智能识别：%s（摄像机 %s，置信度 %.2f）", r.Note, v.Camera, v.Confidence)
	res, err := s.Report(ctx, Report{Channel: "video", Category: r.Category, ClassifiedBy: "rule", Description: desc, Address: v.Address, Lon: v.Lon, Lat: v.Lat,
		DedupKey: "video:" + v.Camera + ":" + v.Alarm, ExternalID: v.Camera, Photos: photos})
	if err != nil {
		if fe := errs.CodeOf(err); fe == errs.CodeInvalid && strings.Contains(err.Error(), "photos") {
			return nil, errs.Invalid("snapshot", "content", "must be a JPEG image up to 5 MB", "须为不超过 5 MB 的 JPEG 图片")
		}
		return nil, err
	}
	return &AlarmResult{Created: !res.Repeat, Repeat: res.Repeat, Case: res.Case}, nil
}

// HandleSensorMessage decodes an MQTT alarm from its subject
// (shuzhi.sensors.<device>.alarm) and payload.
func (s *Service) HandleSensorMessage(ctx context.Context, subject string, data []byte) (*AlarmResult, error) {
	parts := strings.Split(subject, ".")
	if len(parts) != 4 {
		return nil, errs.Invalid("topic", "pattern", "must be shuzhi/sensors/<device>/alarm", "主题应为 shuzhi/sensors/<设备>/alarm")
	}
	var a SensorAlarm
	if err := json.Unmarshal(data, &a); err != nil {
		return nil, errs.Invalid("payload", "json", "must be a JSON object: "+err.Error(), "须为 JSON 对象")
	}
	return s.SensorAlarm(ctx, parts[2], a)
}

func (s *Service) alarmRoutes(api huma.API) {
	httpx.Register(api, httpx.Op{Operation: op("video-alert", http.MethodPost, v1+"/cases/video-alerts", "A video-analytics alert: opens a case when a rule says so, never twice for the same camera and alarm while open"), Perm: authz.CasesReport},
		func(ctx context.Context, in *struct{ Body VideoAlert }) (*httpx.Body[*AlarmResult], error) {
			r, err := s.VideoAlert(ctx, in.Body)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(r), nil
		})
	httpx.Register(api, httpx.Op{Operation: op("list-case-alarm-rules", http.MethodGet, v1+"/case-alarm-rules", "Which sensor and video alarms open cases"), Perm: authz.CasesRead},
		func(ctx context.Context, _ *struct{}) (*httpx.Body[[]AlarmRule], error) {
			out, err := s.AlarmRules(ctx)
			if err != nil {
				return nil, err
			}
			return httpx.Reply(out), nil
		})
}
