package cases

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
)

// The GeoReport v2 wire types. JSON follows the spec's Spark convention:
// a list is a bare JSON array whose XML form is a root element holding one
// child element per item (services/service, service_requests/request,
// errors/error). Optional values the spec says "may not be returned" are
// JSON null and left out of the XML.

// o311Discovery is the Service Discovery document.
type o311Discovery struct {
	XMLName    xml.Name       `json:"-" xml:"discovery"`
	Changeset  string         `json:"changeset" xml:"changeset"`
	Contact    string         `json:"contact" xml:"contact"`
	KeyService string         `json:"key_service" xml:"key_service"`
	Endpoints  []o311Endpoint `json:"endpoints" xml:"endpoints>endpoint"`
}

type o311Endpoint struct {
	Specification string   `json:"specification" xml:"specification"`
	URL           string   `json:"url" xml:"url"`
	Changeset     string   `json:"changeset" xml:"changeset"`
	Type          string   `json:"type" xml:"type"`
	Formats       []string `json:"formats" xml:"formats>format"`
}

// o311Service is one service (request type): one active category.
type o311Service struct {
	ServiceCode string `json:"service_code" xml:"service_code"`
	ServiceName string `json:"service_name" xml:"service_name"`
	Description string `json:"description" xml:"description"`
	Metadata    bool   `json:"metadata" xml:"metadata"`
	Type        string `json:"type" xml:"type"`
	Keywords    string `json:"keywords" xml:"keywords"`
	Group       string `json:"group" xml:"group"`
}

// o311Definition is a service definition. No category asks for extra
// attributes, so the list is empty; the structure is the spec's.
type o311Definition struct {
	XMLName     xml.Name       `json:"-" xml:"service_definition"`
	ServiceCode string         `json:"service_code" xml:"service_code"`
	Attributes  o311Attributes `json:"attributes" xml:"attributes"`
}

type o311Attributes struct {
	Items []o311Attribute `xml:"attribute"`
}

// MarshalJSON writes the attributes as the bare array of the spec.
func (a o311Attributes) MarshalJSON() ([]byte, error) {
	if a.Items == nil {
		return []byte("[]"), nil
	}
	return json.Marshal(a.Items)
}

type o311Attribute struct {
	Variable            bool        `json:"variable" xml:"variable"`
	Code                string      `json:"code" xml:"code"`
	Datatype            string      `json:"datatype" xml:"datatype"`
	Required            bool        `json:"required" xml:"required"`
	DatatypeDescription *string     `json:"datatype_description" xml:"datatype_description,omitempty"`
	Order               int         `json:"order" xml:"order"`
	Description         string      `json:"description" xml:"description"`
	Values              []o311Value `json:"values,omitempty" xml:"values>value,omitempty"`
}

type o311Value struct {
	Key  string `json:"key" xml:"key"`
	Name string `json:"name" xml:"name"`
}

// o311Request is a service request as the public may read it: no
// reporter's data, no internal notes.
type o311Request struct {
	ServiceRequestID  string  `json:"service_request_id" xml:"service_request_id"`
	Status            string  `json:"status" xml:"status"`
	StatusNotes       *string `json:"status_notes" xml:"status_notes,omitempty"`
	ServiceName       string  `json:"service_name" xml:"service_name"`
	ServiceCode       string  `json:"service_code" xml:"service_code"`
	Description       string  `json:"description" xml:"description"`
	AgencyResponsible *string `json:"agency_responsible" xml:"agency_responsible,omitempty"`
	ServiceNotice     *string `json:"service_notice" xml:"service_notice,omitempty"`
	RequestedDatetime string  `json:"requested_datetime" xml:"requested_datetime"`
	UpdatedDatetime   string  `json:"updated_datetime" xml:"updated_datetime"`
	ExpectedDatetime  *string `json:"expected_datetime" xml:"expected_datetime,omitempty"`
	Address           *string `json:"address" xml:"address,omitempty"`
	Lat               float64 `json:"lat" xml:"lat"`
	Long              float64 `json:"long" xml:"long"`
}

// o311Created answers POST requests: the id at once (type realtime).
type o311Created struct {
	ServiceRequestID string  `json:"service_request_id" xml:"service_request_id"`
	ServiceNotice    *string `json:"service_notice" xml:"service_notice,omitempty"`
	AccountID        *string `json:"account_id" xml:"account_id,omitempty"`
}

// o311Token resolves a token to its request.
type o311Token struct {
	ServiceRequestID string `json:"service_request_id" xml:"service_request_id"`
	Token            string `json:"token" xml:"token"`
}

type o311Error struct {
	Code        int    `json:"code" xml:"code"`
	Description string `json:"description" xml:"description"`
}

// XML roots of the lists.
type (
	xmlServices struct {
		XMLName xml.Name      `xml:"services"`
		Items   []o311Service `xml:"service"`
	}
	xmlRequests[T any] struct {
		XMLName xml.Name `xml:"service_requests"`
		Items   []T      `xml:"request"`
	}
	xmlErrors struct {
		XMLName xml.Name    `xml:"errors"`
		Items   []o311Error `xml:"error"`
	}
)

// o311Write sends v as JSON or XML (the spec's content types, UTF-8).
func o311Write(w http.ResponseWriter, format string, status int, jsonV, xmlV any) {
	var body []byte
	var err error
	if format == "json" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		body, err = json.Marshal(jsonV)
	} else {
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		body, err = xml.MarshalIndent(xmlV, "", "  ")
		body = append([]byte(xml.Header), body...)
	}
	if err != nil {
		http.Error(w, "encoding failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// o311Fail sends the spec's error list with the HTTP status.
func o311Fail(w http.ResponseWriter, format string, status int, description string) {
	list := []o311Error{{Code: status, Description: description}}
	o311Write(w, format, status, list, xmlErrors{Items: list})
}
